/**
 * The heuristic planner — the baseline every learned policy must beat — and the object-level
 * "plan my day" entry point the bot uses.
 */

import {
  adjustPlan,
  applyIntensity,
  type CompiledHabits,
  compileHabits,
  type Intensity,
} from "./adjust.js";
import { INITIAL_EMA } from "./ema.js";
import type { HabitSpec } from "./habits.js";
import type { Rng } from "./rng.js";

/**
 * Plans each habit at its target level when its EMA (yesterday's state) is below 1, else 0.
 * Deterministic and allocation-free when `out` is given. The caller then runs adjustPlan.
 */
export function heuristicPlan(
  compiled: CompiledHabits,
  emas: ArrayLike<number>,
  out?: Int32Array,
): Int32Array {
  const res = out ?? new Int32Array(compiled.count);
  const t = compiled.targetLevelIndex;
  for (let h = 0; h < compiled.count; h++) res[h] = emas[h] < 1 ? t[h] : 0;
  return res;
}

/**
 * The capacity-aware heuristic: like `heuristicPlan`, but plans at most `k` habits a day — the
 * `k` furthest behind (smallest EMA below 1; ties: the earlier habit in the user's order), and
 * at most one per exclusive group (a second would be dropped by adjustPlan and waste a slot).
 * Someone who can take on three habits a day gets the three that need it most instead of all of
 * them and a lower compliance on each. Allocation-free when `out` is given; the caller then runs
 * adjustPlan. `k` ≥ the habit count plans like `heuristicPlan` apart from exclusive groups.
 */
export function capacityAwarePlan(
  compiled: CompiledHabits,
  emas: ArrayLike<number>,
  k: number,
  out?: Int32Array,
): Int32Array {
  const res = out ?? new Int32Array(compiled.count);
  res.fill(0);
  const t = compiled.targetLevelIndex;
  const group = compiled.exclusiveGroupOf;
  for (let pick = 0; pick < k; pick++) {
    let best = -1;
    for (let h = 0; h < compiled.count; h++) {
      if (res[h] !== 0 || t[h] === 0 || !(emas[h] < 1)) continue;
      if (best !== -1 && !(emas[h] < emas[best])) continue;
      if (group[h] >= 0) {
        let taken = false;
        for (let o = 0; o < compiled.count; o++) {
          if (res[o] !== 0 && group[o] === group[h]) taken = true;
        }
        if (taken) continue;
      }
      best = h;
    }
    if (best === -1) break;
    res[best] = t[best];
  }
  return res;
}

export interface PlanItem {
  habitId: string;
  /** Index into the habit's levels. */
  level: number;
  /** The planned amount, levels[level] (0 = not planned today). */
  amount: number;
}

export interface PlanForDayOptions {
  capacityMinutes?: number;
  /** A policy's raw level index per habit (habit order); the heuristic plan when omitted. */
  policyLevels?: ArrayLike<number>;
  /** Reuse a compiled form of `habits` (must be compiled from the same list). */
  compiled?: CompiledHabits;
  /** Scales the raw plan before adjustment (applyIntensity); "normal" when omitted. */
  intensity?: Intensity;
}

/**
 * One person's plan for a day: heuristic (or the given policy output), then adjustPlan. Returns
 * one item per habit in the given order, including habits not planned (level 0, amount 0).
 * A habit without an EMA in `emasById` uses INITIAL_EMA.
 */
export function planForDay(
  habits: HabitSpec[],
  emasById: Record<string, number>,
  rng: Rng,
  options: PlanForDayOptions = {},
): PlanItem[] {
  const compiled = options.compiled ?? compileHabits(habits);
  if (compiled.count !== habits.length) {
    throw new RangeError(
      `compiled habits hold ${compiled.count} habits but ${habits.length} were given`,
    );
  }
  const emas = Float64Array.from(habits, (h) => emasById[h.id] ?? INITIAL_EMA);
  let levels: Int32Array;
  if (options.policyLevels !== undefined) {
    if (options.policyLevels.length !== habits.length) {
      throw new RangeError(
        `policy gave ${options.policyLevels.length} levels for ${habits.length} habits`,
      );
    }
    levels = Int32Array.from(options.policyLevels as ArrayLike<number>);
  } else {
    levels = heuristicPlan(compiled, emas);
  }
  if (options.intensity) applyIntensity(compiled, levels, emas, options.intensity);
  adjustPlan(compiled, levels, emas, rng, { capacityMinutes: options.capacityMinutes });
  return habits.map((h, i) => ({
    habitId: h.id,
    level: levels[i],
    amount: h.levels[levels[i]],
  }));
}
