// When and how a person's policy is retrained, and when the new one replaces the old: every
// threshold of the training pipeline, with the reason for its value. The nightly job, /retrain,
// the CLI and the benchmarks read them from here.
import type { PairedComparison } from "../../rl/evaluate.js";
import { HABIT_NUM_ENVS } from "../../rl/habit-training.js";

// the paired comparison behind every margin below lives with the evaluation it compares
export { type PairedComparison, pairedComparison } from "../../rl/evaluate.js";

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

/** The stronger of the two heuristics on the evaluation people, and the candidate against it. */
export interface VersusHeuristic extends PairedComparison {
  heuristic: "heuristic" | "capacity-aware";
}

/** Mean daily rewards of the planners evaluated on the same simulated people. */
export interface ActivationEvidence {
  candidate: { meanReward: number };
  heuristic: { meanReward: number };
  /** null when there is no active policy or it could not be evaluated on the habit set. */
  active: { meanReward: number } | null;
  /**
   * Paired comparisons (recorded with the model): the candidate against the stronger heuristic
   * and against the active policy. Absent from runs recorded before margins were measured.
   */
  versus?: {
    heuristic: VersusHeuristic;
    active: PairedComparison | null;
    /** The active policy against the plain heuristic (absent from older runs). */
    activeVsHeuristic?: PairedComparison | null;
  };
}

/**
 * The activation rule: the new policy replaces what plans today only if it beats the stronger
 * heuristic (plain or capacity-aware) and, when there is one that could be evaluated, the active
 * policy — each by more than the evaluation noise of the paired difference (the margin is
 * recorded in `versus`). A gain inside the noise keeps what is there: a policy trained for a few
 * thousand steps differs from yesterday's by little, and churn on noise would swap policies at
 * random. Without paired comparisons (older runs), a strict gain on the means.
 */
export function shouldActivate(evaluation: ActivationEvidence): boolean {
  const beats = (c: PairedComparison) => c.difference > c.noise;
  if (evaluation.versus) {
    const { heuristic, active } = evaluation.versus;
    if (!beats(heuristic)) return false;
    return evaluation.active === null || active === null || beats(active);
  }
  const c = evaluation.candidate.meanReward;
  if (!(c > evaluation.heuristic.meanReward)) return false;
  return evaluation.active === null || c > evaluation.active.meanReward;
}

/**
 * The retirement rule: the active policy stops planning (the heuristic takes over) when the new
 * policy is not activated and the active one is worse than the plain heuristic by more than the
 * evaluation noise, on a behaviour that says something about the person (`informed`): one fitted
 * to their own history, or — for an adopted population policy, trained on people around the
 * default — the default one (losing there, it fits nobody). A policy of their own is not judged
 * on the default behaviour: nothing is known about them yet. Without the rule a policy that fits
 * someone badly keeps planning as long as no night's candidate beats both it and the heuristic
 * (measured: seed-23's population policy, docs/rl-results.md "Closed loop").
 */
export function shouldRetire(evaluation: ActivationEvidence, informed: boolean): boolean {
  if (!informed || shouldActivate(evaluation)) return false;
  const c = evaluation.versus?.activeVsHeuristic;
  return c != null && c.difference < -c.noise;
}

/** How `from` names a start from the training line (continuedCandidate reads it). */
const LATEST_CANDIDATE = "latest candidate";

/** Where a nightly retrain starts PPO: a stored policy model, or scratch. */
export interface WarmStartChoice<M> {
  model: M | null;
  /** "latest candidate #id", "active policy #id" or "scratch", with why when it fell back */
  from: string;
}

/**
 * Where the night's training starts (warm start). `line`: from the person's latest trained
 * policy model (the training line), activated or not, so that each night's steps add to the
 * last night's instead of restarting from the active policy (activations are rare: most nights'
 * training would be thrown away). Guard: when that candidate's own evaluation found it worse
 * than the policy that was active then by more than the evaluation noise
 * (`evaluation.versus.active`), the line has drifted bad and starts again from the active policy.
 * `active`: from the active policy. Without either: scratch. The line is the product's default
 * (RETRAIN_WARM_START_FROM) with 32,768 steps a night: in the closed loop it was worse than
 * `active` at 8,192 steps a night, and at 32,768 level or ahead on every persona run
 * (docs/rl-results.md, "Closed loop").
 * Whether a checkpoint fits the habit set and network design is checked where it is loaded.
 */
export function warmStartFrom<M extends { id: number; evaluation: unknown }>(
  mode: "line" | "active",
  active: M | null,
  latest: M | null,
): WarmStartChoice<M> {
  const fromActive = (why: string): WarmStartChoice<M> =>
    active === null
      ? { model: null, from: `scratch${why}` }
      : { model: active, from: `active policy #${active.id}${why}` };
  if (mode === "active" || latest === null || latest.id === active?.id) return fromActive("");
  const versus = (latest.evaluation as ActivationEvidence | null)?.versus?.active;
  if (versus != null && versus.difference < -versus.noise) {
    return fromActive(
      ` (latest candidate #${latest.id} was worse than the active policy by ${(-versus.difference).toFixed(4)} > noise ${versus.noise.toFixed(4)})`,
    );
  }
  return { model: latest, from: `${LATEST_CANDIDATE} #${latest.id}` };
}

/** Whether a run's `from` (WarmStartChoice) continued the training line's latest candidate. */
export function continuedCandidate(from: string | undefined): boolean {
  return from?.startsWith(LATEST_CANDIDATE) === true;
}

/** Habits a day for the capacity-aware heuristic: the behaviour's capacity, rounded, 1…H. */
export function capacityAwareK(capacity: number, habitCount: number): number {
  return Math.max(1, Math.min(habitCount, Math.round(capacity)));
}
