// /stats as a use case: a person's habits over the last 30, 90 or 365 days — EMAs from the coach
// core's emaSeries over the stored, non-retracted entries (recomputed with a warm-up so the
// window's first day is already right), streaks, and the chart drawn by the chart renderer.
import { addDays, dayOf, type LocalDate } from "../../coach/days.js";
import {
  type DayState,
  EMA_WINDOW_DAYS,
  emaSeries,
  type HabitLifetime,
  lifetimeOptions,
} from "../../coach/ema.js";
import { entryLikeOf, listEntries } from "../../db/entries.js";
import { habitLifetimesOf, listHabits } from "../../db/habits.js";
import type { User } from "../../generated/prisma/client.js";
import type { AppDeps } from "../deps.js";
import type { StatsChartInput } from "./charts.js";
import { inlineChartRenderer } from "./renderer.js";

/** A habit with the days it counts (coach core). */
export type HabitHistory = HabitLifetime;

export interface StatsWindow {
  days: LocalDate[];
  states: DayState[];
  /** Days with at least one non-retracted entry (any habit), over the whole history loaded. */
  loggedDays: Set<LocalDate>;
}

/**
 * The day states of the last `period` days ending `today`, computed from `warmupFrom` on so
 * the EMAs at the window's first day include earlier history.
 */
export function statsWindow(
  habits: HabitHistory[],
  entries: { habitId: string; day: LocalDate; amount: number; retracted?: boolean }[],
  today: LocalDate,
  period: number,
  warmupDays = EMA_WINDOW_DAYS,
): StatsWindow {
  const first = addDays(today, -(period - 1));
  const warmupFrom = addDays(first, -warmupDays);
  const all = emaSeries(
    habits.map((h) => h.spec),
    entries,
    warmupFrom,
    today,
    lifetimeOptions(habits),
  );
  const states = all.slice(-period);
  const loggedDays = new Set<LocalDate>();
  for (const e of entries) if (e.retracted !== true && e.amount > 0) loggedDays.add(e.day);
  return { days: states.map((s) => s.day), states, loggedDays };
}

/** Consecutive days ending at `today` (or yesterday, if today has nothing yet) that satisfy `ok`. */
export function currentStreak(
  today: LocalDate,
  ok: (day: LocalDate) => boolean,
  maxDays = 3660,
): number {
  let day = ok(today) ? today : addDays(today, -1);
  let n = 0;
  while (n < maxDays && ok(day)) {
    n++;
    day = addDays(day, -1);
  }
  return n;
}

export function longestRun(days: LocalDate[], ok: (day: LocalDate) => boolean): number {
  let best = 0;
  let run = 0;
  for (const d of days) {
    run = ok(d) ? run + 1 : 0;
    best = Math.max(best, run);
  }
  return best;
}

/** Whether any habit was active on that day (days before the first habit have no reward). */
export function hasActiveHabits(state: DayState): boolean {
  return Object.keys(state.emas).length > 0;
}

/** Chart input: one line per habit active at some point in the window. */
export function statsChartInput(habits: HabitHistory[], window: StatsWindow): StatsChartInput {
  const shown = habits.filter((h) => window.states.some((s) => s.emas[h.spec.id] !== undefined));
  return {
    title: `Your habits · last ${window.days.length} days`,
    days: window.days,
    habits: shown.map((h) => ({
      name: h.spec.name,
      emas: window.states.map((s) => s.emas[h.spec.id] ?? null),
    })),
    reward: window.states.map((s) => (hasActiveHabits(s) ? s.reward : null)),
  };
}

export interface PersonProgress {
  chart: Buffer;
  habits: HabitHistory[];
  window: StatsWindow;
  today: LocalDate;
}

/** Loads a person's habits and entries and draws the chart; null without habits in the period. */
export async function personProgress(
  deps: Pick<AppDeps, "db" | "now" | "charts">,
  person: User,
  period: number,
): Promise<PersonProgress | null> {
  const { db } = deps;
  const charts = deps.charts ?? inlineChartRenderer;
  const today = dayOf(deps.now(), person.timezone, person.dayStartHour);
  const first = addDays(today, -(period - 1));
  const rows = await listHabits(db, person.id, { includeArchived: true });
  const visible = rows.filter(
    (h) =>
      h.archivedAt === null || dayOf(h.archivedAt, person.timezone, person.dayStartHour) > first,
  );
  if (visible.length === 0) return null;
  const warmupFrom = addDays(first, -EMA_WINDOW_DAYS);
  const entries = await listEntries(db, person.id, warmupFrom, today);
  const habits = habitLifetimesOf(visible, entries, (instant) =>
    dayOf(instant, person.timezone, person.dayStartHour),
  );
  const window = statsWindow(habits, entries.map(entryLikeOf), today, period);
  const chart = await charts.stats(statsChartInput(habits, window));
  return { chart, habits, window, today };
}
