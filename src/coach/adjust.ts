/**
 * Plan adjustment ("massaging"): raw planner or policy output → the plan a person sees. The same
 * function runs inside the RL environment, on a struct-of-arrays form of the habit set compiled
 * once, without allocating.
 *
 * Rules, in order:
 * 1. level indices are clamped into range (the result only ever lowers a level);
 * 2. exclusive groups: when several habits of a group are planned, one is kept — drawn with the
 *    injected generator with weight max(0, 1 − ema) + EXCLUSIVE_WEIGHT_FLOOR — the others get 0;
 * 3. capacity (optional, minutes): while the planned minutes exceed it, the least urgent planned
 *    item that takes minutes is dropped (smallest deficit 1 − ema; ties: more minutes first, then
 *    the later habit in the user's order).
 */

import type { HabitSpec } from "./habits.js";
import type { Rng } from "./rng.js";

/** Keeps a habit that is ahead of its goal drawable in an exclusive group (11 : 1 at ema 0 vs ≥ 1). */
export const EXCLUSIVE_WEIGHT_FLOOR = 0.1;

export interface CompiledHabits {
  count: number;
  ids: string[];
  levels: Float64Array[];
  levelCount: Int32Array;
  target: Float64Array;
  daysPerWeek: Float64Array;
  /** Index into exclusiveGroupNames, -1 for none. */
  exclusiveGroupOf: Int32Array;
  exclusiveGroupNames: string[];
  /** Members of exclusive group g: exclusiveMembers[exclusiveStart[g] .. exclusiveStart[g + 1]). */
  exclusiveStart: Int32Array;
  exclusiveMembers: Int32Array;
  actorGroupOf: Int32Array;
  groupCount: number;
  /**
   * Minutes each level takes: duration → the amount; count/check → capacityMinutes × level /
   * target when the habit sets capacityMinutes, else 0 (never dropped for capacity).
   */
  minutesPerLevel: Float64Array[];
  /** Index of the level at the habit's target (the smallest level ≥ target, else the largest). */
  targetLevelIndex: Int32Array;
  /** levels and minutesPerLevel flattened: habit h's level l is at levelOffset[h] + l. */
  levelOffset: Int32Array;
  levelsFlat: Float64Array;
  minutesFlat: Float64Array;
  /** Largest amount one day counts: 1 for check habits (done is done), else Infinity. */
  amountCap: Float64Array;
  /** Minutes of the largest possible plan; a capacity at or above it never binds. */
  maxPlanMinutes: number;
  /** Scratch space reused by adjustPlan (no allocation per call); not part of the habit set. */
  scratchWeights: Float64Array;
  scratchOrder: Int32Array;
  scratchDeficit: Float64Array;
}

export function compileHabits(habits: HabitSpec[]): CompiledHabits {
  const count = habits.length;
  const groupNames: string[] = [];
  const exclusiveGroupOf = new Int32Array(count);
  let groupCount = 0;
  const targetLevelIndex = new Int32Array(count);
  habits.forEach((h, i) => {
    if (h.exclusiveGroup === null) exclusiveGroupOf[i] = -1;
    else {
      let g = groupNames.indexOf(h.exclusiveGroup);
      if (g < 0) g = groupNames.push(h.exclusiveGroup) - 1;
      exclusiveGroupOf[i] = g;
    }
    groupCount = Math.max(groupCount, h.actorGroup + 1);
    let t = h.levels.findIndex((x) => x >= h.target);
    if (t < 0) t = h.levels.length - 1;
    targetLevelIndex[i] = t;
  });
  const exclusiveStart = new Int32Array(groupNames.length + 1);
  const exclusiveMembers = new Int32Array(habits.filter((h) => h.exclusiveGroup !== null).length);
  let k = 0;
  let largest = 0;
  for (let g = 0; g < groupNames.length; g++) {
    exclusiveStart[g] = k;
    for (let i = 0; i < count; i++) if (exclusiveGroupOf[i] === g) exclusiveMembers[k++] = i;
    largest = Math.max(largest, k - exclusiveStart[g]);
  }
  exclusiveStart[groupNames.length] = k;
  const minutesPerLevel = habits.map((h) =>
    Float64Array.from(h.levels, (x) =>
      h.kind === "duration" ? x : ((h.capacityMinutes ?? 0) * x) / h.target,
    ),
  );
  const levelOffset = new Int32Array(count);
  let total = 0;
  habits.forEach((h, i) => {
    levelOffset[i] = total;
    total += h.levels.length;
  });
  const levelsFlat = new Float64Array(total);
  const minutesFlat = new Float64Array(total);
  habits.forEach((h, i) => {
    levelsFlat.set(h.levels, levelOffset[i]);
    minutesFlat.set(minutesPerLevel[i], levelOffset[i]);
  });
  return {
    count,
    ids: habits.map((h) => h.id),
    levels: habits.map((h) => Float64Array.from(h.levels)),
    levelCount: Int32Array.from(habits.map((h) => h.levels.length)),
    target: Float64Array.from(habits.map((h) => h.target)),
    daysPerWeek: Float64Array.from(habits.map((h) => h.daysPerWeek)),
    exclusiveGroupOf,
    exclusiveGroupNames: groupNames,
    exclusiveStart,
    exclusiveMembers,
    actorGroupOf: Int32Array.from(habits.map((h) => h.actorGroup)),
    groupCount,
    minutesPerLevel,
    targetLevelIndex,
    levelOffset,
    levelsFlat,
    minutesFlat,
    amountCap: Float64Array.from(habits, (h) =>
      h.kind === "check" ? 1 : Number.POSITIVE_INFINITY,
    ),
    maxPlanMinutes: minutesPerLevel.reduce((sum, m) => sum + Math.max(0, ...m), 0),
    scratchWeights: new Float64Array(Math.max(1, largest)),
    scratchOrder: new Int32Array(Math.max(1, count)),
    scratchDeficit: new Float64Array(Math.max(1, count)),
  };
}

export interface AdjustOptions {
  /** Daily capacity in minutes; omitted, Infinity or NaN = unlimited. */
  capacityMinutes?: number;
}

/**
 * Adjusts `levelIndex` in place (and returns it). Only ever lowers levels, never plans a habit
 * that was not planned, and draws from `rng` exactly once per exclusive group that had two or
 * more planned habits, so the result is deterministic for a seed.
 */
export function adjustPlan(
  compiled: CompiledHabits,
  levelIndex: Int32Array,
  emas: ArrayLike<number>,
  rng: Rng,
  options?: AdjustOptions,
): Int32Array {
  const n = compiled.count;
  const levelCount = compiled.levelCount;
  for (let h = 0; h < n; h++) {
    const l = levelIndex[h];
    if (l < 0) levelIndex[h] = 0;
    else if (l >= levelCount[h]) levelIndex[h] = levelCount[h] - 1;
  }

  // Exclusive groups: keep one planned habit per group.
  const start = compiled.exclusiveStart;
  const members = compiled.exclusiveMembers;
  const weights = compiled.scratchWeights;
  const groups = compiled.exclusiveGroupNames.length;
  for (let g = 0; g < groups; g++) {
    const a = start[g];
    const b = start[g + 1];
    let planned = 0;
    let total = 0;
    for (let k = a; k < b; k++) {
      const h = members[k];
      if (levelIndex[h] > 0) {
        const deficit = 1 - emas[h];
        // Both branches are arithmetic so V8 keeps w an unboxed double (a bare module constant in
        // one branch made it allocate a heap number per habit); a NaN EMA counts as no deficit.
        const w = deficit > 0 ? EXCLUSIVE_WEIGHT_FLOOR + deficit : EXCLUSIVE_WEIGHT_FLOOR + 0;
        weights[k - a] = w;
        total += w;
        planned++;
      } else {
        weights[k - a] = 0;
      }
    }
    if (planned < 2) continue;
    let r = rng.next() * total;
    let keep = -1;
    for (let k = a; k < b; k++) {
      const w = weights[k - a];
      if (w === 0) continue;
      keep = members[k];
      if (r < w) break;
      r -= w;
    }
    for (let k = a; k < b; k++) {
      const h = members[k];
      if (h !== keep) levelIndex[h] = 0;
    }
  }

  // Capacity: drop the least urgent planned items until the plan fits. Dropping one item does
  // not change another's urgency, so the items are sorted once (insertion sort on scratch
  // buffers: deficit ascending, then minutes descending, then habit index descending) and
  // dropped in that order — the same result as picking the least urgent one again each time.
  const capacity = options?.capacityMinutes;
  if (capacity !== undefined && capacity < compiled.maxPlanMinutes) {
    const minutes = compiled.minutesFlat;
    const offset = compiled.levelOffset;
    let used = 0;
    for (let h = 0; h < n; h++) used += minutes[offset[h] + levelIndex[h]];
    if (used > capacity + 1e-9) {
      const order = compiled.scratchOrder;
      const deficitOf = compiled.scratchDeficit;
      let k = 0;
      for (let h = 0; h < n; h++) {
        const m = minutes[offset[h] + levelIndex[h]];
        if (m <= 0) continue;
        const d = 1 - emas[h];
        deficitOf[h] = d;
        // insert h keeping order: smaller deficit first; ties → more minutes, then later habit
        let j = k - 1;
        while (j >= 0) {
          const o = order[j];
          const od = deficitOf[o];
          if (od < d) break;
          if (od === d) {
            const om = minutes[offset[o] + levelIndex[o]];
            if (om > m || (om === m && o > h)) break;
          }
          order[j + 1] = o;
          j--;
        }
        order[j + 1] = h;
        k++;
      }
      for (let i = 0; i < k && used > capacity + 1e-9; i++) {
        const h = order[i];
        used -= minutes[offset[h] + levelIndex[h]];
        levelIndex[h] = 0;
      }
    }
  }
  return levelIndex;
}

/** Planned amounts of a level-index plan (out[h] = levels[h][levelIndex[h]]). */
export function planAmounts(
  compiled: CompiledHabits,
  levelIndex: ArrayLike<number>,
  out?: Float64Array,
): Float64Array {
  const res = out ?? new Float64Array(compiled.count);
  const { levelsFlat, levelOffset } = compiled;
  for (let h = 0; h < compiled.count; h++) res[h] = levelsFlat[levelOffset[h] + levelIndex[h]];
  return res;
}

/** Minutes a plan takes, as counted by the capacity rule. */
export function planMinutes(compiled: CompiledHabits, levelIndex: ArrayLike<number>): number {
  let used = 0;
  for (let h = 0; h < compiled.count; h++) used += compiled.minutesPerLevel[h][levelIndex[h]];
  return used;
}

/** How hard the coming days should be, as the person set it with /intensity. */
export type Intensity = "easy" | "normal" | "push";
export const INTENSITIES: readonly Intensity[] = ["easy", "normal", "push"];

/** Unplanned habits a "push" day adds at most (the ones furthest behind their goal). */
export const PUSH_EXTRA_ITEMS = 2;

/**
 * Scales a raw plan (level index per habit, from the heuristic or a PPO policy) by intensity,
 * in place, before `adjustPlan` (which then still applies exclusive groups and capacity):
 * - normal: unchanged;
 * - easy: fewer and smaller items — every planned item one level smaller, so items at their
 *   smallest level drop out, except the one furthest behind (largest 1 − ema) when nothing
 *   else would stay planned;
 * - push: the behind-most extra items — up to PUSH_EXTRA_ITEMS unplanned habits that are behind
 *   (ema < 1), furthest behind first, added at their target level; when none is, the planned
 *   item furthest behind goes one level up.
 * Deterministic (no draws); ties go to the earlier habit in the person's order.
 */
export function applyIntensity(
  compiled: CompiledHabits,
  levelIndex: Int32Array,
  emas: ArrayLike<number>,
  intensity: Intensity,
): Int32Array {
  const n = compiled.count;
  const levelCount = compiled.levelCount;
  for (let h = 0; h < n; h++) {
    if (levelIndex[h] < 0) levelIndex[h] = 0;
    else if (levelIndex[h] >= levelCount[h]) levelIndex[h] = levelCount[h] - 1;
  }
  if (intensity === "normal") return levelIndex;
  const deficit = (h: number) => {
    const d = 1 - emas[h];
    return Number.isNaN(d) ? 0 : d; // NaN counts as no deficit
  };
  /** The habit furthest behind among those `accept` allows, or −1. */
  const furthestBehind = (accept: (h: number) => boolean) => {
    let best = -1;
    for (let h = 0; h < n; h++) {
      if (accept(h) && (best === -1 || deficit(h) > deficit(best))) best = h;
    }
    return best;
  };
  if (intensity === "easy") {
    const keep = furthestBehind((h) => levelIndex[h] > 0);
    let stays = 0;
    for (let h = 0; h < n; h++) {
      if (levelIndex[h] > 0) levelIndex[h] -= 1;
      if (levelIndex[h] > 0) stays += 1;
    }
    if (stays === 0 && keep >= 0) levelIndex[keep] = 1;
    return levelIndex;
  }
  let added = 0;
  while (added < PUSH_EXTRA_ITEMS) {
    const h = furthestBehind(
      (x) => levelIndex[x] === 0 && deficit(x) > 0 && compiled.targetLevelIndex[x] > 0,
    );
    if (h < 0) break;
    levelIndex[h] = compiled.targetLevelIndex[h];
    added += 1;
  }
  if (added === 0) {
    const h = furthestBehind((x) => levelIndex[x] > 0 && levelIndex[x] < levelCount[x] - 1);
    if (h >= 0) levelIndex[h] += 1;
  }
  return levelIndex;
}

/** A plan's total planned load: the sum over habits of planned amount ÷ target. */
export function plannedLoad(compiled: CompiledHabits, levelIndex: ArrayLike<number>): number {
  let load = 0;
  for (let h = 0; h < compiled.count; h++) {
    load += compiled.levels[h][levelIndex[h]] / compiled.target[h];
  }
  return load;
}
