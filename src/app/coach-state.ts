// What the coach knows about a person right now, read from the database and computed by the
// coach core: active habits, their EMAs today and yesterday, and "today" in the person's day.
import {
  addDays,
  dayOf,
  EMA_WINDOW_DAYS,
  emaSeries,
  type HabitSpec,
  type LocalDate,
} from "../coach/index.js";
import type { Database } from "../db/client.js";
import { fromDbDate } from "../db/dates.js";
import { entryLikeOf, listEntries } from "../db/entries.js";
import { habitSpecOf, listHabits } from "../db/habits.js";
import type { Habit, HabitEntry, User } from "../generated/prisma/client.js";

/** The person's current day (reports before their day-start hour count for the previous day). */
export function todayOf(person: Pick<User, "timezone" | "dayStartHour">, now: Date): LocalDate {
  return dayOf(now, person.timezone, person.dayStartHour);
}

export interface CoachState {
  today: LocalDate;
  habits: Habit[];
  specs: HabitSpec[];
  /** EMA per habit id after today's entries */
  emasToday: Record<string, number>;
  /** EMA per habit id at the end of yesterday (what today's plan is based on) */
  emasYesterday: Record<string, number>;
  /** non-retracted amount per habit id logged for today */
  doneToday: Record<string, number>;
  /** the stored entries of the EMA window (from `from` to today) the state was computed from */
  window: { from: LocalDate; entries: HabitEntry[] };
}

/** The state computed from the window's entries (the coach core's EMA series). */
function stateOf(
  today: LocalDate,
  habits: Habit[],
  from: LocalDate,
  rows: HabitEntry[],
): CoachState {
  const specs = habits.map(habitSpecOf);
  const entries = rows.map(entryLikeOf);
  const series = emaSeries(specs, entries, from, today);
  const last = series[series.length - 1];
  const beforeLast = series[series.length - 2];
  const doneToday: Record<string, number> = {};
  for (const e of entries) {
    if (e.day !== today || e.retracted) continue;
    doneToday[e.habitId] = (doneToday[e.habitId] ?? 0) + e.amount;
  }
  return {
    today,
    habits,
    specs,
    emasToday: last?.emas ?? {},
    emasYesterday: beforeLast?.emas ?? {},
    doneToday,
    window: { from, entries: rows },
  };
}

/**
 * The state once `stored` entries are in (as insertEntries returns them: new or stored before),
 * computed without reading the database again: a report's confirmation shows the EMAs "now"
 * from the one load its update made. Entries already in the window are not counted twice.
 */
export function stateAfter(state: CoachState, stored: HabitEntry[]): CoachState {
  const { from, entries } = state.window;
  const known = new Set(entries.map((e) => e.id));
  const added = stored.filter((e) => {
    if (known.has(e.id)) return false;
    const day = fromDbDate(e.day);
    return day >= from && day <= state.today;
  });
  if (added.length === 0) return state;
  return stateOf(state.today, state.habits, from, [...entries, ...added]);
}

export async function loadCoachState(db: Database, person: User, now: Date): Promise<CoachState> {
  const today = todayOf(person, now);
  const from = addDays(today, -EMA_WINDOW_DAYS);
  const [habits, rows] = await Promise.all([
    listHabits(db, person.id),
    listEntries(db, person.id, from, today),
  ]);
  return stateOf(today, habits, from, rows);
}
