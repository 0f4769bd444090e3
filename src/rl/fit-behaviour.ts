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
 * where weekday = the persona-wide factor × the habit's own factor (fitted only where the data
 * tells: a likelihood-ratio check per habit), plus a cross-effect's boost the day after its
 * source habit was done (fitted only for pairs the data supports, again a likelihood-ratio check).
 * "Done" means an amount > 0. Motivation drift is not fitted (the prior's).
 * The person's own changes to a day's plan (`HistoryDay.chosen`) are read as choices: "not
 * today" is a planned habit not done, and a changed amount is their own level (the amount sample).
 */
import type { HabitSpec } from "../coach/habits.js";
import { createRng, type Rng } from "../coach/rng.js";
import { defaultBehaviour } from "./habit-training.js";
import type { HabitBehaviour, PersonaBehaviour } from "./persona.js";
import { deriveSeed, normalSample } from "./random.js";

/**
 * One calendar day of a person's history. A history is consecutive days, oldest first (as
 * loadHistory gives them): cross-effects read "yesterday" as the entry before, when its weekday
 * is the day before (another weekday breaks the chain, e.g. where two people's days are joined).
 */
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
  /** Pseudo-observations pulling a habit's own weekday factors toward 1. Default 2. */
  habitWeekdayPrior?: number;
  /**
   * Log-likelihood gain (nats) a habit's own weekday factors must bring over none to be kept
   * (6 free factors: 2·gain ~ χ²(6) without a rhythm; 8 nats ≈ p < 0.01). Default 8.
   */
  habitWeekdayMinGain?: number;
  /**
   * Log-likelihood gain (nats) a cross-effect must bring, beyond ln(number of pairs tested), to be
   * kept (a family-wise check over all H·(H − 1) pairs). Default 3.
   */
  crossEffectMinGain?: number;
  /** false: fit neither per-habit weekday factors nor cross-effects (the fit before them). */
  structure?: boolean;
}

export interface HabitFitQuality {
  plannedDays: number;
  plannedDone: number;
  unplannedDays: number;
  unplannedDone: number;
  /**
   * The evidence behind the compliance and the unplanned rate, in days: the exposure (days
   * weighted by their weekday and overload factors) plus the prior's pseudo-days. Their Beta
   * posteriors are Beta(rate × n, (1 − rate) × n) with n this evidence (sampleBehaviours).
   */
  evidence?: { compliance: number; unplannedRate: number };
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
  /** Habits given their own weekday factors, with the log-likelihood gain (nats). */
  habitWeekdays?: Record<string, number>;
  /** Cross-effects the data supported, with the log-likelihood gain (nats). */
  crossEffects?: { from: string; to: string; effect: number; gain: number }[];
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
/** Cross-effect sizes tried: −0.6 … 0.6 by 0.02. */
const EFFECT_GRID = Array.from({ length: 61 }, (_, i) => -0.6 + i * 0.02);
/** Days after a source habit was done that a cross-effect needs before it is tested. */
const CROSS_MIN_DAYS = 8;

/** Bernoulli log-likelihood of `hit` successes in `total` trials at p (kept off 0 and 1). */
const bernoulli = (hit: number, total: number, p: number) => {
  const q = clamp(p, 1e-6, 1 - 1e-6);
  return hit * Math.log(q) + (total - hit) * Math.log(1 - q);
};

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
  const mh = Math.max(0, options.habitWeekdayPrior ?? 2);
  const weekdayMinGain = options.habitWeekdayMinGain ?? 8;
  const crossMinGain = options.crossEffectMinGain ?? 3;
  const structure = options.structure ?? true;
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
  // each habit's own weekday factors (habit h, weekday w at h·7 + w): 1 unless the data tells
  const habitWeekday = new Float64Array(H * 7).fill(1);
  const habitWeekdayGain = new Float64Array(H);
  const hasOwnWeekdays = new Uint8Array(H);
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
        exposure += plannedN[cell] * weekday[w] * habitWeekday[h * 7 + w] * o;
      }
    }
    return clamp((done + a * c0[h]) / (exposure + a), 0, 1);
  };
  // Unplanned outcomes by (habit, weekday), for the per-habit weekday check.
  const unplannedN = new Float64Array(H * 7);
  const unplannedHit = new Float64Array(H * 7);
  for (const d of days) {
    for (let h = 0; h < H; h++) {
      if (d.planned[h] > 0) continue;
      unplannedN[h * 7 + d.weekday]++;
      if (d.done[h] > 0) unplannedHit[h * 7 + d.weekday]++;
    }
  }
  // Log-likelihood of habit h's outcomes with own weekday factors `own` (7 numbers), its
  // compliance and unplanned rate re-fitted for them (so "own factors" and "none" are each
  // compared at their best).
  const habitLogLik = (h: number, own: ArrayLike<number>): number => {
    let done = 0;
    let exposure = 0;
    let doneU = 0;
    let exposureU = 0;
    for (let w = 0; w < 7; w++) {
      for (let n = 1; n <= H; n++) {
        const cell = h * cells + n * 7 + w;
        done += plannedHit[cell];
        exposure += plannedN[cell] * weekday[w] * own[w] * overloadFactor(n, capacity, penalty);
      }
      doneU += unplannedHit[h * 7 + w];
      exposureU += unplannedN[h * 7 + w] * weekday[w] * own[w];
    }
    const c = clamp((done + a * c0[h]) / (exposure + a), 0, 1);
    const u = clamp((doneU + a * u0[h]) / (exposureU + a), 0, 1);
    let ll = 0;
    for (let w = 0; w < 7; w++) {
      for (let n = 1; n <= H; n++) {
        const cell = h * cells + n * 7 + w;
        if (plannedN[cell] === 0) continue;
        const p = c * weekday[w] * own[w] * overloadFactor(n, capacity, penalty);
        ll += bernoulli(plannedHit[cell], plannedN[cell], p);
      }
      const total = unplannedN[h * 7 + w];
      if (total > 0) ll += bernoulli(unplannedHit[h * 7 + w], total, u * weekday[w] * own[w]);
    }
    return ll;
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
          const p = clamp(c * weekday[w] * habitWeekday[h * 7 + w] * o, 1e-6, 1 - 1e-6);
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
        exposureU += weekday[d.weekday] * habitWeekday[h * 7 + d.weekday];
      }
      compliance[h] = complianceFor(h, capacity, penalty);
      unplanned[h] = clamp((doneU + a * u0[h]) / (exposureU + a), 0, 1);
    }
    // Weekday factors: observed ÷ expected "done" counts per weekday (shrunk toward 1 by m
    // pseudo-observations), then scaled to an exposure-weighted mean of 1 so that compliance
    // keeps meaning the average rate. Counted on the habits without their own factors when
    // there are any: the persona-wide rhythm is the common one, and the habits with their own
    // (multiplying it) would otherwise pull it their way (persona-wide × own is only
    // determined up to a factor moved from one to the other).
    const observed = new Float64Array(7);
    const expected = new Float64Array(7);
    const common = hasOwnWeekdays.includes(0);
    for (const d of days) {
      const o = overloadFactor(d.plannedCount, capacity, penalty);
      for (let h = 0; h < H; h++) {
        if (common && hasOwnWeekdays[h]) continue;
        observed[d.weekday] += d.done[h] > 0 ? 1 : 0;
        expected[d.weekday] +=
          (d.planned[h] > 0 ? compliance[h] * o : unplanned[h]) * habitWeekday[h * 7 + d.weekday];
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
    // Each habit's own weekday factors (multiplying the persona-wide ones, as the simulator
    // does): observed ÷ expected "done" counts of that habit per weekday, shrunk toward 1 by mh
    // pseudo-observations and scaled to an exposure-weighted mean of 1; kept only when they
    // raise the habit's log-likelihood by more than weekdayMinGain over none.
    if (structure) {
      const flat = [1, 1, 1, 1, 1, 1, 1];
      for (let h = 0; h < H; h++) {
        const seen = new Float64Array(7);
        const expect = new Float64Array(7);
        for (const d of days) {
          const o = overloadFactor(d.plannedCount, capacity, penalty);
          seen[d.weekday] += d.done[h] > 0 ? 1 : 0;
          expect[d.weekday] +=
            (d.planned[h] > 0 ? compliance[h] * o : unplanned[h]) * weekday[d.weekday];
        }
        const own = Array.from({ length: 7 }, (_, w) => (seen[w] + mh) / (expect[w] + mh));
        let ownWeighted = 0;
        let ownTotal = 0;
        for (let w = 0; w < 7; w++) {
          ownWeighted += own[w] * expect[w];
          ownTotal += expect[w];
        }
        const ownMean = ownTotal > 0 ? ownWeighted / ownTotal : 1;
        for (let w = 0; w < 7; w++)
          own[w] = clamp(ownMean > 0 ? own[w] / ownMean : 1, 0, WEEKDAY_MAX);
        const gain = habitLogLik(h, own) - habitLogLik(h, flat);
        habitWeekdayGain[h] = Number.isFinite(gain) ? gain : 0;
        hasOwnWeekdays[h] = gain > weekdayMinGain ? 1 : 0;
        for (let w = 0; w < 7; w++) habitWeekday[h * 7 + w] = hasOwnWeekdays[h] ? own[w] : 1;
      }
      for (let h = 0; h < H; h++) compliance[h] = complianceFor(h, capacity, penalty);
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

  // Cross-effects: "habit f done yesterday changes habit t's probability today by e" (added, as
  // the simulator does). Each ordered pair is a likelihood-ratio test on t's outcomes: the model
  // as fitted (no effect) against one where t's compliance and unplanned rate are re-fitted on
  // the days not after f was done and e is fitted on the days after (consecutive days only; a
  // grid search). Kept when the gain passes ln(pairs tested) + crossMinGain. The compliance and
  // unplanned rate of a habit with kept effects are then those of the days without their boosts
  // (fitted on all days, they had absorbed the boosts' average).
  const fittedEffects: { from: number; to: number; effect: number; gain: number }[] = [];
  if (structure && H > 1 && days.length > 1) {
    const follows = days.map((d, i) => i > 0 && d.weekday === (days[i - 1].weekday + 1) % 7);
    /** habit t's chance on day i without boosts, with compliance c and unplanned rate u */
    const chanceOf = (t: number, i: number, c: number, u: number) => {
      const d = days[i];
      const exposure = weekday[d.weekday] * habitWeekday[t * 7 + d.weekday];
      return d.planned[t] > 0
        ? c * overloadFactor(d.plannedCount, capacity, penalty) * exposure
        : u * exposure;
    };
    /** habit t's compliance and unplanned rate fitted on the days where `skip` is false */
    const ratesWithout = (t: number, skip: (i: number) => boolean) => {
      let doneP = 0;
      let exposureP = 0;
      let doneU = 0;
      let exposureU = 0;
      days.forEach((d, i) => {
        if (skip(i)) return;
        const hit = d.done[t] > 0 ? 1 : 0;
        if (d.planned[t] > 0) {
          doneP += hit;
          exposureP += chanceOf(t, i, 1, 0);
        } else {
          doneU += hit;
          exposureU += chanceOf(t, i, 0, 1);
        }
      });
      return {
        c: clamp((doneP + a * c0[t]) / (exposureP + a), 0, 1),
        u: clamp((doneU + a * u0[t]) / (exposureU + a), 0, 1),
      };
    };
    const threshold = Math.log(H * (H - 1)) + crossMinGain;
    const after = (f: number) => (i: number) => follows[i] && days[i - 1].done[f] > 0;
    for (let f = 0; f < H; f++) {
      const boosted = after(f);
      const count = days.reduce((n, _, i) => n + (boosted(i) ? 1 : 0), 0);
      if (count < CROSS_MIN_DAYS) continue;
      for (let t = 0; t < H; t++) {
        if (f === t) continue;
        const hit = (i: number) => (days[i].done[t] > 0 ? 1 : 0);
        let none = 0;
        for (let i = 0; i < days.length; i++) {
          none += bernoulli(hit(i), 1, chanceOf(t, i, compliance[t], unplanned[t]));
        }
        const rest = ratesWithout(t, boosted);
        let restLogLik = 0;
        const base: number[] = [];
        const hits: number[] = [];
        for (let i = 0; i < days.length; i++) {
          const p = chanceOf(t, i, rest.c, rest.u);
          if (boosted(i)) {
            base.push(p);
            hits.push(hit(i));
          } else restLogLik += bernoulli(hit(i), 1, p);
        }
        let best = { effect: 0, ll: Number.NEGATIVE_INFINITY };
        for (const e of EFFECT_GRID) {
          const ll = base.reduce((sum, b, j) => sum + bernoulli(hits[j], 1, b + e), 0);
          if (ll > best.ll + 1e-9) best = { effect: e, ll };
        }
        const gain = restLogLik + best.ll - none;
        if (gain > threshold && Math.abs(best.effect) > 1e-9) {
          fittedEffects.push({ from: f, to: t, effect: Number(best.effect.toFixed(2)), gain });
        }
      }
    }
    for (const t of new Set(fittedEffects.map((e) => e.to))) {
      const sources = fittedEffects.filter((e) => e.to === t).map((e) => after(e.from));
      const rest = ratesWithout(t, (i) => sources.some((boosted) => boosted(i)));
      compliance[t] = rest.c;
      unplanned[t] = rest.u;
    }
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
    let plannedExposure = 0;
    let unplannedExposure = 0;
    for (let w = 0; w < 7; w++) {
      const exposure = weekday[w] * habitWeekday[h * 7 + w];
      for (let n = 1; n <= H; n++) {
        plannedExposure +=
          plannedN[h * cells + n * 7 + w] * exposure * overloadFactor(n, capacity, penalty);
      }
      unplannedExposure += unplannedN[h * 7 + w] * exposure;
    }
    q.evidence = { compliance: plannedExposure + a, unplannedRate: unplannedExposure + a };
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
    // the habit's own weekday factors where the data told, else the prior's own (if any)
    if (hasOwnWeekdays[h]) {
      fitted.weekdayFactors = Array.from(habitWeekday.subarray(h * 7, h * 7 + 7), (x) =>
        clamp(x, 0, WEEKDAY_MAX),
      );
    } else if (ph?.weekdayFactors) fitted.weekdayFactors = [...ph.weekdayFactors];
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
      // the fitted effects, and the prior's for pairs the data did not support a change of
      crossEffects: [
        ...fittedEffects.map((e) => ({ from: ids[e.from], to: ids[e.to], effect: e.effect })),
        ...prior.crossEffects
          .filter((e) => ids_.has(e.from) && ids_.has(e.to))
          .filter((e) => !fittedEffects.some((f) => ids[f.from] === e.from && ids[f.to] === e.to))
          .map((e) => ({ ...e })),
      ],
    },
    quality: {
      days: days.length,
      daysWithPlan,
      habits: quality,
      capacity: capacityFitted ? "fitted" : "default",
      capacityGain: Number.isFinite(capacityGain) ? capacityGain : 0,
      habitWeekdays: Object.fromEntries(
        ids.flatMap((id, h) => (hasOwnWeekdays[h] ? [[id, habitWeekdayGain[h]]] : [])),
      ),
      crossEffects: fittedEffects.map((e) => ({
        from: ids[e.from],
        to: ids[e.to],
        effect: e.effect,
        gain: e.gain,
      })),
    },
  };
}

/** A Gamma(shape, 1) draw (Marsaglia and Tsang; shape < 1 by the boost U^(1/shape)). */
function gammaSample(rng: Rng, shape: number): number {
  if (shape < 1) return gammaSample(rng, shape + 1) * rng.next() ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = normalSample(rng);
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    const u = rng.next();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** A Beta draw with mean `mean` and strength `n` (= α + β); the mean itself when n is unknown. */
function betaSample(rng: Rng, mean: number, n: number | undefined): number {
  if (n === undefined || !(n > 0)) return mean;
  const m = clamp(mean, 1e-4, 1 - 1e-4);
  const x = gammaSample(rng, m * n);
  const y = gammaSample(rng, (1 - m) * n);
  return x + y > 0 ? clamp(x / (x + y), 0, 1) : mean;
}

/**
 * `count` plausible people for a fit: the fitted behaviour with each habit's compliance and
 * unplanned rate drawn from their Beta posteriors (mean the fitted rate, strength its evidence in
 * days, FitQuality.habits[id].evidence), everything else as fitted. Training on them instead of
 * the point estimate keeps what the fit does not know: a habit seen on 10 days varies much more
 * between the samples than one seen on 80. Deterministic in `seed`.
 */
export function sampleBehaviours(fit: FitResult, count: number, seed: number): PersonaBehaviour[] {
  const rng = createRng(deriveSeed(seed, "fit-posterior"));
  return Array.from({ length: count }, () => ({
    ...fit.behaviour,
    weekdayFactors: [...fit.behaviour.weekdayFactors],
    drift: fit.behaviour.drift === null ? null : { ...fit.behaviour.drift },
    crossEffects: fit.behaviour.crossEffects.map((e) => ({ ...e })),
    habits: Object.fromEntries(
      Object.entries(fit.behaviour.habits).map(([id, b]) => {
        const evidence = fit.quality.habits[id]?.evidence;
        const sampled: HabitBehaviour = {
          ...b,
          compliance: betaSample(rng, b.compliance, evidence?.compliance),
          unplannedRate: betaSample(rng, b.unplannedRate, evidence?.unplannedRate),
        };
        if (b.weekdayFactors) sampled.weekdayFactors = [...b.weekdayFactors];
        return [id, sampled];
      }),
    ),
  }));
}
