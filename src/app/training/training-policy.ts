// When and how a person's policy is retrained, and when the new one replaces the old: every
// threshold of the training pipeline, with the reason for its value. The nightly job, /retrain,
// the CLI and the benchmarks read them from here.
import { HABIT_NUM_ENVS } from "../../rl/habit-training.js";

/**
 * Days of history a behaviour model is fitted to. Long enough for every weekday to occur ~13
 * times and for rarely planned habits to show a compliance; short enough that the fit follows
 * how the person behaves now, not months ago (a fit is a snapshot: no drift is fitted).
 */
export const HISTORY_WINDOW_DAYS = 90;

/**
 * Days with a stored plan needed before a retrain trains on a fitted behaviour instead of the
 * default one. Two weeks show every weekday twice and give each habit a handful of planned days;
 * with fewer, the fit's compliances rest on a few days and the default behaviour is safer.
 */
export const MIN_HISTORY_DAYS = 14;

/**
 * Simulated people per PPO rollout: the engine's tuned width (`HABIT_NUM_ENVS`, 64 people × 64
 * days = 4,096 samples per update, the setting every result in docs/rl-results.md used).
 */
export const DEFAULT_NUM_ENVS = HABIT_NUM_ENVS;

/**
 * The evaluation before activation: 32 simulated people × 365 days each for the new policy, the
 * active one and the heuristic (common seeds). 32 people put the 95 % interval of the mean daily
 * reward at about ±0.002–0.004 (docs/rl-results.md), small against the differences that matter;
 * a whole year lets slow effects (EMAs, drift, weekly rhythm) play out.
 */
export const DEFAULT_EVAL_EPISODES = 32;
export const DEFAULT_EVAL_DAYS = 365;

/** Mean daily rewards of the planners evaluated on the same simulated people. */
export interface ActivationEvidence {
  candidate: { meanReward: number };
  heuristic: { meanReward: number };
  /** null when there is no active policy or it could not be evaluated on the habit set. */
  active: { meanReward: number } | null;
}

/**
 * The activation rule: the new policy replaces what plans today only if it beats the heuristic
 * and, when there is one that could be evaluated, the active policy — on mean daily reward over
 * the same simulated people. A tie keeps what is there (no churn without a measured gain).
 */
export function shouldActivate(evaluation: ActivationEvidence): boolean {
  const c = evaluation.candidate.meanReward;
  if (!(c > evaluation.heuristic.meanReward)) return false;
  return evaluation.active === null || c > evaluation.active.meanReward;
}
