// Logging: "/done …" and plain messages are read by the coach core's parseReport; the reply
// says exactly what was stored, for which day, and the EMA now. "/done" alone and the plan's
// buttons log planned habits at the planned amount. Entries carry idempotency keys derived from
// the update (or plan button), so a re-delivered update never counts twice.
import { Composer } from "telegraf";
import { message } from "telegraf/filters";
import type { CoachState } from "../../app/coach-state.js";
import { habitsOf } from "../../app/habits.js";
import { todaysPlan } from "../../app/planning.js";
import {
  askQuestion,
  closeQuestion,
  type OpenQuestion,
  openQuestionOf,
} from "../../app/questions.js";
import {
  type ImplausibleItem,
  logPlannedHabit,
  logReport,
  type StoredItem,
} from "../../app/reports.js";
import { reportEntryKey } from "../../coach/idempotency.js";
import { type SmallTalk, smallTalkOf, yesNoAnswer } from "../../coach/index.js";
import type { Habit, User } from "../../generated/prisma/client.js";
import { callbackData, decodeCallback } from "../callback-data.js";
import type { CoachContext } from "../context.js";
import { formatAmount, formatDate, formatDay, formatEma, reportExample } from "../format.js";
import { HABIT_ADD_EXAMPLE } from "../habit-definition.js";
import { requirePerson } from "../person-guard.js";
import { planButtons, renderPlan } from "../plan-message.js";
import { editQuietly } from "../telegram-edits.js";
import { CHECK_IN_HEAD } from "./check-in.js";
import { helpText } from "./help.js";
import { planMessage } from "./plan.js";

/** The confirmation for stored items: amount, day and the EMA now, per habit. */
export function confirmationText(
  state: CoachState,
  stored: StoredItem[],
  duplicate: boolean,
): string {
  const lines = stored.map(({ habit, amount, day, guessedFrom, alreadyDone }) => {
    const when = formatDay(day, state.today);
    const date = when === "today" || when === "yesterday" ? ` (${formatDate(day)})` : "";
    const amountText = habit.kind === "check" ? "done" : formatAmount(habit, amount);
    const guess =
      guessedFrom === undefined ? "" : ` (I read “${guessedFrom.slice(0, 40)}” as ${habit.name})`;
    if (alreadyDone) {
      return `✓ ${habit.name}: already done ${when}${date}, nothing more to log → EMA ${formatEma(state.emasToday[String(habit.id)])}${guess}`;
    }
    return `✓ ${habit.name}: ${amountText}, ${when}${date} → EMA ${formatEma(state.emasToday[String(habit.id)])}${guess}`;
  });
  const head = duplicate
    ? "Already stored (this message was delivered twice):"
    : stored.every((i) => i.alreadyDone)
      ? "Nothing new:"
      : "Stored:";
  return `${head}\n${lines.join("\n")}`;
}

/** Why nothing was stored, every problem named, then how to write a report. */
export function reportProblemsText(problems: string[], habits: Habit[]): string {
  const listed = problems.some((p) => p.includes("Your habits are:"));
  const names = habits.map((h) => h.name).join(", ");
  const footer =
    habits.length === 0
      ? ""
      : `\n\nWrite it like “${reportExample(habits)}” (add “yesterday” or a date for another day).${listed ? "" : ` Your habits: ${names}.`}`;
  return `I didn't store anything:\n${problems.map((p) => `• ${p}`).join("\n")}${footer}`;
}

async function storeTextReport(ctx: CoachContext, person: User, text: string): Promise<void> {
  const updateId = ctx.update.update_id;
  const outcome = await logReport(ctx.deps, person, text, {
    source: "chat",
    keyOf: (position) => reportEntryKey(updateId, position),
  });
  if (outcome.kind !== "stored" && outcome.kind !== "implausible") {
    const talk = smallTalkOf(text);
    if (talk) {
      await answerSmallTalk(ctx, person, talk);
      return;
    }
  }
  if (outcome.kind === "no-habits") {
    await ctx.reply(`You have no habits yet. Add one first, e.g. ${HABIT_ADD_EXAMPLE}`);
  } else if (outcome.kind === "not-understood") {
    await ctx.reply(reportProblemsText(outcome.problems, outcome.habits));
  } else if (outcome.kind === "implausible") {
    await askReportConfirmation(ctx, person, { text, updateId, day: outcome.today }, outcome.items);
  } else {
    await ctx.reply(confirmationText(outcome.after, outcome.items, outcome.duplicate));
  }
}

/** Thanks, a greeting, "what should I do today?": answered with the plan or help, not as a report. */
async function answerSmallTalk(ctx: CoachContext, person: User, talk: SmallTalk): Promise<void> {
  const habits = await habitsOf(ctx.deps, person);
  const example = habits.length > 0 ? reportExample(habits) : undefined;
  const tell = example
    ? `Tell me what you did any time, e.g. “${example}”.`
    : `Add a habit first, e.g. ${HABIT_ADD_EXAMPLE}`;
  switch (talk) {
    case "thanks":
      await ctx.reply(`You're welcome! ${tell}`);
      return;
    case "greeting":
      await ctx.reply(`Hi! ${tell} /plan shows today's plan.`);
      return;
    case "today": {
      const rendered = await planMessage(ctx.deps, person);
      await ctx.reply(
        rendered.text,
        rendered.keyboard.length > 0
          ? { reply_markup: { inline_keyboard: rendered.keyboard } }
          : {},
      );
      return;
    }
    case "how-am-i-doing":
      await ctx.reply(
        `/habits shows each habit's EMA (1.00 = on goal); /stats draws them. ${tell}`,
      );
      return;
    case "help":
      await ctx.reply(helpText(habits));
      return;
  }
}

/** Callback data of the "store it?" buttons after an implausible amount. */
const CONFIRM_YES = "rc:y";
const CONFIRM_NO = "rc:n";

/** "30 km of run is 6 times your usual 5 km — store it?" with Yes/No (typed yes/no works too). */
async function askReportConfirmation(
  ctx: CoachContext,
  person: User,
  report: { text: string; updateId: number; day: string },
  items: ImplausibleItem[],
): Promise<void> {
  await askQuestion(ctx.deps, person, { kind: "confirm-report", ...report });
  const lines = items.map(({ habit, amount }) => {
    const times = Math.round(amount / habit.target);
    return `${formatAmount(habit, amount)} of ${habit.name} is ${times} times your usual ${formatAmount(habit, habit.target)}.`;
  });
  const example = reportExample(items.map((i) => i.habit));
  await ctx.reply(`${lines.join("\n")}\nStore it? (With the unit it's clear, e.g. “${example}”.)`, {
    reply_markup: {
      inline_keyboard: [
        [
          { text: "Yes, store it", callback_data: CONFIRM_YES },
          { text: "No", callback_data: CONFIRM_NO },
        ],
      ],
    },
  });
}

/**
 * The answer to "store it?" (typed or tapped): yes stores the report as it was meant (its day,
 * its update's idempotency keys), no stores nothing. False when the text is no yes or no.
 */
export async function answerReportConfirmation(
  ctx: CoachContext,
  person: User,
  question: Extract<OpenQuestion, { kind: "confirm-report" }>,
  answer: string | boolean,
): Promise<boolean> {
  const yes = typeof answer === "boolean" ? answer : yesNoAnswer(answer);
  if (yes === undefined) return false;
  if (!yes) {
    await ctx.reply("OK, nothing stored. Write it again with its unit when you like.");
    return true;
  }
  const outcome = await logReport(ctx.deps, person, question.text, {
    source: "chat",
    keyOf: (position) => reportEntryKey(question.updateId, position),
    confirmed: true,
    today: question.day,
  });
  if (outcome.kind === "stored") {
    await ctx.reply(confirmationText(outcome.after, outcome.items, outcome.duplicate));
  } else if (outcome.kind === "not-understood") {
    await ctx.reply(reportProblemsText(outcome.problems, outcome.habits));
  } else {
    await ctx.reply(`You have no habits yet. Add one first, e.g. ${HABIT_ADD_EXAMPLE}`);
  }
  return true;
}

async function showUnfinished(ctx: CoachContext, person: User): Promise<void> {
  const { plan, items, state } = await todaysPlan(ctx.deps, person);
  if (!plan || state.habits.length === 0) {
    await ctx.reply(`You have no habits yet. Add one first, e.g. ${HABIT_ADD_EXAMPLE}`);
    return;
  }
  const buttons = planButtons(plan, items, state.habits, state.doneToday);
  if (buttons.length === 0) {
    await ctx.reply(
      `Nothing left from today's plan. 🎉 Log anything extra by writing it, e.g. “${reportExample(state.habits)}”.`,
    );
    return;
  }
  await ctx.reply(
    `What did you do? Tap to log what is left of the plan, or write it (e.g. “${reportExample(state.habits)}”).`,
    { reply_markup: { inline_keyboard: buttons } },
  );
}

/** The plan button: verified against the stored plan and the person who pressed it. */
async function onPlanButton(ctx: CoachContext, data: string): Promise<void> {
  const person = await requirePerson(ctx);
  if (!person) return;
  const action = decodeCallback(data);
  if (action?.kind !== "plan-log") {
    await ctx.answerCbQuery("This button is no longer valid.");
    return;
  }
  const outcome = await logPlannedHabit(ctx.deps, person, action);
  switch (outcome.kind) {
    case "not-this-plan":
      ctx.log.warn({ data }, "plan button does not match a stored plan of this person");
      await ctx.answerCbQuery("This button doesn't match your plan — send /plan for a fresh one.");
      return;
    case "taken-off":
      await ctx.answerCbQuery(
        `You took ${outcome.habit.name} off the plan for ${formatDate(outcome.day)}; write it if you did it anyway.`,
      );
      return;
    case "archived":
      await ctx.answerCbQuery("That habit is archived — restore it with /habits restore.");
      return;
    case "too-old":
      await ctx.answerCbQuery(
        `That plan is from ${formatDate(outcome.day)}, too long ago to log from.`,
      );
      return;
    case "already-logged":
      await ctx.answerCbQuery(
        `${outcome.habit.name} is already logged for ${formatDay(outcome.day, outcome.today)} ✓`,
      );
      return;
  }
  const { habit, day, after, plan, items, original } = outcome;
  const ema = formatEma(after.emasToday[String(habit.id)]);
  const amountText = habit.kind === "check" ? "done" : formatAmount(habit, outcome.amount);
  await ctx.answerCbQuery(
    outcome.inserted
      ? `Logged ${habit.name}: ${amountText}, ${formatDay(day, after.today)} → EMA ${ema}`
      : `${habit.name} is already logged ✓`,
  );
  // Refresh the message the button was on: the plan gets its tick, the /done prompt loses the button.
  const text =
    ctx.callbackQuery?.message && "text" in ctx.callbackQuery.message
      ? ctx.callbackQuery.message.text
      : "";
  if (day === after.today && text.includes("Plan for ")) {
    const rendered = renderPlan(plan, items, after, original);
    await editQuietly(ctx, rendered.text, rendered.keyboard);
  } else {
    // the /done prompt keeps log buttons only; the evening check-in keeps its steering buttons
    const steering = text.startsWith(CHECK_IN_HEAD);
    await editQuietly(
      ctx,
      undefined,
      planButtons(plan, items, after.habits, after.doneToday, { steering }),
    );
  }
}

/** /done and the plan buttons. */
export const doneCommand = new Composer<CoachContext>();
doneCommand.command("done", async (ctx) => {
  const person = await requirePerson(ctx);
  if (!person) return;
  const args = ctx.message.text.replace(/^\/done(?:@\S+)?/i, "").trim();
  if (args === "") await showUnfinished(ctx, person);
  else await storeTextReport(ctx, person, args);
});
doneCommand.action(/^p:/, (ctx) => onPlanButton(ctx, callbackData(ctx)));
doneCommand.action(/^rc:[yn]$/, async (ctx) => {
  const person = await requirePerson(ctx);
  if (!person) return;
  const question = openQuestionOf(person, ctx.deps.now());
  if (question?.kind !== "confirm-report") {
    await ctx.answerCbQuery("This question has expired — write the report again.");
    return;
  }
  await ctx.answerCbQuery();
  await editQuietly(ctx, undefined, []);
  await closeQuestion(ctx.deps, person);
  await answerReportConfirmation(ctx, person, question, callbackData(ctx) === CONFIRM_YES);
});

/** Installed last: any other text is a report. */
export const plainReports = new Composer<CoachContext>();
plainReports.on(message("text"), async (ctx) => {
  const text = ctx.message.text;
  if (text.startsWith("/")) {
    await ctx.reply(
      `I don't know the command ${text.split(/\s/)[0].slice(0, 40)}. /help lists what I can do.`,
    );
    return;
  }
  const person = await requirePerson(ctx);
  if (!person) return;
  await storeTextReport(ctx, person, text);
});
