/**
 * Evaluation of a planner on a persona: fresh simulated people, a fixed number of days, the mean
 * daily reward with a 95 % confidence interval over episodes, the mean of the last 90 days and
 * each habit's mean EMA.
 */
import { capacityAwarePlan } from "../coach/planner.js";
import { createRng } from "../coach/rng.js";
import { HabitVectorEnv } from "./habit-env.js";
import type { Persona } from "./persona.js";
import type { HabitPolicy } from "./policy.js";
import { deriveSeed } from "./random.js";
import { createStepBuffers } from "./vector-env.js";

/** Fills `actions` [N, H] with level indices for the current observations. */
export type Planner = (
  env: HabitVectorEnv,
  observations: Float32Array,
  actions: Int32Array,
) => void;

export function heuristicPlanner(): Planner {
  return (env, _obs, actions) => env.heuristicActions(actions);
}

/** The coach core's capacity-aware heuristic: the `k` habits furthest behind each day. */
export function capacityAwarePlanner(k: number): Planner {
  return (env, _obs, actions) => {
    const H = env.actionCount;
    for (let n = 0; n < env.numEnvs; n++) {
      const at = n * H;
      capacityAwarePlan(
        env.compiled,
        env.emas.subarray(at, at + H),
        k,
        actions.subarray(at, at + H),
      );
    }
  };
}

export function randomPlanner(seed: number): Planner {
  const rng = createRng(deriveSeed(seed, "random-planner"));
  return (env, _obs, actions) => {
    const H = env.actionCount;
    const count = env.compiled.levelCount;
    for (let i = 0; i < actions.length; i++) actions[i] = Math.floor(rng.next() * count[i % H]);
  };
}

export function policyPlanner(
  policy: HabitPolicy,
  options: { greedy?: boolean; seed?: number } = {},
): Planner {
  const greedy = options.greedy ?? true;
  const rng = greedy ? undefined : createRng(deriveSeed(options.seed ?? 0, "policy-planner"));
  return (env, obs, actions) => {
    policy.planBatch(obs, env.numEnvs, actions, { greedy, rng });
  };
}

export interface EvaluationResult {
  episodes: number;
  days: number;
  meanReward: number;
  /** Half-width of the 95 % confidence interval of meanReward (t-distribution over episodes). */
  ci95: number;
  meanRewardLast90: number;
  meanEmaByHabit: Record<string, number>;
  /** Mean daily reward of each episode (simulated person), for paired comparisons. */
  perEpisode: number[];
  seconds: number;
}

/** Two-sided 97.5 % Student-t quantile (normal beyond 30 degrees of freedom). */
export function tQuantile(df: number): number {
  const table = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16,
    2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052,
    2.048, 2.045, 2.042,
  ];
  return df >= 1 && df <= 30 ? table[df - 1] : 1.96;
}

/**
 * The candidate's mean daily reward minus another planner's on the same simulated people, and
 * the evaluation noise of that difference: the half-width of its 95 % confidence interval over
 * the people (paired, so what both planners share — the people, their days — cancels out).
 */
export interface PairedComparison {
  difference: number;
  noise: number;
}

/** Paired comparison of per-person mean rewards (same people, same order). */
export function pairedComparison(candidate: number[], other: number[]): PairedComparison {
  const n = Math.min(candidate.length, other.length);
  if (n === 0) return { difference: Number.NaN, noise: Number.NaN };
  const d = Array.from({ length: n }, (_, i) => candidate[i] - other[i]);
  const mean = d.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? d.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { difference: mean, noise: n > 1 ? tQuantile(n - 1) * Math.sqrt(variance / n) : 0 };
}

export function evaluatePlanner(
  persona: Persona,
  planner: Planner,
  options: {
    episodes?: number;
    days?: number;
    seed: number;
    /** The people's EMAs start in [0, initialEmaMax] (HabitVectorEnv's default; 0: a new person). */
    initialEmaMax?: number;
  },
): EvaluationResult {
  const episodes = options.episodes ?? 32;
  const days = options.days ?? 365;
  const start = performance.now();
  const env = new HabitVectorEnv(persona, {
    numEnvs: episodes,
    seed: deriveSeed(options.seed, "evaluation"),
    episodeDays: days,
    ...(options.initialEmaMax !== undefined ? { initialEmaMax: options.initialEmaMax } : {}),
  });
  const H = env.actionCount;
  const obs = new Float32Array(episodes * env.observationSize);
  const actions = new Int32Array(episodes * H);
  const buffers = createStepBuffers(env);
  env.reset(obs);
  const perEpisode = new Float64Array(episodes);
  let last90 = 0;
  const emaSums = new Float64Array(H);
  const lastWindow = Math.min(90, days);
  for (let d = 0; d < days; d++) {
    planner(env, obs, actions);
    env.step(actions, buffers);
    for (let n = 0; n < episodes; n++) {
      perEpisode[n] += buffers.rewards[n];
      if (d >= days - lastWindow) last90 += buffers.rewards[n];
    }
    // EMAs after the day (after the last day people are reset; their EMAs are in finalEmas).
    const emas = d === days - 1 ? env.finalEmas : env.emas;
    for (let i = 0; i < episodes * H; i++) emaSums[i % H] += emas[i];
    obs.set(buffers.observations);
  }
  const means = Array.from(perEpisode, (x) => x / days);
  const mean = means.reduce((a, b) => a + b, 0) / episodes;
  const variance =
    episodes > 1 ? means.reduce((a, b) => a + (b - mean) ** 2, 0) / (episodes - 1) : 0;
  const ci95 = episodes > 1 ? tQuantile(episodes - 1) * Math.sqrt(variance / episodes) : 0;
  const meanEmaByHabit: Record<string, number> = {};
  persona.habits.forEach((h, i) => {
    meanEmaByHabit[h.id] = emaSums[i] / (episodes * days);
  });
  return {
    episodes,
    days,
    meanReward: mean,
    ci95,
    meanRewardLast90: last90 / (episodes * lastWindow),
    meanEmaByHabit,
    perEpisode: means,
    seconds: (performance.now() - start) / 1000,
  };
}
