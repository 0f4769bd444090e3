// Logging: "/done …" and plain messages are read by the coach core's parseReport; the reply
// says exactly what was stored, for which day, and the EMA now. "/done" alone and the plan's
// buttons log planned habits at the planned amount. Entries carry idempotency keys derived from
// the update (or plan button), so a re-delivered update never counts twice.
import { Composer } from "telegraf";
import { message } from "telegraf/filters";
import type { CoachState } from "../../app/coach-state.js";
import { todaysPlan } from "../../app/planning.js";
import { logPlannedHabit, logReport, type StoredItem } from "../../app/reports.js";
import { reportEntryKey } from "../../coach/idempotency.js";
import type { Habit, User } from "../../generated/prisma/client.js";
import { callbackData, decodeCallback } from "../callback-data.js";
import type { CoachContext } from "../context.js";
import { formatAmount, formatDate, formatDay, formatEma, reportExample } from "../format.js";
import { HABIT_ADD_EXAMPLE } from "../habit-definition.js";
import { requirePerson } from "../person-guard.js";
import { CHECK_IN_HEAD } from "./check-in.js";
import { planButtons, renderPlan } from "../plan-message.js";
import { editQuietly } from "../telegram-edits.js";

/** The confirmation for stored items: amount, day and the EMA now, per habit. */
export function confirmationText(
  state: CoachState,
  stored: StoredItem[],
  duplicate: boolean,
): string {
  const lines = stored.map(({ habit, amount, day, guessedFrom }) => {
    const when = formatDay(day, state.today);
    const date = when === "today" || when === "yesterday" ? ` (${formatDate(day)})` : "";
    const amountText = habit.kind === "check" ? "done" : formatAmount(habit, amount);
    const guess =
      guessedFrom === undefined ? "" : ` (I read “${guessedFrom.slice(0, 40)}” as ${habit.name})`;
    return `✓ ${habit.name}: ${amountText}, ${when}${date} → EMA ${formatEma(state.emasToday[String(habit.id)])}${guess}`;
  });
  const head = duplicate ? "Already stored (this message was delivered twice):" : "Stored:";
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
  if (outcome.kind === "no-habits") {
    await ctx.reply(`You have no habits yet. Add one first, e.g. ${HABIT_ADD_EXAMPLE}`);
  } else if (outcome.kind === "not-understood") {
    await ctx.reply(reportProblemsText(outcome.problems, outcome.habits));
  } else {
    await ctx.reply(confirmationText(outcome.after, outcome.items, outcome.duplicate));
  }
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
