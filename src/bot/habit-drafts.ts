// Storing a drafted habit (from a one-line definition or the guided flow): the coach core
// validates it alone (validateHabit) and with the person's other habits (validateHabitSet).
import { type HabitSpec, validateHabit, validateHabitSet } from "../coach/index.js";
import {
  createHabit,
  findHabitByName,
  type HabitFields,
  HabitNameTakenError,
  habitSpecOf,
  listHabits,
} from "../db/habits.js";
import type { User } from "../generated/prisma/client.js";
import type { CoachContext } from "./context.js";
import { formatAmount, formatGoal } from "./format.js";
import type { HabitDraft } from "./habit-definition.js";

export function fieldsOf(spec: HabitSpec): HabitFields {
  return {
    name: spec.name,
    aliases: spec.aliases,
    kind: spec.kind,
    unit: spec.unit,
    target: spec.target,
    daysPerWeek: spec.daysPerWeek,
    levels: spec.levels,
    exclusiveGroup: spec.exclusiveGroup,
  };
}

export function problemsText(intro: string, problems: { message: string }[]): string {
  return `${intro}\n${problems.map((p) => `• ${p.message}`).join("\n")}`;
}

/** Validates a drafted habit with the coach core and stores it; replies either way. */
export async function addDraft(
  ctx: CoachContext,
  person: User,
  draft: HabitDraft,
): Promise<boolean> {
  const result = validateHabit({ id: "new", ...draft });
  if (!result.ok) {
    await ctx.reply(problemsText(`I can't add “${draft.name}”:`, result.problems));
    return false;
  }
  const active = (await listHabits(ctx.deps.db, person.id)).map(habitSpecOf);
  const setProblems = validateHabitSet([...active, result.habit]);
  if (setProblems.length > 0) {
    await ctx.reply(problemsText(`I can't add “${draft.name}”:`, setProblems));
    return false;
  }
  const archived = await findHabitByName(ctx.deps.db, person.id, draft.name);
  if (archived?.archivedAt) {
    await ctx.reply(
      `You have an archived habit called “${archived.name}”. Bring it back with /habits restore ${archived.name}, or pick another name.`,
    );
    return false;
  }
  try {
    const habit = await createHabit(ctx.deps.db, person.id, fieldsOf(result.habit));
    const levels = habit.levels.map((l) => formatAmount(habit, l)).join(" / ");
    await ctx.reply(
      `Added ${habit.name}: ${formatGoal(habit)}.\nPlannable amounts: ${levels}.\nLog it like “${habit.name}${habit.kind === "check" ? "" : ` ${habit.target}`}”; it appears in tomorrow's plan (or /plan if today's isn't made yet).`,
    );
    return true;
  } catch (error) {
    if (error instanceof HabitNameTakenError) {
      await ctx.reply(`You already have a habit called “${draft.name}”. /habits lists them.`);
      return false;
    }
    throw error;
  }
}
