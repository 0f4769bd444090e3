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
import { entryLikeOf, listEntries } from "../db/entries.js";
import { habitSpecOf, listHabits } from "../db/habits.js";
import type { Habit, User } from "../generated/prisma/client.js";

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
}

export async function loadCoachState(db: Database, person: User, now: Date): Promise<CoachState> {
  const today = todayOf(person, now);
  const habits = await listHabits(db, person.id);
  const specs = habits.map(habitSpecOf);
  const from = addDays(today, -EMA_WINDOW_DAYS);
  const entries = (await listEntries(db, person.id, from, today)).map(entryLikeOf);
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
  };
}
