// The guided way to add a habit (/habits add with nothing after it): name → how it is measured
// → amount per session → days per week, with buttons where there are few sensible answers.
// The draft so far lives in the text of the bot's own question (Telegram hands that message back
// with the reply or button press), so the flow needs no server-side state and survives restarts.
import { Composer } from "telegraf";
import { message } from "telegraf/filters";
import type { InlineKeyboardButton } from "telegraf/types";
import { habitCalled } from "../../app/habits.js";
import { nameProblem } from "../../coach/index.js";
import type { User } from "../../generated/prisma/client.js";
import { callbackData } from "../callback-data.js";
import type { CoachContext } from "../context.js";
import { type HabitDraft, parseSessionAmount } from "../habit-definition.js";
import { addDraft } from "../habit-drafts.js";
import { requirePerson } from "../person-guard.js";
import { editQuietly } from "../telegram-edits.js";

export const ASK_NAME =
  "New habit — what is it called? Reply to this message with its name, e.g. swim.";
const MINUTE_CHOICES = [10, 15, 20, 30, 45, 60, 90];

/** "New habit “swim”: …" → "swim" */
function draftName(text: string): string | undefined {
  return /^New habit “([^“”\n]+)”/.exec(text)?.[1];
}

/** The session amount written in a question: "New habit “read”, 20 pages per session: …" */
function draftAmount(text: string): string | undefined {
  return /^New habit “[^“”\n]+”, (.+) per session:/.exec(text)?.[1];
}

function isYesNo(text: string): boolean {
  return /^New habit “[^“”\n]+”, a yes\/no habit:/.test(text);
}

function messageText(ctx: CoachContext): string {
  const m = ctx.callbackQuery?.message;
  return m && "text" in m ? m.text : "";
}

function daysKeyboard(): InlineKeyboardButton[][] {
  return [
    [1, 2, 3, 4].map((d) => ({ text: `${d}×`, callback_data: `gw:d:${d}` })),
    [5, 6, 7].map((d) => ({ text: d === 7 ? "daily" : `${d}×`, callback_data: `gw:d:${d}` })),
  ];
}

export async function startHabitWizard(ctx: CoachContext): Promise<void> {
  await ctx.reply(ASK_NAME, {
    reply_markup: { force_reply: true, input_field_placeholder: "habit name" },
  });
}

async function askKind(ctx: CoachContext, person: User, name: string): Promise<void> {
  const problem = nameProblem(name, "The name");
  if (problem || /[“”]/.test(name)) {
    await ctx.reply(
      `${problem ?? "The name can't contain “ or ”"}. Send /habits add to try again.`,
    );
    return;
  }
  const existing = await habitCalled(ctx.deps, person, name);
  if (existing) {
    await ctx.reply(
      `You already have a habit called “${existing.name}”${existing.archivedAt ? " (archived: /habits restore brings it back)" : ""}.`,
    );
    return;
  }
  await ctx.reply(`New habit “${name.trim()}”: how do you measure it?`, {
    reply_markup: {
      inline_keyboard: [
        [{ text: "⏱ In minutes", callback_data: "gw:k:d" }],
        [{ text: "🔢 An amount (pages, km, times…)", callback_data: "gw:k:c" }],
        [{ text: "✅ Done or not done", callback_data: "gw:k:x" }],
      ],
    },
  });
}

async function askDays(ctx: CoachContext, name: string, amount: string | undefined): Promise<void> {
  const what = amount === undefined ? "a yes/no habit" : `${amount} per session`;
  await ctx.reply(`New habit “${name}”, ${what}: how many days a week?`, {
    reply_markup: { inline_keyboard: daysKeyboard() },
  });
}

async function onButton(ctx: CoachContext): Promise<void> {
  const person = await requirePerson(ctx);
  if (!person) return;
  const data = callbackData(ctx);
  const text = messageText(ctx);
  const name = draftName(text);
  if (!name) {
    await ctx.answerCbQuery("This button is no longer valid — send /habits add.");
    return;
  }
  const kind = /^gw:k:([dcx])$/.exec(data)?.[1];
  const minutes = /^gw:m:(\d{1,3})$/.exec(data)?.[1];
  const days = /^gw:d:([1-7])$/.exec(data)?.[1];
  await ctx.answerCbQuery();
  await editQuietly(ctx, undefined, []);
  if (kind === "d") {
    await ctx.reply(`New habit “${name}”, in minutes: how long is one session?`, {
      reply_markup: {
        inline_keyboard: [
          MINUTE_CHOICES.map((m) => ({ text: `${m}`, callback_data: `gw:m:${m}` })),
        ],
      },
    });
  } else if (kind === "c") {
    await ctx.reply(
      `New habit “${name}”: how much per session? Reply to this message with the amount and unit, e.g. 20 pages or 5 km.`,
      { reply_markup: { force_reply: true, input_field_placeholder: "20 pages" } },
    );
  } else if (kind === "x") {
    await askDays(ctx, name, undefined);
  } else if (minutes !== undefined) {
    await askDays(ctx, name, `${Number(minutes)} min`);
  } else if (days !== undefined) {
    const amount = draftAmount(text);
    const session = amount === undefined ? undefined : parseSessionAmount(amount);
    if (!isYesNo(text) && !session) {
      await ctx.reply("I lost track of that habit — send /habits add to start again.");
      return;
    }
    const draft: HabitDraft = session
      ? { name, ...session, daysPerWeek: Number(days) }
      : { name, kind: "check", unit: "", daysPerWeek: Number(days) };
    await addDraft(ctx, person, draft);
  } else {
    await ctx.reply("This button is no longer valid — send /habits add.");
  }
}

/** The guided "add a habit" flow: its buttons and typed answers. */
export const habitWizard = new Composer<CoachContext>();
habitWizard.action(/^gw:/, onButton);
// Replies to the wizard's questions (force_reply). Anything else passes on.
habitWizard.on(message("text"), async (ctx, next) => {
  const question = ctx.message.reply_to_message;
  const asked = question && "text" in question ? question.text : undefined;
  const fromBot = question?.from?.id === ctx.botInfo.id;
  if (!fromBot || asked === undefined || !asked.startsWith("New habit")) return next();
  const person = await requirePerson(ctx);
  if (!person) return;
  const answer = ctx.message.text.trim();
  if (asked === ASK_NAME) {
    await askKind(ctx, person, answer);
    return;
  }
  const name = draftName(asked);
  if (!name) return next();
  const session = parseSessionAmount(answer);
  if (!session || session.target <= 0) {
    await ctx.reply(
      `“${answer.slice(0, 40)}” is not an amount with a unit. Reply to my question with e.g. 20 pages or 5 km.`,
    );
    return;
  }
  const unit = session.kind === "duration" ? "min" : session.unit;
  await askDays(ctx, name, `${session.target} ${unit}`);
});
