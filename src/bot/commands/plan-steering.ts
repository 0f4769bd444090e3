// Steering today's plan from the chat: the plan's "✕ Not today" and "✎ Change" buttons (the
// choices: other amounts, not today, another habit instead), and typed changes ("skip run",
// "run 20 instead", "swap run swim"), installed before plain reports. The use cases are in
// src/app/plan-steering.ts; this module words their outcomes.
import { Composer } from "telegraf";
import { message } from "telegraf/filters";
import {
  type AppliedChange,
  type ChangeAuthor,
  changePlannedAmount,
  planItemChoices,
  type SteeringOutcome,
  steerPlanByText,
  swapPlannedHabit,
} from "../../app/plan-steering.js";
import { planRevisionKey } from "../../coach/idempotency.js";
import { callbackData, decodeCallback } from "../callback-data.js";
import type { CoachContext } from "../context.js";
import { formatAmount, formatDate } from "../format.js";
import { HABIT_ADD_EXAMPLE } from "../habit-definition.js";
import { requirePerson } from "../person-guard.js";
import { planChoiceButtons, renderPlan } from "../plan-message.js";
import { editQuietly } from "../telegram-edits.js";
import { reportProblemsText } from "./done.js";

function authorOf(ctx: CoachContext, via: "chat" | "button"): ChangeAuthor {
  const updateId = ctx.update.update_id;
  return {
    changedBy: BigInt(ctx.from?.id ?? 0),
    via,
    keyOf: (position) => planRevisionKey(updateId, position),
  };
}

/** One change in words: "run: not today (was 30 min)", "run: 20 min instead of 30 min". */
export function changeText(c: AppliedChange): string {
  const { habit } = c;
  const was = c.fromAmount > 0 ? formatAmount(habit, c.fromAmount) : "a rest day";
  if (c.toAmount <= 0) {
    return `${habit.name}: not today${habit.kind === "check" ? "" : ` (was ${was})`}`;
  }
  if (habit.kind === "check") return `${habit.name}: on today's plan`;
  return `${habit.name}: ${formatAmount(habit, c.toAmount)} today (was ${was})`;
}

function changedHead(outcome: Extract<SteeringOutcome, { kind: "changed" }>): string {
  const lines = outcome.changes.map((c) => `• ${changeText(c)}`);
  const head = outcome.duplicate ? "Already changed (this message came twice):" : "Plan changed:";
  return `${head}\n${lines.join("\n")}`;
}

/** Why nothing changed, for a refusal or a button that no longer fits. */
function refusalText(outcome: SteeringOutcome): string | undefined {
  switch (outcome.kind) {
    case "not-this-plan":
      return "This button doesn't match your plan — send /plan for a fresh one.";
    case "not-today-plan":
      return `That plan is for ${formatDate(outcome.day)}; only today's plan can be changed.`;
    case "refused": {
      const { habit } = outcome;
      switch (outcome.reason) {
        case "not-planned":
          return `${habit.name} isn't on today's plan, so there is nothing to take off.`;
        case "same-amount":
          return `${habit.name} is already planned at ${formatAmount(habit, outcome.amount)} today.`;
        case "yes-no-habit":
          return `${habit.name} is done or not done — there's no amount to change. “skip ${habit.name}” takes it off today's plan.`;
        case "not-an-amount":
          return `Plan more than 0 — or take ${habit.name} off today with “skip ${habit.name}”.`;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/** Typed changes to today's plan; anything else goes on to the report reader. */
export const planSteeringText = new Composer<CoachContext>();
planSteeringText.on(message("text"), async (ctx, next) => {
  const person = ctx.person;
  const text = ctx.message.text;
  if (!person || text.startsWith("/")) return next();
  const outcome = await steerPlanByText(ctx.deps, person, text, authorOf(ctx, "chat"));
  switch (outcome.kind) {
    case "not-steering":
      return next();
    case "no-habits":
      await ctx.reply(
        `You have no habits yet, so there's no plan to change. Add one: ${HABIT_ADD_EXAMPLE}`,
      );
      return;
    case "not-understood":
      await ctx.reply(
        reportProblemsText(outcome.problems, outcome.habits).replace(
          "I didn't store anything:",
          "I didn't change your plan:",
        ),
      );
      return;
    case "changed": {
      const rendered = renderPlan(outcome.plan, outcome.items, outcome.state, outcome.original);
      await ctx.reply(`${changedHead(outcome)}\n\n${rendered.text}`, {
        reply_markup: { inline_keyboard: rendered.keyboard },
      });
      return;
    }
    default:
      await ctx.reply(refusalText(outcome) ?? "I didn't change your plan.");
  }
});

/** After a change by button: a toast, and the message the button was on shows the plan now. */
async function answerButtonChange(ctx: CoachContext, outcome: SteeringOutcome): Promise<void> {
  if (outcome.kind !== "changed") {
    await ctx.answerCbQuery((refusalText(outcome) ?? "Nothing changed.").slice(0, 200));
    return;
  }
  await ctx.answerCbQuery(outcome.changes.map(changeText).join("; ").slice(0, 200));
  const rendered = renderPlan(outcome.plan, outcome.items, outcome.state, outcome.original);
  await editQuietly(ctx, rendered.text, rendered.keyboard);
}

/** The plan's steering buttons and the choices message. */
export const planSteeringButtons = new Composer<CoachContext>();
planSteeringButtons.action(/^p[cas]:/, async (ctx) => {
  const person = await requirePerson(ctx);
  if (!person) return;
  const action = decodeCallback(callbackData(ctx));
  const author = authorOf(ctx, "button");
  switch (action?.kind) {
    case "plan-change":
      await answerButtonChange(ctx, await changePlannedAmount(ctx.deps, person, action, author));
      return;
    case "plan-swap":
      await answerButtonChange(ctx, await swapPlannedHabit(ctx.deps, person, action, author));
      return;
    case "plan-choices": {
      const choices = await planItemChoices(ctx.deps, person, action);
      if (choices.kind !== "choices") {
        await ctx.answerCbQuery(refusalText(choices) ?? "This button is no longer valid.");
        return;
      }
      const { plan, habit, items, state } = choices;
      const now = items.find((i) => i.habitId === habit.id)?.amount ?? 0;
      await ctx.answerCbQuery();
      const planned = now > 0 ? ` (planned: ${formatAmount(habit, now)})` : "";
      await ctx.reply(
        `Change ${habit.name} for ${formatDate(state.today)}${planned}: pick an amount, take it off today, or do another habit instead. Or write it, e.g. “skip ${habit.name}”.`,
        { reply_markup: { inline_keyboard: planChoiceButtons(plan, habit, items, state.habits) } },
      );
      return;
    }
    default:
      await ctx.answerCbQuery("This button is no longer valid.");
  }
});
