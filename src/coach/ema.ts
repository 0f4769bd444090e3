/**
 * Goal-normalised EMAs and the reward: the heart of the method (docs/method.md).
 *
 * normalised value n = min(amount / target, NORMALISED_CAP) × 7 / daysPerWeek
 * ema_t = α·n_t + (1 − α)·ema_{t−1},  α = 2 / (span + 1)
 * reward = 1 − mean_h |1 − ema_h|
 */

import type { CompiledHabits } from "./adjust.js";
import { addDays, epochDayOf, type LocalDate } from "./days.js";
import type { HabitSpec, MetricGoal } from "./habits.js";

/**
 * One day counts at most NORMALISED_CAP sessions: amount/target is capped at 2 before scaling by
 * 7/daysPerWeek, so a day's normalised value is at most NORMALISED_CAP × 7 / daysPerWeek
 * (2 for a daily habit, 14 for a weekly one). Capping the ratio rather than n itself keeps a
 * weekly habit reachable (one session at target must count 7) while a 4-hour run for a 30-minute
 * daily goal counts like a double session, not eight.
 */
export const NORMALISED_CAP = 2;

/**
 * Two weeks: long enough that a weekly rhythm (rest days, a weekly habit) keeps the EMA close to
 * 1 for someone exactly on goal (±15 % for 5 of 7 days), short enough that a change of behaviour
 * shows within days (one missed daily session lowers the EMA by 13 %).
 */
export const DEFAULT_EMA_SPAN_DAYS = 14;

/**
 * How far back EMAs are recomputed from the log (planning, /stats): with the 14-day span a day
 * 120 days back weighs (13/15)^120 < 1e-7, far below what any number shown or planned on sees.
 */
export const EMA_WINDOW_DAYS = 120;

/**
 * EMA before a habit's first day: 0. The EMA is evidence of doing; a habit that has just been
 * added has none, and starting at 1 would score someone as on track for days they did nothing.
 */
export const INITIAL_EMA = 0;

/** Metric distances are capped at this many tolerance units. */
export const METRIC_DISTANCE_CAP = 3;
/** Weight of the mean capped metric distance subtracted from the habit reward. */
export const DEFAULT_METRIC_WEIGHT = 0.05;

export function alphaFromSpan(spanDays: number): number {
  if (!(spanDays >= 1) || !Number.isFinite(spanDays)) {
    throw new RangeError(`EMA span must be at least 1 day, got ${spanDays}`);
  }
  return 2 / (spanDays + 1);
}

export function normalisedValue(
  habit: Pick<HabitSpec, "target" | "daysPerWeek">,
  amount: number,
): number {
  const ratio = amount / habit.target;
  // NaN and negative amounts count as nothing done.
  const capped = ratio > 0 ? Math.min(ratio, NORMALISED_CAP) : 0;
  return (capped * 7) / habit.daysPerWeek;
}

/** Largest normalised value (and so EMA) a habit can reach. */
export function maxNormalisedValue(habit: Pick<HabitSpec, "daysPerWeek">): number {
  return (NORMALISED_CAP * 7) / habit.daysPerWeek;
}

export function emaStep(prev: number, normalised: number, alpha: number): number {
  return alpha * normalised + (1 - alpha) * prev;
}

/** 1 − mean |1 − ema|; 0 when there is no habit to score. */
export function dailyReward(emas: ArrayLike<number>): number {
  const n = emas.length;
  if (n === 0) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const d = 1 - emas[i];
    sum += d < 0 ? -d : d;
  }
  return 1 - sum / n;
}

let groupCountScratch = new Float64Array(16);

/**
 * The reward restricted to each actor group: out[g] = 1 − mean over habits h with group g of
 * |1 − ema_h| (0 for a group without habits). Allocation-free when `out` is given.
 */
export function groupRewards(
  emas: ArrayLike<number>,
  actorGroupOfHabit: ArrayLike<number>,
  groupCount: number,
  out?: Float64Array,
): Float64Array {
  const res = out ?? new Float64Array(groupCount);
  if (groupCountScratch.length < groupCount) groupCountScratch = new Float64Array(groupCount * 2);
  const counts = groupCountScratch;
  for (let g = 0; g < groupCount; g++) {
    res[g] = 0;
    counts[g] = 0;
  }
  const n = emas.length;
  for (let i = 0; i < n; i++) {
    const g = actorGroupOfHabit[i];
    const d = 1 - emas[i];
    res[g] += d < 0 ? -d : d;
    counts[g] += 1;
  }
  for (let g = 0; g < groupCount; g++) res[g] = counts[g] > 0 ? 1 - res[g] / counts[g] : 0;
  return res;
}

/**
 * One EMA step for every habit of a compiled set, in place: emas[h] ← emaStep(emas[h],
 * normalisedValue(h, dayAmount(h, amounts[h])), alpha). Allocation-free.
 */
export function stepEmas(
  compiled: CompiledHabits,
  emas: Float64Array,
  amounts: ArrayLike<number>,
  alpha: number,
): Float64Array {
  const { target, daysPerWeek, count, amountCap } = compiled;
  const keep = 1 - alpha;
  for (let h = 0; h < count; h++) {
    const amount = amounts[h];
    const cap = amountCap[h];
    const ratio = (amount > cap ? cap : amount) / target[h];
    const capped = ratio > 0 ? Math.min(ratio, NORMALISED_CAP) : 0;
    emas[h] = alpha * ((capped * 7) / daysPerWeek[h]) + keep * emas[h];
  }
  return emas;
}

// ---------------------------------------------------------------- metrics

/** Signed distance from target in tolerance units: (value − target) / tolerance. */
export function metricDeviation(
  goal: Pick<MetricGoal, "target" | "tolerance">,
  value: number,
): number {
  return (value - goal.target) / goal.tolerance;
}

/**
 * How far a metric is from its goal, in tolerance units, capped at METRIC_DISTANCE_CAP.
 * keep: |value − target| / tolerance (every step away counts); reach: the distance beyond the
 * tolerance band, max(0, |value − target| / tolerance − 1) (within tolerance is reached).
 */
export function metricDistance(goal: MetricGoal, value: number): number {
  const d = Math.abs(metricDeviation(goal, value));
  const dist = goal.direction === "keep" ? d : Math.max(0, d - 1);
  return Math.min(dist, METRIC_DISTANCE_CAP);
}

/**
 * Habit reward minus weight × mean metric distance (NaN distances, i.e. metrics without a recent
 * sample, are skipped). Weight 0.05 by default: a metric three tolerances away costs 0.15.
 */
export function rewardWithMetrics(
  habitReward: number,
  metricDistances: ArrayLike<number>,
  weight = DEFAULT_METRIC_WEIGHT,
): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < metricDistances.length; i++) {
    const d = metricDistances[i];
    if (Number.isNaN(d)) continue;
    sum += Math.min(Math.max(d, 0), METRIC_DISTANCE_CAP);
    n++;
  }
  return n === 0 ? habitReward : habitReward - (weight * sum) / n;
}

// ---------------------------------------------------------------- series from the entry log

export interface HabitEntryLike {
  habitId: string;
  day: LocalDate;
  amount: number;
  retracted?: boolean;
}

export interface DayState {
  day: LocalDate;
  /** EMA of every habit active that day (after the day's entries). */
  emas: Record<string, number>;
  /** 1 − mean |1 − ema| over the active habits (0 with none). */
  reward: number;
  /** Per actor group (index = HabitSpec.actorGroup), over the group's active habits. */
  groupRewards: number[];
}

export interface EmaSeriesOptions {
  spanDays?: number;
  initialEma?: number;
  /** First active day per habit id (default: always active). Entries before it are ignored. */
  startDays?: Record<string, LocalDate>;
  /** First day a habit is no longer active (archived) per id. It leaves the mean and its EMA. */
  endDays?: Record<string, LocalDate>;
  /** State of the day before `from`, to continue a stored series instead of starting fresh. */
  initialState?: DayState | null;
}

/** When a habit counts in the EMAs and the reward. */
export interface HabitLifetime {
  spec: HabitSpec;
  /** First day the habit counts (its creation day, or its first entry if earlier). */
  startDay: LocalDate;
  /** First day it no longer counts (archive day), if archived. */
  endDay: LocalDate | null;
}

/**
 * The first day a habit counts: the day it was created, or the day of its first entry when that
 * is earlier (someone adds a habit and back-dates a report).
 */
export function habitStartDay(createdDay: LocalDate, firstEntryDay?: LocalDate): LocalDate {
  return firstEntryDay !== undefined && firstEntryDay < createdDay ? firstEntryDay : createdDay;
}

/** `emaSeries` options that make each habit count only during its lifetime. */
export function lifetimeOptions(
  habits: readonly HabitLifetime[],
): Required<Pick<EmaSeriesOptions, "startDays" | "endDays">> {
  const startDays: Record<string, LocalDate> = {};
  const endDays: Record<string, LocalDate> = {};
  for (const h of habits) {
    startDays[h.spec.id] = h.startDay;
    if (h.endDay !== null) endDays[h.spec.id] = h.endDay;
  }
  return { startDays, endDays };
}

function isActive(id: string, epochDay: number, options: EmaSeriesOptions): boolean {
  const s = options.startDays?.[id];
  if (s !== undefined && epochDay < epochDayOf(s)) return false;
  const e = options.endDays?.[id];
  if (e !== undefined && epochDay >= epochDayOf(e)) return false;
  return true;
}

/**
 * Sums of non-retracted amounts per habit for one day. Amounts are added in ascending order so
 * the sum does not depend on the order entries arrive in (incremental = full recomputation).
 */
export function dailyAmounts(entries: HabitEntryLike[], day: LocalDate): Record<string, number> {
  const byHabit = new Map<string, number[]>();
  for (const e of entries) {
    if (e.day !== day || e.retracted === true || !Number.isFinite(e.amount)) continue;
    let list = byHabit.get(e.habitId);
    if (list === undefined) byHabit.set(e.habitId, (list = []));
    list.push(e.amount);
  }
  const out: Record<string, number> = {};
  for (const [id, list] of byHabit) out[id] = canonicalSum(list);
  return out;
}

function canonicalSum(list: number[]): number {
  list.sort((a, b) => a - b);
  let s = 0;
  for (const x of list) s += x;
  return s;
}

/** A check habit reported twice on a day is still done once. */
export function dayAmount(habit: Pick<HabitSpec, "kind">, amount: number): number {
  return habit.kind === "check" && amount > 1 ? 1 : amount;
}

/**
 * The next day's state from the previous one and the day's amounts per habit id (missing → 0).
 * Habits not active on `day` are left out; a habit active but absent from `prev` starts from
 * the initial EMA. emaSeries is this function applied day after day.
 */
export function nextDayState(
  habits: HabitSpec[],
  prev: DayState | null,
  day: LocalDate,
  amounts: Record<string, number>,
  options: EmaSeriesOptions = {},
): DayState {
  const alpha = alphaFromSpan(options.spanDays ?? DEFAULT_EMA_SPAN_DAYS);
  const initial = options.initialEma ?? INITIAL_EMA;
  const epochDay = epochDayOf(day);
  let groupCount = 0;
  for (const h of habits) groupCount = Math.max(groupCount, h.actorGroup + 1);
  const sums = new Array<number>(groupCount).fill(0);
  const counts = new Array<number>(groupCount).fill(0);
  const emas: Record<string, number> = {};
  let total = 0;
  let n = 0;
  for (const h of habits) {
    if (!isActive(h.id, epochDay, options)) continue;
    const before = prev?.emas[h.id] ?? initial;
    const ema = emaStep(before, normalisedValue(h, dayAmount(h, amounts[h.id] ?? 0)), alpha);
    emas[h.id] = ema;
    const d = Math.abs(1 - ema);
    total += d;
    n++;
    sums[h.actorGroup] += d;
    counts[h.actorGroup]++;
  }
  return {
    day,
    emas,
    reward: n === 0 ? 0 : 1 - total / n,
    groupRewards: sums.map((s, g) => (counts[g] === 0 ? 0 : 1 - s / counts[g])),
  };
}

/**
 * States for every day from `from` to `to` inclusive, recomputed from the entry log (retracted
 * entries ignored, unknown habit ids ignored). Starts from `options.initialState` (the state of
 * the day before `from`) or from scratch.
 */
export function emaSeries(
  habits: HabitSpec[],
  entries: HabitEntryLike[],
  from: LocalDate,
  to: LocalDate,
  options: EmaSeriesOptions = {},
): DayState[] {
  const first = epochDayOf(from);
  const last = epochDayOf(to);
  if (Number.isNaN(first) || Number.isNaN(last)) {
    throw new RangeError(`emaSeries needs calendar dates, got ${from} and ${to}`);
  }
  if (last < first) return [];
  const known = new Set(habits.map((h) => h.id));
  const perDay = new Map<number, Map<string, number[]>>();
  for (const e of entries) {
    if (e.retracted === true || !known.has(e.habitId) || !Number.isFinite(e.amount)) continue;
    const d = epochDayOf(e.day);
    if (!(d >= first && d <= last)) continue;
    let day = perDay.get(d);
    if (day === undefined) perDay.set(d, (day = new Map()));
    let list = day.get(e.habitId);
    if (list === undefined) day.set(e.habitId, (list = []));
    list.push(e.amount);
  }
  const states: DayState[] = [];
  let prev = options.initialState ?? null;
  let day = from;
  for (let d = first; d <= last; d++) {
    const amounts: Record<string, number> = {};
    const lists = perDay.get(d);
    if (lists !== undefined) for (const [id, list] of lists) amounts[id] = canonicalSum(list);
    prev = nextDayState(habits, prev, day, amounts, options);
    states.push(prev);
    day = d < last ? addDays(day, 1) : day;
  }
  return states;
}
