// A person's habits: the overview, adding, editing, archiving and restoring. Every habit rule is
// the coach core's (validateHabit alone, validateHabitSet with the person's other active
// habits); this module checks against them and stores. The Telegram adapter parses and words.

import {
  defaultLevels,
  type HabitSpec,
  type ValidationProblem,
  validateHabit,
  validateHabitSet,
} from "../coach/index.js";
import {
  createHabit,
  findHabitByName,
  type HabitFields,
  HabitNameTakenError,
  habitSpecOf,
  listHabits,
  setHabitArchived,
  updateHabit,
} from "../db/habits.js";
import type { Habit, User } from "../generated/prisma/client.js";
import { loadCoachState } from "./coach-state.js";
import type { AppDeps } from "./deps.js";

/** What a person says about a new habit; the coach core fills in the defaults. */
export type HabitDefinition = Pick<HabitSpec, "name" | "kind" | "unit"> &
  Partial<Pick<HabitSpec, "target" | "daysPerWeek">>;

/** The fields a person sets, from a habit the coach core validated. */
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

async function activeSpecs(deps: Pick<AppDeps, "db">, person: User): Promise<HabitSpec[]> {
  return (await listHabits(deps.db, person.id)).map(habitSpecOf);
}

export interface HabitsOverview {
  active: Habit[];
  archived: Habit[];
  /** EMA today per habit id (as a string) */
  emasToday: Record<string, number>;
}

/** The person's habits, active and archived, with today's EMA of each. */
export async function habitsOverview(
  deps: Pick<AppDeps, "db" | "now">,
  person: User,
): Promise<HabitsOverview> {
  const state = await loadCoachState(deps.db, person, deps.now());
  const all = await listHabits(deps.db, person.id, { includeArchived: true });
  return {
    active: all.filter((h) => !h.archivedAt),
    archived: all.filter((h) => h.archivedAt),
    emasToday: state.emasToday,
  };
}

/** Whether the person has any active habit. */
/** The person's active habits, in their order. */
export async function habitsOf(deps: Pick<AppDeps, "db">, person: User): Promise<Habit[]> {
  return listHabits(deps.db, person.id);
}

export async function hasHabits(deps: Pick<AppDeps, "db">, person: User): Promise<boolean> {
  return (await listHabits(deps.db, person.id)).length > 0;
}

/** The person's habit called `name` (by name or alias), archived too. */
export async function habitCalled(
  deps: Pick<AppDeps, "db">,
  person: User,
  name: string,
): Promise<Habit | undefined> {
  return findHabitByName(deps.db, person.id, name);
}

export type AddHabitOutcome =
  | { kind: "invalid"; problems: ValidationProblem[] }
  /** an archived habit already has the name: restore it or pick another */
  | { kind: "archived-name"; habit: Habit }
  | { kind: "name-taken" }
  | { kind: "added"; habit: Habit };

/** Adds a habit when the coach core accepts it alone and next to the person's active habits. */
export async function addHabit(
  deps: Pick<AppDeps, "db">,
  person: User,
  definition: HabitDefinition,
): Promise<AddHabitOutcome> {
  const result = validateHabit({ id: "new", ...definition });
  if (!result.ok) return { kind: "invalid", problems: result.problems };
  const setProblems = validateHabitSet([...(await activeSpecs(deps, person)), result.habit]);
  if (setProblems.length > 0) return { kind: "invalid", problems: setProblems };
  const archived = await findHabitByName(deps.db, person.id, definition.name);
  if (archived?.archivedAt) return { kind: "archived-name", habit: archived };
  try {
    return { kind: "added", habit: await createHabit(deps.db, person.id, fieldsOf(result.habit)) };
  } catch (error) {
    if (error instanceof HabitNameTakenError) return { kind: "name-taken" };
    throw error;
  }
}

/** One change to a habit's settings. */
export type HabitChange = Partial<
  Pick<HabitSpec, "name" | "aliases" | "target" | "daysPerWeek" | "levels" | "exclusiveGroup">
>;

export type EditHabitOutcome =
  | { kind: "no-such-habit" }
  /** the new value could not be read (the caller said so) */
  | { kind: "unreadable"; habit: Habit }
  | { kind: "invalid"; habit: Habit; problems: ValidationProblem[] }
  | { kind: "name-taken" }
  | { kind: "updated"; habit: Habit };

/**
 * Changes the habit called `name`. `change` is "unreadable" when the caller could not read the
 * new value (the outcome then names the habit). Levels that were the defaults follow a new
 * target; levels set by hand stay.
 */
export async function editHabit(
  deps: Pick<AppDeps, "db">,
  person: User,
  name: string,
  change: HabitChange | "unreadable",
): Promise<EditHabitOutcome> {
  const habit = await findHabitByName(deps.db, person.id, name);
  if (!habit) return { kind: "no-such-habit" };
  if (change === "unreadable") return { kind: "unreadable", habit };
  const spec = habitSpecOf(habit);
  const input: Record<string, unknown> = { ...spec, ...change };
  if (change.target !== undefined && change.levels === undefined) {
    const wereDefault =
      JSON.stringify(spec.levels) === JSON.stringify(defaultLevels(spec.kind, spec.target));
    if (wereDefault) input.levels = undefined;
  }
  const result = validateHabit(input);
  if (!result.ok) return { kind: "invalid", habit, problems: result.problems };
  const others = (await activeSpecs(deps, person)).filter((h) => h.id !== spec.id);
  const setProblems = validateHabitSet([...others, result.habit]);
  if (setProblems.length > 0) return { kind: "invalid", habit, problems: setProblems };
  try {
    return { kind: "updated", habit: await updateHabit(deps.db, habit.id, fieldsOf(result.habit)) };
  } catch (error) {
    if (error instanceof HabitNameTakenError) return { kind: "name-taken" };
    throw error;
  }
}

export type ArchiveHabitOutcome =
  | { kind: "no-such-habit" }
  | { kind: "already-archived"; habit: Habit }
  | { kind: "archived"; habit: Habit };

/** Archives the habit called `name`: its history stays, it leaves plans and stats. */
export async function archiveHabit(
  deps: Pick<AppDeps, "db" | "now">,
  person: User,
  name: string,
): Promise<ArchiveHabitOutcome> {
  const habit = await findHabitByName(deps.db, person.id, name);
  if (!habit) return { kind: "no-such-habit" };
  if (habit.archivedAt !== null) return { kind: "already-archived", habit };
  await setHabitArchived(deps.db, habit, true, deps.now());
  return { kind: "archived", habit };
}

export type RestoreHabitOutcome =
  | { kind: "no-such-habit" }
  | { kind: "already-active"; habit: Habit }
  | { kind: "invalid"; habit: Habit; problems: ValidationProblem[] }
  | { kind: "restored"; habit: Habit };

/**
 * Brings an archived habit back, by name or by id (a button), when the coach core accepts it
 * next to the person's active habits.
 */
export async function restoreHabit(
  deps: Pick<AppDeps, "db" | "now">,
  person: User,
  which: { name: string } | { habitId: number },
): Promise<RestoreHabitOutcome> {
  const habit =
    "name" in which
      ? await findHabitByName(deps.db, person.id, which.name)
      : (await listHabits(deps.db, person.id, { includeArchived: true })).find(
          (h) => h.id === which.habitId,
        );
  if (!habit) return { kind: "no-such-habit" };
  if (habit.archivedAt === null) return { kind: "already-active", habit };
  const problems = validateHabitSet([...(await activeSpecs(deps, person)), habitSpecOf(habit)]);
  if (problems.length > 0) return { kind: "invalid", habit, problems };
  await setHabitArchived(deps.db, habit, false, deps.now());
  return { kind: "restored", habit };
}
