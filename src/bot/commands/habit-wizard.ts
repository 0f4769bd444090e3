// The guided way to add a habit (/habits add with nothing after it): name → how it is measured
// → amount per session → days per week, with buttons where there are few sensible answers.
// The draft so far lives in the text of the bot's own question (Telegram hands that message back
// with the reply or button press), so the flow needs no server-side state and survives restarts.
import { Composer } from "telegraf";
import { message } from "telegraf/filters";
import type { InlineKeyboardButton } from "telegraf/types";
import { habitCalled } from "../../app/habits.js";
import {
  askQuestion,
  closeQuestion,
  type HabitSketch,
  type OpenQuestion,
} from "../../app/questions.js";
import { daysPerWeekAnswer, habitKindAnswer, nameProblem } from "../../coach/index.js";
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
  await askQuestion(ctx.deps, person, { kind: "habit-kind", habit: { name: name.trim() } });
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

/** Asks how many days a week (buttons, or typed: "5", "daily", "twice a week"). */
export async function askDays(ctx: CoachContext, person: User, habit: HabitSketch): Promise<void> {
  const amount =
    habit.kind === undefined || habit.kind === "check" || habit.target === undefined
      ? undefined
      : `${habit.target} ${habit.kind === "duration" ? "min" : habit.unit}`.trim();
  const what = amount === undefined ? "a yes/no habit" : `${amount} per session`;
  await askQuestion(ctx.deps, person, { kind: "habit-days", habit });
  await ctx.reply(
    `New habit “${habit.name}”, ${what}: how many days a week? Tap one, or type it (e.g. 5 or daily).`,
    { reply_markup: { inline_keyboard: daysKeyboard() } },
  );
}

async function askMinutes(ctx: CoachContext, person: User, name: string): Promise<void> {
  await askQuestion(ctx.deps, person, {
    kind: "habit-amount",
    habit: { name, kind: "duration", unit: "min" },
  });
  await ctx.reply(`New habit “${name}”, in minutes: how long is one session?`, {
    reply_markup: {
      inline_keyboard: [MINUTE_CHOICES.map((m) => ({ text: `${m}`, callback_data: `gw:m:${m}` }))],
    },
  });
}

async function askAmount(ctx: CoachContext, person: User, name: string): Promise<void> {
  await askQuestion(ctx.deps, person, { kind: "habit-amount", habit: { name, kind: "count" } });
  await ctx.reply(
    `New habit “${name}”: how much per session? Reply to this message with the amount and unit, e.g. 20 pages or 5 km.`,
    { reply_markup: { force_reply: true, input_field_placeholder: "20 pages" } },
  );
}

/** An amount per session typed for a habit being added: the days question next. */
async function answerAmount(
  ctx: CoachContext,
  person: User,
  habit: HabitSketch,
  answer: string,
): Promise<boolean> {
  const minutes = /^(\d{1,3})$/.exec(answer.trim())?.[1];
  const session =
    minutes !== undefined && habit.kind === "duration"
      ? { kind: "duration" as const, unit: "min", target: Number(minutes) }
      : parseSessionAmount(answer);
  if (!session || session.target <= 0) return false;
  const unit = session.kind === "duration" ? "min" : session.unit;
  await askDays(ctx, person, {
    name: habit.name,
    kind: session.kind,
    unit,
    target: session.target,
  });
  return true;
}

/**
 * A typed answer to an open question of the "add a habit" flow (without replying to it): how
 * it is measured, its amount, its days a week. False when the text is no such answer.
 */
export async function answerHabitQuestion(
  ctx: CoachContext,
  person: User,
  question: Extract<OpenQuestion, { habit: HabitSketch }>,
  text: string,
): Promise<boolean> {
  const { habit } = question;
  switch (question.kind) {
    case "habit-kind": {
      const kind = habitKindAnswer(text);
      if (kind === "duration") await askMinutes(ctx, person, habit.name);
      else if (kind === "count") await askAmount(ctx, person, habit.name);
      else if (kind === "check") await askDays(ctx, person, { name: habit.name, kind: "check" });
      // "20 pages" or "30 min" answers both questions at once
      else return answerAmount(ctx, person, habit, text);
      return true;
    }
    case "habit-amount":
      return answerAmount(ctx, person, habit, text);
    case "habit-days": {
      const days = daysPerWeekAnswer(text);
      if (days === undefined) return false;
      await addDraft(ctx, person, {
        name: habit.name,
        kind: habit.kind ?? "check",
        unit: habit.unit ?? "",
        ...(habit.target !== undefined ? { target: habit.target } : {}),
        daysPerWeek: days,
      });
      return true;
    }
  }
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
  // a button answers the open question: a later typed word must not answer it again
  await closeQuestion(ctx.deps, person);
  if (kind === "d") {
    await askMinutes(ctx, person, name);
  } else if (kind === "c") {
    await askAmount(ctx, person, name);
  } else if (kind === "x") {
    await askDays(ctx, person, { name, kind: "check" });
  } else if (minutes !== undefined) {
    await askDays(ctx, person, { name, kind: "duration", unit: "min", target: Number(minutes) });
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
  if (!(await answerAmount(ctx, person, { name }, answer))) {
    await ctx.reply(
      `“${answer.slice(0, 40)}” is not an amount with a unit. Reply to my question with e.g. 20 pages or 5 km.`,
    );
  }
});
