/**
 * Fitting the behaviour part of a persona to a real person's history: what was planned each
 * day, what was actually done, and the weekday. Pure: plain data in, a `PersonaBehaviour` (the
 * type the simulator in habit-env.ts runs) and a fit summary out. docs/personas.md ("Fitted
 * personas") describes every estimate and its prior.
 *
 * The simulator's model, which the estimates mean exactly:
 *   planned:    P(done) = compliance × weekday × motivation × overload(planned count)
 *   unplanned:  P(done) = unplannedRate × weekday × motivation
 *   done amount = planned amount (target when unplanned) × ratio, ratio ~ uniform(mean ± sd·√3)
 * "Done" means an amount > 0. Motivation drift and cross-effects are not fitted (defaults).
 * The person's own changes to a day's plan (`HistoryDay.chosen`) are read as choices: "not
 * today" is a planned habit not done, and a changed amount is their own level (the amount sample).
 */
import type { HabitSpec } from "../coach/habits.js";
import { defaultBehaviour } from "./habit-training.js";
import type { HabitBehaviour, PersonaBehaviour } from "./persona.js";

/** One calendar day of a person's history. */
export interface HistoryDay {
  /** 0 = Monday … 6 = Sunday (the simulator's weekday). */
  weekday: number;
  /**
   * Planned amount per habit id (0 or missing = not planned that day); null when no plan was
   * stored that day (every habit then counts as not planned).
   */
  planned: Record<string, number> | null;
  /** Amount done per habit id (sum of non-retracted entries; missing = 0). */
  done: Record<string, number>;
  /**
   * The amount the person chose by changing that day's plan (its latest revision), per habit id;
   * missing = not changed. 0 ("not today", swapped out) on a planned habit counts as planned and
   * not done, by choice, whatever was logged; an amount > 0 is the person's own level: it is the
   * amount sample of a day the habit was done (÷ the planned amount, or the target when the
   * habit was not planned). Whether it was done still comes from `done`.
   */
  chosen?: Record<string, number>;
}

export interface FitOptions {
  /** Weight of the default behaviour, in days of evidence (Beta prior strength). Default 10. */
  priorDays?: number;
  /** Pseudo-observations pulling each weekday factor toward 1. Default 10. */
  weekdayPrior?: number;
  /** Pseudo-ratios pulling the amount mean toward 1 and the sd toward the default. Default 5. */
  amountPrior?: number;
  /** The behaviour the priors pull toward (default: `defaultBehaviour(habits)`). */
  prior?: PersonaBehaviour;
}

export interface HabitFitQuality {
  plannedDays: number;
  plannedDone: number;
  unplannedDays: number;
  unplannedDone: number;
}

export interface FitQuality {
  /** Days of history used. */
  days: number;
  /** Days with a stored plan. */
  daysWithPlan: number;
  habits: Record<string, HabitFitQuality>;
  /** "fitted" when the overload model beat the default clearly; otherwise "default". */
  capacity: "fitted" | "default";
  /** Log-likelihood gain of the fitted capacity/penalty over the default ones (nats). */
  capacityGain: number;
}

export interface FitResult {
  behaviour: PersonaBehaviour;
  quality: FitQuality;
}

/** The simulator's accepted ranges (persona validator). */
const WEEKDAY_MAX = 10;
const AMOUNT_MAX = 5;
/** Minimum log-likelihood gain (nats) for the capacity model to replace the default. */
const CAPACITY_MIN_GAIN = 10;
const PENALTY_GRID = Array.from({ length: 51 }, (_, i) => i * 0.02); // 0 … 1

const clamp = (x: number, lo: number, hi: number) =>
  Number.isFinite(x) ? Math.min(hi, Math.max(lo, x)) : lo;

const amountOf = (record: Record<string, number> | null, id: string): number => {
  const x = record?.[id];
  return typeof x === "number" && Number.isFinite(x) && x > 0 ? x : 0;
};

/** The chosen amount of a habit (≥ 0), or NaN when the person did not change it that day. */
const chosenOf = (record: Record<string, number> | undefined, id: string): number => {
  const x = record?.[id];
  return typeof x === "number" && Number.isFinite(x) && x >= 0 ? x : Number.NaN;
};

const overloadFactor = (planned: number, capacity: number, penalty: number) => {
  const over = planned - capacity;
  return over > 0 ? Math.max(0, 1 - penalty * over) : 1;
};

interface Day {
  weekday: number;
  planned: Float64Array;
  done: Float64Array;
  /** the person's own amount by a plan change; NaN = unchanged */
  chosen: Float64Array;
  plannedCount: number;
}

/** Fits compliance, unplanned rate, amounts, weekday factors and (if the data tells) capacity. */
export function fitBehaviour(
  habits: HabitSpec[],
  history: HistoryDay[],
  options: FitOptions = {},
): FitResult {
  const prior = options.prior ?? defaultBehaviour(habits);
  const a = Math.max(0, options.priorDays ?? 10);
  const m = Math.max(0, options.weekdayPrior ?? 10);
  const k = Math.max(0, options.amountPrior ?? 5);
  const H = habits.length;
  const ids = habits.map((h) => h.id);

  const days: Day[] = history
    .filter((d) => Number.isInteger(d.weekday) && d.weekday >= 0 && d.weekday < 7)
    .map((d) => {
      const planned = Float64Array.from(ids, (id) => amountOf(d.planned, id));
      const chosen = Float64Array.from(ids, (id) => chosenOf(d.chosen, id));
      // declined by choice: planned, not done (an entry logged anyway does not count as the plan)
      const done = Float64Array.from(ids, (id, h) =>
        chosen[h] === 0 && planned[h] > 0 ? 0 : amountOf(d.done, id),
      );
      return {
        weekday: d.weekday,
        planned,
        done,
        chosen,
        plannedCount: planned.reduce((n, x) => n + (x > 0 ? 1 : 0), 0),
      };
    });
  const daysWithPlan = history.filter(
    (d) => d.planned !== null && Number.isInteger(d.weekday) && d.weekday >= 0 && d.weekday < 7,
  ).length;

  const c0 = ids.map((id) => clamp(prior.habits[id]?.compliance ?? 0.75, 0, 1));
  const u0 = ids.map((id) => clamp(prior.habits[id]?.unplannedRate ?? 0.05, 0, 1));
  const compliance = [...c0];
  const unplanned = [...u0];
  const weekday = [1, 1, 1, 1, 1, 1, 1];
  let capacity = prior.capacity;
  let penalty = prior.overloadPenalty;
  let capacityFitted = false;
  let capacityGain = 0;

  // Compliance of habit h (Beta posterior mean) given weekday factors and an overload model:
  // done ÷ exposure, where each planned day's exposure is its weekday × overload factor.
  // Planned outcomes aggregated by (habit, planned count, weekday): the capacity grid search
  // evaluates many pairs, and these counts make each evaluation independent of the day count.
  const cells = (H + 1) * 7;
  const plannedN = new Float64Array(H * cells);
  const plannedHit = new Float64Array(H * cells);
  for (const d of days) {
    for (let h = 0; h < H; h++) {
      if (d.planned[h] <= 0) continue;
      const cell = h * cells + d.plannedCount * 7 + d.weekday;
      plannedN[cell]++;
      if (d.done[h] > 0) plannedHit[cell]++;
    }
  }
  const complianceFor = (h: number, cap: number, pen: number): number => {
    let done = 0;
    let exposure = 0;
    for (let n = 1; n <= H; n++) {
      const o = overloadFactor(n, cap, pen);
      for (let w = 0; w < 7; w++) {
        const cell = h * cells + n * 7 + w;
        done += plannedHit[cell];
        exposure += plannedN[cell] * weekday[w] * o;
      }
    }
    return clamp((done + a * c0[h]) / (exposure + a), 0, 1);
  };
  // Profile log-likelihood of the planned outcomes under a capacity/penalty pair: compliance
  // re-fitted for that pair, so pairs are compared at their best (compliance and overload
  // trade off when the number of planned habits hardly varies; the profile is then flat).
  const plannedLogLik = (cap: number, pen: number): number => {
    let ll = 0;
    for (let h = 0; h < H; h++) {
      const c = complianceFor(h, cap, pen);
      for (let n = 1; n <= H; n++) {
        const o = overloadFactor(n, cap, pen);
        for (let w = 0; w < 7; w++) {
          const cell = h * cells + n * 7 + w;
          const total = plannedN[cell];
          if (total === 0) continue;
          const p = clamp(c * weekday[w] * o, 1e-6, 1 - 1e-6);
          const hit = plannedHit[cell];
          ll += hit * Math.log(p) + (total - hit) * Math.log(1 - p);
        }
      }
    }
    return ll;
  };

  // Alternating ratio estimates: each parameter = observed ÷ expected under the others,
  // with its prior as pseudo-observations. Converges in a few rounds.
  for (let round = 0; round < 6; round++) {
    // Compliance and unplanned rate: Beta(a·prior, a·(1 − prior)) posterior means, with the
    // exposure of each day weighted by its weekday and overload factors.
    for (let h = 0; h < H; h++) {
      let doneU = 0;
      let exposureU = 0;
      for (const d of days) {
        if (d.planned[h] > 0) continue;
        doneU += d.done[h] > 0 ? 1 : 0;
        exposureU += weekday[d.weekday];
      }
      compliance[h] = complianceFor(h, capacity, penalty);
      unplanned[h] = clamp((doneU + a * u0[h]) / (exposureU + a), 0, 1);
    }
    // Weekday factors: observed ÷ expected "done" counts per weekday (shrunk toward 1 by m
    // pseudo-observations), then scaled to an exposure-weighted mean of 1 so that compliance
    // keeps meaning the average rate.
    const observed = new Float64Array(7);
    const expected = new Float64Array(7);
    for (const d of days) {
      const o = overloadFactor(d.plannedCount, capacity, penalty);
      for (let h = 0; h < H; h++) {
        observed[d.weekday] += d.done[h] > 0 ? 1 : 0;
        expected[d.weekday] += d.planned[h] > 0 ? compliance[h] * o : unplanned[h];
      }
    }
    let weighted = 0;
    let total = 0;
    for (let w = 0; w < 7; w++) {
      weekday[w] = (observed[w] + m) / (expected[w] + m);
      weighted += weekday[w] * expected[w];
      total += expected[w];
    }
    const mean = total > 0 ? weighted / total : 1;
    for (let w = 0; w < 7; w++) {
      weekday[w] = clamp(mean > 0 ? weekday[w] / mean : 1, 0, WEEKDAY_MAX);
    }
    // Capacity and overload penalty: a grid search on the planned outcomes' likelihood; the
    // default stays unless the best pair is clearly better (the data can tell).
    const base = plannedLogLik(prior.capacity, prior.overloadPenalty);
    let best = { cap: prior.capacity, pen: prior.overloadPenalty, ll: base };
    // capacity ≥ 1: "overloaded from the first planned habit" cannot be told apart from a lower
    // compliance, and the fit would use it to absorb patterns it does not model (weekdays)
    for (let cap = Math.min(1, H); cap <= H; cap++) {
      for (const pen of PENALTY_GRID) {
        const ll = plannedLogLik(cap, pen);
        if (ll > best.ll + 1e-9) best = { cap, pen, ll };
      }
    }
    capacityGain = best.ll - base;
    capacityFitted = capacityGain > CAPACITY_MIN_GAIN;
    // penalty 0 means no overload at any capacity: say so with capacity = habit count
    capacity = capacityFitted ? (best.pen === 0 ? H : best.cap) : prior.capacity;
    penalty = capacityFitted ? best.pen : prior.overloadPenalty;
  }

  // Amounts: done ÷ planned (÷ target when unplanned) on days the habit was done; the mean
  // shrunk toward the prior mean and the variance toward the prior sd² by k pseudo-ratios.
  const behaviourHabits: Record<string, HabitBehaviour> = {};
  const quality: Record<string, HabitFitQuality> = {};
  habits.forEach((habit, h) => {
    const ph = prior.habits[habit.id];
    const mean0 = clamp(ph?.amountMean ?? 1, 0, AMOUNT_MAX);
    const sd0 = clamp(ph?.amountSd ?? 0, 0, AMOUNT_MAX);
    const ratios: number[] = [];
    const q: HabitFitQuality = {
      plannedDays: 0,
      plannedDone: 0,
      unplannedDays: 0,
      unplannedDone: 0,
    };
    for (const d of days) {
      const done = d.done[h] > 0;
      // the amount done, or the person's own level when they changed the plan's amount
      const amount = d.chosen[h] > 0 ? d.chosen[h] : d.done[h];
      if (d.planned[h] > 0) {
        q.plannedDays++;
        if (done) {
          q.plannedDone++;
          ratios.push(amount / d.planned[h]);
        }
      } else {
        q.unplannedDays++;
        if (done) {
          q.unplannedDone++;
          if (habit.target > 0) ratios.push(amount / habit.target);
        }
      }
    }
    quality[habit.id] = q;
    let amountMean = mean0;
    let amountSd = sd0;
    if (habit.kind === "check") {
      amountMean = 1;
      amountSd = 0;
    } else {
      const finite = ratios.filter((r) => Number.isFinite(r)).map((r) => Math.min(r, AMOUNT_MAX));
      const n = finite.length;
      const sum = finite.reduce((s, r) => s + r, 0);
      amountMean = clamp((sum + k * mean0) / (n + k), 0, AMOUNT_MAX);
      const squares = finite.reduce((s, r) => s + (r - amountMean) ** 2, 0);
      amountSd = clamp(Math.sqrt((squares + k * sd0 * sd0) / (n + k)), 0, AMOUNT_MAX);
    }
    const fitted: HabitBehaviour = {
      compliance: compliance[h],
      unplannedRate: unplanned[h],
      amountMean,
      amountSd,
    };
    // Per-habit weekday factors are not fitted (too few days per habit and weekday); a prior's
    // own factors are kept.
    if (ph?.weekdayFactors) fitted.weekdayFactors = [...ph.weekdayFactors];
    behaviourHabits[habit.id] = fitted;
  });

  const ids_ = new Set(ids);
  return {
    behaviour: {
      capacity: clamp(capacity, 0, 100),
      overloadPenalty: clamp(penalty, 0, 1),
      weekdayFactors: weekday.map((x) => clamp(x, 0, WEEKDAY_MAX)),
      drift: prior.drift === null ? null : { ...prior.drift },
      habits: behaviourHabits,
      crossEffects: prior.crossEffects
        .filter((e) => ids_.has(e.from) && ids_.has(e.to))
        .map((e) => ({ ...e })),
    },
    quality: {
      days: days.length,
      daysWithPlan,
      habits: quality,
      capacity: capacityFitted ? "fitted" : "default",
      capacityGain: Number.isFinite(capacityGain) ? capacityGain : 0,
    },
  };
}
