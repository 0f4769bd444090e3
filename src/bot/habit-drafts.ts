// Adding a drafted habit (from a one-line definition or the guided flow) and wording the
// outcome; the rules are checked by the use case (src/app/habits.ts) against the coach core.
import { addHabit } from "../app/habits.js";
import type { User } from "../generated/prisma/client.js";
import { afterHabitAdded } from "./commands/start.js";
import type { CoachContext } from "./context.js";
import { formatAmount, formatGoal, reportExample } from "./format.js";
import type { HabitDraft } from "./habit-definition.js";

export function problemsText(intro: string, problems: { message: string }[]): string {
  return `${intro}\n${problems.map((p) => `• ${p.message}`).join("\n")}`;
}

/** Adds a drafted habit; replies either way. */
export async function addDraft(ctx: CoachContext, person: User, draft: HabitDraft): Promise<void> {
  const outcome = await addHabit(ctx.deps, person, draft);
  switch (outcome.kind) {
    case "invalid":
      await ctx.reply(problemsText(`I can't add “${draft.name}”:`, outcome.problems));
      return;
    case "archived-name":
      await ctx.reply(
        `You have an archived habit called “${outcome.habit.name}”. Bring it back with /habits restore ${outcome.habit.name}, or pick another name.`,
      );
      return;
    case "name-taken":
      await ctx.reply(`You already have a habit called “${draft.name}”. /habits lists them.`);
      return;
    case "added": {
      const { habit } = outcome;
      const levels = habit.levels.map((l) => formatAmount(habit, l)).join(" / ");
      await ctx.reply(
        `Added ${habit.name}: ${formatGoal(habit)}.\nPlannable amounts: ${levels}.\nLog it like “${reportExample([habit])}”; it appears in tomorrow's plan (or /plan if today's isn't made yet).`,
      );
      // someone still setting up may be done now (time zone + a habit)
      await afterHabitAdded(ctx, ctx.person ?? person);
      return;
    }
  }
}
