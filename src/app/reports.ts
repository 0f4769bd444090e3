// Logging what a person did: a typed report read by the coach core's parser, a tap on a plan
// button, and taking an entry back (/undo). Every entry carries an idempotency key, so a
// re-delivered update or a double tap stores once. The Telegram adapter only words the outcome.

import { planButtonEntryKey, planButtonKeyPrefix } from "../coach/idempotency.js";
import {
  DEFAULT_BACKFILL_DAYS,
  daysBetween,
  implausibleItems,
  type LocalDate,
  type MatchKind,
  parseReport,
} from "../coach/index.js";
import { fromDbDate } from "../db/dates.js";
import {
  entriesOfHabitOnDay,
  entryRetractedBy,
  findEntryWithHabit,
  insertEntries,
  type NewEntry,
  recentEntries,
  retractEntry,
} from "../db/entries.js";
import { findHabitById, findHabitByName } from "../db/habits.js";
import { revisionsOfPlan } from "../db/plan-revisions.js";
import { findPlanById, type PlanItem } from "../db/plans.js";
import type { EntrySource, Habit, Plan, User } from "../generated/prisma/client.js";
import { type CoachState, loadCoachState, stateAfter } from "./coach-state.js";
import type { AppDeps } from "./deps.js";
import { planWithRevisions } from "./planning.js";

export interface StoredItem {
  habit: Habit;
  amount: number;
  day: LocalDate;
  /** what the person typed for the habit, when it was not its exact name or alias */
  guessedFrom?: string;
  /** a yes/no habit that was already done that day: nothing more was stored */
  alreadyDone?: boolean;
}

/** An amount worth asking about before storing ("run 30" for a 5 km habit). */
export interface ImplausibleItem {
  habit: Habit;
  amount: number;
  day: LocalDate;
}

/** Matches the person should see spelled out: “wlk” → walk, “vio” → violin. */
const GUESSES: ReadonlySet<MatchKind> = new Set(["prefix", "words", "misspelling"]);

export type ReportOutcome =
  | { kind: "no-habits" }
  | { kind: "not-understood"; problems: string[]; habits: Habit[] }
  /** nothing stored yet: amounts typed without a unit, far above the habit's session target */
  | { kind: "implausible"; items: ImplausibleItem[]; today: LocalDate }
  | {
      kind: "stored";
      items: StoredItem[];
      /** nothing new was stored: every item's key was already there (a re-delivery) */
      duplicate: boolean;
      /** the coach state after storing (EMAs now) */
      after: CoachState;
    };

/**
 * Stores what a person reported in words ("ran 30 min, violin 15 yesterday"). `keyOf` gives
 * each parsed item's idempotency key (by its position in the report). Amounts typed without a
 * unit and far above the session target are asked about first (outcome "implausible"; store
 * them with `confirmed`); `today` reads the report as of that day (a confirmation given after
 * midnight stores what was meant before it). A yes/no habit already done that day is not
 * stored again (its item says alreadyDone).
 */
export async function logReport(
  deps: Pick<AppDeps, "db" | "now" | "log">,
  person: User,
  text: string,
  options: {
    source: EntrySource;
    keyOf: (position: number) => string;
    confirmed?: boolean;
    today?: LocalDate;
  },
): Promise<ReportOutcome> {
  const { db, now } = deps;
  const state = await loadCoachState(db, person, now());
  if (state.habits.length === 0) return { kind: "no-habits" };
  const parsed = parseReport(text, state.specs, {
    today: options.today ?? state.today,
    backfillDays: DEFAULT_BACKFILL_DAYS,
  });
  if (!parsed.ok)
    return { kind: "not-understood", problems: parsed.problems, habits: state.habits };
  const byId = new Map(state.habits.map((h) => [String(h.id), h]));
  const doubtful = options.confirmed ? [] : implausibleItems(parsed.items, state.specs);
  if (doubtful.length > 0) {
    return {
      kind: "implausible",
      items: doubtful.map((i) => ({ habit: byId.get(i.habitId)!, amount: i.amount, day: i.day })),
      today: options.today ?? state.today,
    };
  }
  const entries: (NewEntry & { alreadyDone: boolean })[] = [];
  for (const [position, item] of parsed.items.entries()) {
    const key = options.keyOf(position);
    const habit = byId.get(item.habitId)!;
    let alreadyDone = false;
    if (habit.kind === "check") {
      const that = await entriesOfHabitOnDay(db, person.id, habit.id, item.day);
      const done = that.filter((e) => !e.retractedAt).reduce((sum, e) => sum + e.amount, 0);
      // a re-delivered report finds its own entry: that is a duplicate, not "already done"
      alreadyDone = done >= 1 && !that.some((e) => e.idempotencyKey === key);
    }
    entries.push({
      habitId: habit.id,
      day: item.day,
      amount: item.amount,
      source: options.source,
      idempotencyKey: key,
      alreadyDone,
    });
  }
  const toStore = entries.filter((e) => !e.alreadyDone).map(({ alreadyDone: _, ...e }) => e);
  const { inserted, entries: stored } =
    toStore.length > 0 ? await insertEntries(db, person.id, toStore) : { inserted: 0, entries: [] };
  deps.log.info({ userId: person.id, items: entries.length, inserted }, "report stored");
  const items: StoredItem[] = parsed.items.map((item, position) => ({
    habit: byId.get(item.habitId)!,
    amount: item.amount,
    day: item.day,
    ...(GUESSES.has(item.match) ? { guessedFrom: item.heard } : {}),
    ...(entries[position].alreadyDone ? { alreadyDone: true } : {}),
  }));
  return {
    kind: "stored",
    items,
    duplicate: inserted === 0 && toStore.length > 0,
    // the EMAs now, from the state this update loaded (one load per update)
    after: stateAfter(state, stored),
  };
}

export type PlanTapOutcome =
  | { kind: "not-this-plan" }
  /** the person took the habit off that day's plan ("not today", a swap) */
  | { kind: "taken-off"; habit: Habit; day: LocalDate }
  | { kind: "archived" }
  | { kind: "too-old"; day: LocalDate }
  | { kind: "already-logged"; habit: Habit; day: LocalDate; today: LocalDate }
  | {
      kind: "logged";
      habit: Habit;
      amount: number;
      day: LocalDate;
      /** false when a concurrent tap stored it first */
      inserted: boolean;
      plan: Plan;
      /** the plan as changed by the person, and as the planner produced it */
      items: PlanItem[];
      original: PlanItem[];
      after: CoachState;
    };

/**
 * A tap on a plan button: logs what is still missing of that habit's planned amount for the
 * plan's day (the planned amount minus what is already logged), verified against the stored plan
 * and the person who tapped.
 */
export async function logPlannedHabit(
  deps: Pick<AppDeps, "db" | "now">,
  person: User,
  tap: { planId: number; habitId: number },
): Promise<PlanTapOutcome> {
  const { db, now } = deps;
  // one round trip: the plan, its revisions and the person's state (used once the plan is
  // known to be theirs)
  const [plan, revisions, state] = await Promise.all([
    findPlanById(db, tap.planId),
    revisionsOfPlan(db, tap.planId),
    loadCoachState(db, person, now()),
  ]);
  if (!plan || plan.userId !== person.id) return { kind: "not-this-plan" };
  // the plan as the person changed it: an amount they changed is what the button logs
  const { items, original } = planWithRevisions(plan, revisions, []);
  // an active habit is in the state; an archived one (or someone else's) is looked up
  const habitOf = async (id: number) =>
    state.habits.find((h) => h.id === id) ?? (await findHabitById(db, id));
  const item = items.find((i) => i.habitId === tap.habitId);
  if (!item || item.amount <= 0) {
    const wasPlanned = (original.find((i) => i.habitId === tap.habitId)?.amount ?? 0) > 0;
    if (!wasPlanned) return { kind: "not-this-plan" };
    const habit = await habitOf(tap.habitId);
    if (!habit || habit.userId !== person.id) return { kind: "not-this-plan" };
    return { kind: "taken-off", habit, day: fromDbDate(plan.day) };
  }
  const habit = await habitOf(tap.habitId);
  if (!habit || habit.userId !== person.id || habit.archivedAt) return { kind: "archived" };
  const day = fromDbDate(plan.day);
  const age = daysBetween(day, state.today);
  if (age < 0 || age > DEFAULT_BACKFILL_DAYS) return { kind: "too-old", day };
  // the day's entries are in the state's window (it covers every day a tap may log)
  const dayEntries =
    day >= state.window.from
      ? state.window.entries.filter((e) => e.habitId === habit.id && fromDbDate(e.day) === day)
      : await entriesOfHabitOnDay(db, person.id, habit.id, day);
  const doneThatDay = dayEntries.filter((e) => !e.retractedAt).reduce((s, e) => s + e.amount, 0);
  if (doneThatDay >= item.amount) {
    return { kind: "already-logged", habit, day, today: state.today };
  }
  // What is still missing: a tap after part was logged completes the planned amount.
  const missing = item.amount - doneThatDay;
  // One key per plan item and "generation": a double tap stores once, a tap after /undo again.
  const prefix = planButtonKeyPrefix(plan.id, habit.id);
  const generation = dayEntries.filter((e) => e.idempotencyKey.startsWith(prefix)).length;
  const { inserted, entries: stored } = await insertEntries(db, person.id, [
    {
      habitId: habit.id,
      day,
      amount: missing,
      source: "button",
      idempotencyKey: planButtonEntryKey(plan.id, habit.id, generation),
    },
  ]);
  return {
    kind: "logged",
    habit,
    amount: missing,
    day,
    inserted: inserted > 0,
    plan,
    items,
    original,
    after: stateAfter(state, stored),
  };
}

/** An entry as /undo shows it: its habit's name, unit and kind, and the day it counts for. */
export interface RecentEntry {
  id: bigint;
  habitId: number;
  amount: number;
  day: LocalDate;
  habit: { name: string; unit: string; kind: string };
}

function recentEntryOf(row: Awaited<ReturnType<typeof recentEntries>>[number]): RecentEntry {
  return {
    id: row.id,
    habitId: row.habitId,
    amount: row.amount,
    day: fromDbDate(row.day),
    habit: row.habit,
  };
}

/** The person's most recent entries (not retracted), newest first. */
export async function recentReports(
  deps: Pick<AppDeps, "db">,
  person: User,
  count: number,
): Promise<RecentEntry[]> {
  return (await recentEntries(deps.db, person.id, count)).map(recentEntryOf);
}

export type UndoOutcome =
  | { kind: "no-such-habit" }
  | { kind: "nothing" }
  | { kind: "raced" }
  | { kind: "undone"; entry: RecentEntry; emaNow: number | undefined; today: LocalDate };

/** How many times /undo retries when a concurrent /undo took the entry it was about to undo. */
const UNDO_ATTEMPTS = 3;

/**
 * Takes back the latest entry, or the latest of the habit called `habitName` (when not "").
 * `key` (undoKey of the update) makes it idempotent: a re-delivered /undo answers with the entry
 * it already took back instead of taking back another.
 */
export async function undoLatest(
  deps: Pick<AppDeps, "db" | "now">,
  person: User,
  habitName: string,
  key: string,
): Promise<UndoOutcome> {
  const { db, now } = deps;
  const already = await entryRetractedBy(db, person.id, key);
  if (already) return undone(deps, person, recentEntryOf(already));
  let habitId: number | undefined;
  if (habitName !== "") {
    const habit = await findHabitByName(db, person.id, habitName);
    if (!habit) return { kind: "no-such-habit" };
    habitId = habit.id;
  }
  // Two /undo at the same moment must undo two different entries: retry when we lost the race.
  for (let attempt = 0; attempt < UNDO_ATTEMPTS; attempt++) {
    const recent = await recentEntries(db, person.id, habitId === undefined ? 1 : 50);
    const entry = habitId === undefined ? recent[0] : recent.find((e) => e.habitId === habitId);
    if (!entry) return { kind: "nothing" };
    if (await retractEntry(db, person.id, entry.id, now(), key)) {
      return undone(deps, person, recentEntryOf(entry));
    }
  }
  return { kind: "raced" };
}

export type UndoEntryOutcome = { kind: "not-yours" } | { kind: "already-undone" } | UndoOutcome;

/** Takes back one entry picked from a list (it must be the person's); `key` as in undoLatest. */
export async function undoEntry(
  deps: Pick<AppDeps, "db" | "now">,
  person: User,
  entryId: bigint,
  key: string,
): Promise<UndoEntryOutcome> {
  const entry = await findEntryWithHabit(deps.db, entryId);
  if (!entry || entry.userId !== person.id) return { kind: "not-yours" };
  if (!(await retractEntry(deps.db, person.id, entry.id, deps.now(), key))) {
    return entry.retractionKey === key
      ? undone(deps, person, recentEntryOf(entry))
      : { kind: "already-undone" };
  }
  return undone(deps, person, recentEntryOf(entry));
}

async function undone(
  deps: Pick<AppDeps, "db" | "now">,
  person: User,
  entry: RecentEntry,
): Promise<UndoOutcome> {
  const state = await loadCoachState(deps.db, person, deps.now());
  return {
    kind: "undone",
    entry,
    emaNow: state.emasToday[String(entry.habitId)],
    today: state.today,
  };
}
