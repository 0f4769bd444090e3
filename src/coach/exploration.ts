/**
 * Controlled exploration of the day's plan: on some days the coach plans fewer habits than its
 * greedy plan (the active policy's or the heuristic's), so that a person's history holds days
 * with different numbers of planned habits and the behaviour fit can tell how many habits a day
 * they take on (with the greedy plan almost always "everything", capacity cannot be told from
 * compliance). Pure: the decision is a function of the plan, the EMAs and a generator the caller
 * seeds per (person, day), so a stored plan can be explained and regenerated.
 *
 * Cost bound. Leaving out habit h today lowers its EMA by at most α (one missed day at the target
 * amount); the loss decays by (1 − α) a day, so while the EMA stays below 1 the reward lost over
 * all the following days is at most α·Σ(1 − α)^t / H = 1/H reward-days (the daily reward is
 * 1 − mean|1 − EMA|). A habit whose EMA is at least 1 + α stays at or above 1 after a missed day:
 * leaving it out costs nothing (it moves the EMA toward 1). Between the two the bound is linear.
 * The bound ignores what leaving habits out gains on an overloaded person (higher compliance on
 * the rest), so the real cost is lower. An exploratory plan leaves out the cheapest habits first
 * and never costs more than `maxCost`; with `probability` p the expected cost is ≤ p·maxCost
 * reward-days per day.
 */
import type { CompiledHabits } from "./adjust.js";
import type { Rng } from "./rng.js";

export interface ExplorationSettings {
  /** Probability of an exploratory plan on a day where one is possible (0 = never). */
  probability: number;
  /** Largest estimated reward cost of one exploratory plan, in reward-days (see above). */
  maxCost: number;
}

/** Exploration off: the product's default until the closed loop shows it helps. */
export const NO_EXPLORATION: ExplorationSettings = { probability: 0, maxCost: 0 };

/** What an exploratory plan changed, as stored with the plan. */
export interface Exploration {
  /** Indices (habit order) of the habits the greedy plan had and the exploratory one left out. */
  dropped: number[];
  /** The greedy raw level per habit (habit order), before the change. */
  greedyLevels: number[];
  /** The estimated reward cost bound of the change (reward-days). */
  cost: number;
  /** How many habits the draw asked to leave out (more than `dropped` when the cost cut it). */
  asked: number;
}

/** The reward-cost bound of leaving out habit `h` today (reward-days, see the module comment). */
export function dropCost(ema: number, alpha: number, habitCount: number): number {
  if (!(habitCount > 0)) return 0;
  const e = Number.isFinite(ema) ? ema : 0;
  const share = (1 + alpha - e) / alpha;
  return Math.min(1, Math.max(0, share)) / habitCount;
}

/**
 * Decides whether today's plan explores and, if so, changes `levels` (raw level per habit, habit
 * order, before the coach core's adjustPlan) in place: with probability `settings.probability`,
 * n habits of the m planned ones are left out, n drawn uniformly from 1 … m − 1, the cheapest
 * first (highest EMA; ties: the later habit), stopping before the cost bound would exceed
 * `settings.maxCost`. Returns null (levels untouched) when the day does not explore: the draw
 * said no, fewer than two habits are planned, or even the cheapest habit costs too much.
 * Always draws exactly two numbers from `rng`, whatever the outcome.
 */
export function explorePlan(
  compiled: CompiledHabits,
  emas: ArrayLike<number>,
  levels: Int32Array,
  rng: Rng,
  settings: ExplorationSettings,
  alpha: number,
): Exploration | null {
  const draw = rng.next();
  const size = rng.next();
  const H = compiled.count;
  if (levels.length !== H) {
    throw new RangeError(`got ${levels.length} levels for ${H} habits`);
  }
  if (!(settings.probability > 0) || !(draw < settings.probability)) return null;
  const planned: number[] = [];
  for (let h = 0; h < H; h++) if (levels[h] > 0) planned.push(h);
  if (planned.length < 2) return null;
  const asked = 1 + Math.floor(size * (planned.length - 1));
  // cheapest first: highest EMA, ties the later habit (a stable, explainable order)
  const order = [...planned].sort((x, y) => emas[y] - emas[x] || y - x);
  const dropped: number[] = [];
  let cost = 0;
  for (const h of order) {
    if (dropped.length === asked) break;
    const c = dropCost(emas[h], alpha, H);
    if (cost + c > settings.maxCost + 1e-12) break;
    cost += c;
    dropped.push(h);
  }
  if (dropped.length === 0) return null;
  const greedyLevels = Array.from(levels);
  for (const h of dropped) levels[h] = 0;
  return { dropped: dropped.sort((x, y) => x - y), greedyLevels, cost, asked };
}

/** A seed for a person's exploration draw on a day: apart from the plan's own seed. */
export function explorationSeed(planSeed: number): number {
  return (Math.imul(planSeed ^ 0x5bd1e995, 0x27d4eb2d) ^ 0x68e31da4) >>> 0;
}
