// One retrain, as plain data in and plain data out so it can run in a worker thread: PPO in
// simulation on a persona built from the person's habits with a behaviour model fitted to
// their recent history (src/rl/fit-behaviour.ts, done by the caller) or, without enough
// history, the RL engine's default behaviour; then an evaluation of the new policy, the
// currently active policy (if it still fits the habit set) and the coach's heuristic on the
// same simulated people (common seeds) of that same persona.
// Every habit rule comes from the coach core through the RL engine; nothing is re-implemented.
import { readFileSync } from "node:fs";
import { assignActorGroups, type HabitSpec } from "../../coach/habits.js";
import { decodeAnyCheckpoint } from "../../rl/checkpoint.js";
import { type CoachAlgorithm, coachPlanner, loadCoachPolicy } from "../../rl/coach-policy.js";
import {
  capacityAwarePlanner,
  type EvaluationResult,
  evaluatePlanner,
  heuristicPlanner,
} from "../../rl/evaluate.js";
import { type FitQuality, type HistoryDay, sampleBehaviours } from "../../rl/fit-behaviour.js";
import { defaultBehaviour, HABIT_PPO } from "../../rl/habit-training.js";
import type { Persona, PersonaBehaviour } from "../../rl/persona.js";
import { trainForPlausibleHabits } from "../../rl/plausible-people.js";
import { loadPolicy } from "../../rl/policy.js";
import type { TrainingProgress } from "../../rl/ppo.js";
import { deriveSeed } from "../../rl/random.js";
import type { UdrlProgress } from "../../rl/udrl.js";
import { trainUdrlForHabits } from "../../rl/udrl-policy.js";
import {
  capacityAwareK,
  type PairedComparison,
  pairedComparison,
  type VersusHeuristic,
} from "./training-policy.js";

export interface RetrainJobRequest {
  /** The learning algorithm: PPO (the default) or UDRL (the person's choice). */
  algorithm?: CoachAlgorithm;
  /** The person's active habits, in their order. */
  habits: HabitSpec[];
  planCapacityMinutes: number | null;
  /**
   * The behaviour model fitted to the person's history (keyed by habit id); null or omitted:
   * the RL engine's `defaultBehaviour`.
   */
  behaviour?: PersonaBehaviour | null;
  /**
   * Train on `samples` plausible people drawn from the fit's posteriors (sampleBehaviours: each
   * habit's compliance and unplanned rate from a Beta with the fit's evidence) instead of the
   * point estimate `behaviour` alone; `fit` is the fit's summary (null: nothing was fitted, so
   * the point estimate). 0 or 1 samples, or omitted: the point estimate only. PPO only; the
   * evaluation stays on the point estimate.
   */
  posterior?: { fit: FitQuality | null; samples: number } | null;
  /**
   * The person's logged days (oldest first, keyed by habit id): a UDRL coach turns them into
   * hindsight episodes beside the simulated ones; PPO ignores them.
   */
  history?: HistoryDay[];
  steps: number;
  /**
   * CPU-seconds of training (this thread, see threadCpuSeconds) after which PPO stops at the end
   * of the current update, keeping the policy trained so far; null: only `steps` limits it.
   */
  cpuSecondsBudget?: number | null;
  seed: number;
  numEnvs: number;
  /** The checkpoint of the person's active policy, if any (evaluated as the incumbent). */
  activeCheckpoint: Uint8Array | null;
  /**
   * Where training starts (warm start): usually the active policy; null or omitted: from
   * scratch. A checkpoint that does not fit the habit set or the network design is ignored
   * (training starts from scratch and `cost.startedFrom` says why).
   */
  initialPolicy?: Uint8Array | null;
  evaluation: { episodes: number; days: number; seed: number };
}

export interface EvaluationSummary {
  meanReward: number;
  ci95: number;
  meanRewardLast90: number;
}

/** What a retrain cost, measured in the thread that trained (stored in the run's summary). */
export interface RetrainCost {
  /**
   * CPU-seconds of this job on its thread: behaviour set-up, training and evaluation (not the
   * thread's start — loading the modules and the WASM backend, once per pooled thread, see
   * ./retrain-worker-pool.ts — nor the main thread's database writes)
   */
  cpuSeconds: number;
  /** of which PPO training */
  trainingCpuSeconds: number;
  /** which clock measured it (see threadCpuSeconds) */
  clock: CpuClock;
  /** environment steps trained */
  steps: number;
  /** what ended the training: the step budget or the CPU budget */
  stoppedBy: "steps" | "cpu-budget";
  /** "warm start" from request.initialPolicy, or "scratch" (with why, when one was refused) */
  startedFrom?: string;
  /** behaviours trained on: 1 = the point estimate, more = plausible people (request.posterior) */
  behaviours?: number;
}

export type CpuClock = "thread-cpu" | "event-loop-busy";

/**
 * CPU time of the calling thread, in seconds. `process.cpuUsage()` counts the whole process
 * (every worker thread and the main thread), so it cannot tell one training from another.
 * On Linux the kernel's per-thread account is read from /proc/thread-self/schedstat (the first
 * field: nanoseconds this thread ran on a CPU — user and system, excluding time it waited for
 * a core); the read is a synchronous syscall on this thread, so it names this thread.
 * Elsewhere: the event loop's busy time (performance.eventLoopUtilization().active), which is
 * the time this thread was not idle — CPU time plus any time the OS kept it off a core, so an
 * upper bound on a loaded machine.
 */
export function threadCpuSeconds(): { seconds: number; clock: CpuClock } {
  try {
    const ns = Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]);
    if (Number.isFinite(ns)) return { seconds: ns / 1e9, clock: "thread-cpu" };
  } catch {
    // not Linux
  }
  return {
    seconds: performance.eventLoopUtilization().active / 1000,
    clock: "event-loop-busy",
  };
}

export interface RetrainJobResult {
  checkpoint: Uint8Array;
  /** absent from runners that do not measure it (test doubles) */
  cost?: RetrainCost;
  formatVersion: number;
  /** The observation/action spec the policy was trained for (stored in PolicyModel.spec). */
  spec: unknown;
  hyperparameters: unknown;
  training: unknown;
  evaluation: {
    episodes: number;
    days: number;
    seed: number;
    candidate: EvaluationSummary;
    heuristic: EvaluationSummary;
    /** The capacity-aware heuristic planning the k habits furthest behind (absent in doubles). */
    capacityAware?: EvaluationSummary & { k: number };
    /** null when there is no active policy or it no longer fits the habit set (see note). */
    active: EvaluationSummary | null;
    activeNote: string | null;
    /** Paired comparisons with their noise, used by shouldActivate (absent in test doubles). */
    versus?: {
      heuristic: VersusHeuristic;
      active: PairedComparison | null;
      /** the active policy against the plain heuristic (what plans if it is retired) */
      activeVsHeuristic: PairedComparison | null;
    };
  };
}

export type RetrainProgress = Pick<
  TrainingProgress,
  | "update"
  | "updates"
  | "steps"
  | "totalSteps"
  | "samplesPerSecond"
  | "meanReward"
  | "entropy"
  | "approxKl"
  | "clipFraction"
  | "policyLoss"
  | "valueLoss"
  | "explainedVariance"
  | "learningRate"
>;

/**
 * The persona the RL engine trains and evaluates on for these habits (same construction as
 * trainForHabits): the fitted behaviour when given, else the default behaviour.
 */
export function personaFor(
  habits: HabitSpec[],
  planCapacityMinutes: number | null,
  behaviour: PersonaBehaviour | null = null,
): Persona {
  const grouped = assignActorGroups(habits);
  return {
    format: 1,
    name: "user",
    description:
      behaviour === null
        ? "a person's habit set with default behaviour"
        : "a person's habit set with behaviour fitted to their history",
    habits: grouped,
    metrics: [],
    planCapacityMinutes,
    behaviour: behaviour ?? defaultBehaviour(grouped),
  };
}

/**
 * Why a checkpoint cannot be trained further for this persona (another habit set, or a network
 * design other than the one training uses), or null when it can.
 */
async function warmStartProblem(bytes: Uint8Array, persona: Persona): Promise<string | null> {
  try {
    const policy = await loadPolicy(bytes, { habits: persona.habits });
    const design = JSON.stringify(policy.networkConfig);
    policy.dispose();
    if (design !== JSON.stringify(HABIT_PPO.network)) {
      return `the policy's network design ${design} is not the one training uses`;
    }
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * The behaviours a PPO retrain trains on besides the point estimate: `posterior.samples` draws
 * from the fit (at most one per simulated person of a rollout), seeded by the run; none when
 * fewer than 2 are asked for or nothing was fitted.
 */
export function plausibleBehaviours(
  request: RetrainJobRequest,
  behaviour: PersonaBehaviour,
): PersonaBehaviour[] {
  const posterior = request.posterior;
  if (!posterior || posterior.fit === null || !request.behaviour) return [];
  const count = Math.min(posterior.samples, request.numEnvs);
  if (count < 2) return [];
  return sampleBehaviours(
    { behaviour, quality: posterior.fit },
    count,
    deriveSeed(request.seed, "plausible"),
  );
}

function summary(r: EvaluationResult): EvaluationSummary {
  return { meanReward: r.meanReward, ci95: r.ci95, meanRewardLast90: r.meanRewardLast90 };
}

/** Runs one job (a worker thread, or this thread); rejects on failure or abort. */
export type RetrainRunner = (
  request: RetrainJobRequest,
  onProgress: (progress: RetrainProgress) => void,
  signal: AbortSignal,
) => Promise<RetrainJobResult>;

/** Trains and evaluates; `onProgress` is called after every PPO update. */
export async function trainAndEvaluate(
  request: RetrainJobRequest,
  onProgress: (progress: RetrainProgress) => void,
): Promise<RetrainJobResult> {
  const persona = personaFor(
    request.habits,
    request.planCapacityMinutes,
    request.behaviour ?? null,
  );
  const cpuAtStart = threadCpuSeconds();
  const cpuSince = () => threadCpuSeconds().seconds - cpuAtStart.seconds;
  const budget = request.cpuSecondsBudget ?? null;
  // checked by the PPO loop after every update: it stops there with the policy trained so far
  const cpuBudget = new AbortController();
  let stepsTrained = 0;
  let startedFrom = "scratch";
  let initialPolicy: Uint8Array | undefined;
  const algorithm = request.algorithm ?? "ppo";
  if (request.initialPolicy && algorithm === "udrl") {
    startedFrom = "scratch (UDRL trains from scratch)";
  } else if (request.initialPolicy) {
    const problem = await warmStartProblem(request.initialPolicy, persona);
    if (problem === null) {
      initialPolicy = request.initialPolicy;
      startedFrom = "warm start";
    } else startedFrom = `scratch (${problem})`;
  }
  const common = {
    signal: cpuBudget.signal,
    habits: persona.habits,
    behaviour: persona.behaviour,
    planCapacityMinutes: request.planCapacityMinutes,
    steps: request.steps,
    seed: request.seed,
    numEnvs: request.numEnvs,
  };
  const plausible = plausibleBehaviours(request, persona.behaviour);
  const udrlProgress = (p: UdrlProgress) => {
    stepsTrained = p.steps;
    if (budget !== null && cpuSince() >= budget) cpuBudget.abort("cpu-budget");
    // UDRL has no entropy bonus, ratio or critic: those metrics are NaN; its policy loss is
    // the behaviour function's cross-entropy on the iteration's hindsight samples
    onProgress({
      update: p.iteration,
      // iterations differ in steps (the warm-up comes first): an estimate from the pace so far
      updates: Math.max(p.iteration, Math.round((p.iteration * p.totalSteps) / p.steps)),
      steps: p.steps,
      totalSteps: p.totalSteps,
      samplesPerSecond: p.samplesPerSecond,
      meanReward: p.meanReward,
      entropy: Number.NaN,
      approxKl: Number.NaN,
      clipFraction: Number.NaN,
      policyLoss: p.fit?.trainLoss ?? Number.NaN,
      valueLoss: Number.NaN,
      explainedVariance: Number.NaN,
      learningRate: Number.NaN,
    });
  };
  const trained =
    algorithm === "udrl"
      ? await trainUdrlForHabits({
          ...common,
          history: request.history,
          onProgress: udrlProgress,
        })
      : await trainForPlausibleHabits({
          ...common,
          behaviours: plausible,
          initialPolicy,
          onProgress: (p) => {
            stepsTrained = p.steps;
            if (budget !== null && cpuSince() >= budget) cpuBudget.abort("cpu-budget");
            onProgress({
              update: p.update,
              updates: p.updates,
              steps: p.steps,
              totalSteps: p.totalSteps,
              samplesPerSecond: p.samplesPerSecond,
              meanReward: p.meanReward,
              entropy: p.entropy,
              approxKl: p.approxKl,
              clipFraction: p.clipFraction,
              policyLoss: p.policyLoss,
              valueLoss: p.valueLoss,
              explainedVariance: p.explainedVariance,
              learningRate: p.learningRate,
            });
          },
        });
  const trainingCpuSeconds = cpuSince();
  const { episodes, days, seed } = request.evaluation;
  const options = { episodes, days, seed };
  const heuristic = evaluatePlanner(persona, heuristicPlanner(), options);
  const k = capacityAwareK(persona.behaviour.capacity, persona.habits.length);
  const capacityAware = evaluatePlanner(persona, capacityAwarePlanner(k), options);
  const candidatePolicy = await loadCoachPolicy(trained.checkpoint, { habits: persona.habits });
  let candidate: EvaluationResult;
  try {
    candidate = evaluatePlanner(persona, coachPlanner(candidatePolicy), options);
  } finally {
    candidatePolicy.dispose();
  }
  let active: EvaluationSummary | null = null;
  let versusActive: PairedComparison | null = null;
  let activeVsHeuristic: PairedComparison | null = null;
  let activeNote: string | null = null;
  if (request.activeCheckpoint !== null) {
    try {
      const incumbent = await loadCoachPolicy(request.activeCheckpoint, {
        habits: persona.habits,
      });
      try {
        const evaluated = evaluatePlanner(persona, coachPlanner(incumbent), options);
        active = summary(evaluated);
        versusActive = pairedComparison(candidate.perEpisode, evaluated.perEpisode);
        // what would plan instead if the active policy were retired: the plain heuristic
        activeVsHeuristic = pairedComparison(evaluated.perEpisode, heuristic.perEpisode);
      } finally {
        incumbent.dispose();
      }
    } catch (error) {
      activeNote = `the active policy was not evaluated: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  const stronger = capacityAware.meanReward > heuristic.meanReward ? capacityAware : heuristic;
  const versusHeuristic: VersusHeuristic = {
    heuristic: stronger === heuristic ? "heuristic" : "capacity-aware",
    ...pairedComparison(candidate.perEpisode, stronger.perEpisode),
  };
  const header = decodeAnyCheckpoint(trained.checkpoint).header;
  return {
    checkpoint: trained.checkpoint,
    cost: {
      // this job's share of its thread (a pooled thread's start is not a job's)
      cpuSeconds: cpuSince(),
      trainingCpuSeconds,
      clock: cpuAtStart.clock,
      steps: stepsTrained,
      stoppedBy: cpuBudget.signal.aborted && stepsTrained < request.steps ? "cpu-budget" : "steps",
      startedFrom,
      behaviours: algorithm === "udrl" ? 1 : Math.max(1, plausible.length),
    },
    formatVersion: header.formatVersion,
    spec: { observation: header.observationSpec, policy: header.policySpec },
    hyperparameters: header.hyperparameters,
    training: trained.training,
    evaluation: {
      episodes,
      days,
      seed,
      candidate: summary(candidate),
      heuristic: summary(heuristic),
      capacityAware: { ...summary(capacityAware), k },
      active,
      activeNote,
      versus: { heuristic: versusHeuristic, active: versusActive, activeVsHeuristic },
    },
  };
}
