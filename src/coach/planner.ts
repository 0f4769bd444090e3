/**
 * The heuristic planner — the baseline every learned policy must beat — and the object-level
 * "plan my day" entry point the bot uses.
 */

import { adjustPlan, type CompiledHabits, compileHabits } from "./adjust.js";
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
  adjustPlan(compiled, levels, emas, rng, { capacityMinutes: options.capacityMinutes });
  return habits.map((h, i) => ({
    habitId: h.id,
    level: levels[i],
    amount: h.levels[levels[i]],
  }));
}
