// One retrain job, as the training queue (./queue.ts) runs it: the person's TrainingRun is
// claimed, a behaviour is fitted to their history, PPO trains in a worker thread, the new
// policy, the active one and the heuristic are evaluated on the same simulated people, and the
// new PolicyModel is stored (activated only if it beat both) with the run finished — exactly
// once per run, however often the job is retried. The run keeps a TrainingMetric time series.
import type { HabitSpec } from "../../coach/index.js";
import type { AppConfig } from "../../config.js";
import type { Database } from "../../db/client.js";
import { habitSpecOf, listHabits } from "../../db/habits.js";
import { loadHistory } from "../../db/history.js";
import { findPersonById } from "../../db/operations.js";
import {
  activePolicyModelSummary,
  finishRun,
  latestTrainedPolicyModel,
  markRunStarted,
  type PolicyModelSummary,
  policyModelBytes,
  recordTrainingMetrics,
  retireActivePolicyModel,
} from "../../db/training.js";
import { completeRunOnce, requeueRun, trainingRunById } from "../../db/training-queue.js";
import type { TrainingRun } from "../../generated/prisma/client.js";
import type { TrainingTrigger } from "../../generated/prisma/enums.js";
import type { Logger } from "../../logger.js";
import { type FitQuality, fitBehaviour, type HistoryDay } from "../../rl/fit-behaviour.js";
import type { PersonaBehaviour } from "../../rl/persona.js";
import { coachAlgorithmOf } from "../coach-algorithm.js";
import { todayOf } from "../coach-state.js";
import {
  adoptPopulationPolicy,
  POPULATION_SEED,
  workerThreadPopulationTrainer,
} from "./population.js";
import type {
  RetrainCost,
  RetrainJobRequest,
  RetrainProgress,
  RetrainRunner,
} from "./retrain-job.js";
import { workerThreadRunner } from "./retrain-worker-pool.js";
import {
  DEFAULT_EVAL_DAYS,
  DEFAULT_EVAL_EPISODES,
  DEFAULT_NUM_ENVS,
  HISTORY_WINDOW_DAYS,
  MIN_HISTORY_DAYS,
  shouldActivate,
  shouldRetire,
  warmStartFrom,
} from "./training-policy.js";

/** Runs one job (default: in a worker thread); rejects on failure or abort. */
export type { RetrainRunner } from "./retrain-job.js";
export { workerThreadRunner };

/** The training budget of one run (recorded in TrainingRun.hyperparameters when queued). */
export interface RetrainSizes {
  /** PPO environment steps */
  steps: number;
  /** CPU-seconds of training; null: no CPU budget (training ends at whichever comes first) */
  cpuSeconds: number | null;
  numEnvs: number;
  evalEpisodes: number;
  evalDays: number;
  /**
   * Start training from a stored policy of the person when it fits their habit set (warm start;
   * which one: warmStartFrom);
   * false: from scratch (the product before the closed-loop work; kept for `coachrl simulate
   * --cold-start`, which measures the difference).
   */
  warmStart: boolean;
  /**
   * Which policy a warm start continues (default the configuration's RETRAIN_WARM_START_FROM,
   * "line"): "line", the person's latest trained policy model, activated or not, unless its
   * evaluation found it worse than the active policy (nightly steps accumulate); or "active", the
   * active policy. Measured in the closed loop: the line is worse at 8,192 steps a night, level or
   * ahead at 32,768 (the default budget) — docs/rl-results.md "Closed loop".
   * See warmStartFrom in ./training-policy.ts.
   */
  warmStartFrom: "line" | "active";
}

/** A retrain asked for: whom, why, and optional budget overrides (default: the config). */
export interface RetrainOrder extends Partial<RetrainSizes> {
  userId: number;
  trigger: TrainingTrigger;
  /** Telegram id of the admin who asked, if any. */
  requestedBy?: bigint | null;
  /**
   * The job key: one run per key ("nightly:<user>:<night>"); default a fresh request id, so
   * every admin or CLI request is its own run.
   */
  key?: string;
}

/** The budget of an order: its overrides, else the configuration, else the training policy. */
export function retrainSizes(config: AppConfig, order: Partial<RetrainSizes>): RetrainSizes {
  return {
    steps: order.steps ?? config.retrainSteps,
    cpuSeconds:
      order.cpuSeconds !== undefined ? order.cpuSeconds : (config.retrainCpuSeconds ?? null),
    numEnvs: order.numEnvs ?? config.retrainEval.numEnvs ?? DEFAULT_NUM_ENVS,
    evalEpisodes: order.evalEpisodes ?? config.retrainEval.episodes ?? DEFAULT_EVAL_EPISODES,
    evalDays: order.evalDays ?? config.retrainEval.days ?? DEFAULT_EVAL_DAYS,
    warmStart: order.warmStart ?? true,
    warmStartFrom: order.warmStartFrom ?? config.retrainWarmStartFrom,
  };
}

/** What a retrain trained on: a behaviour fitted to the person's history, or the default. */
export interface BehaviourSource {
  source: "fitted" | "default";
  /** Days of history in the window (from the first day with a plan or an entry). */
  days: number;
  /** Days of those with a stored plan (the fit needs at least MIN_HISTORY_DAYS). */
  daysWithPlan: number;
  /** The fit summary (null with the default behaviour). */
  fit: FitQuality | null;
}

/**
 * The behaviour a retrain trains on: fitted to the person's last HISTORY_WINDOW_DAYS days when
 * at least MIN_HISTORY_DAYS of them have a plan, otherwise the default (null).
 */
export async function behaviourFor(
  deps: Pick<RetrainJobDeps, "db" | "now">,
  person: { id: number; timezone: string; dayStartHour: number },
  habits: HabitSpec[],
): Promise<{
  behaviour: PersonaBehaviour | null;
  source: BehaviourSource;
  /** The logged days read (oldest first): a UDRL coach also learns from them as episodes. */
  history: HistoryDay[];
}> {
  const history = await loadHistory(
    deps.db,
    person.id,
    todayOf(person, deps.now()),
    HISTORY_WINDOW_DAYS,
  );
  const days = history.days.length;
  const daysWithPlan = history.days.filter((d) => d.planned !== null).length;
  if (daysWithPlan < MIN_HISTORY_DAYS) {
    return {
      behaviour: null,
      source: { source: "default", days, daysWithPlan, fit: null },
      history: history.days,
    };
  }
  const fit = fitBehaviour(habits, history.days);
  return {
    history: history.days,
    behaviour: fit.behaviour,
    source: { source: "fitted", days, daysWithPlan, fit: fit.quality },
  };
}

export interface RetrainOutcome {
  runId: number | null;
  userId: number;
  displayName: string;
  status: "succeeded" | "failed" | "skipped";
  /** Mean daily reward of what plans today: the active policy, else the heuristic. */
  before: number | null;
  beforeSource: "active policy" | "heuristic" | null;
  /** Mean daily reward of the new policy. */
  after: number | null;
  heuristic: number | null;
  activated: boolean;
  /** The active policy was retired (worse than the heuristic on the fitted behaviour). */
  retired?: boolean;
  modelId: number | null;
  /** What the policy was trained on (absent when the run produced no policy). */
  behaviour?: BehaviourSource;
  /** CPU time and steps of the training (absent when the run produced no policy). */
  cost?: RetrainCost;
  /** The stored policy training started from (warmStartFrom), or "scratch". */
  startFrom?: string;
  /** Why it failed or was skipped. */
  reason: string | null;
  seconds: number;
}

/** The outcome of a run that produced no policy: nothing measured, nothing activated. */
export function outcomeWithoutPolicy(
  fields: Pick<RetrainOutcome, "runId" | "userId" | "displayName" | "reason" | "seconds"> & {
    status: "failed" | "skipped";
  },
): RetrainOutcome {
  return {
    before: null,
    beforeSource: null,
    after: null,
    heuristic: null,
    activated: false,
    modelId: null,
    ...fields,
  };
}

/** Progress metrics stored per update, by TrainingMetric name. */
function metricRow(p: RetrainProgress): Record<string, number> {
  return {
    mean_reward: p.meanReward,
    entropy: p.entropy,
    approx_kl: p.approxKl,
    clip_fraction: p.clipFraction,
    policy_loss: p.policyLoss,
    value_loss: p.valueLoss,
    explained_variance: p.explainedVariance,
    learning_rate: p.learningRate,
    samples_per_second: p.samplesPerSecond,
  };
}

/** What a retrain job needs: the database, the clock, the log and the training sizes. */
export interface RetrainJobDeps {
  config: AppConfig;
  db: Database;
  log: Logger;
  now: () => Date;
}

/** Which attempt of the job this is (pg-boss: retryCount of retryLimit). */
export interface RetrainAttempt {
  /** 0 for the first attempt */
  retry: number;
  /** retries allowed after the first attempt */
  retryLimit: number;
  /**
   * Attempts before this job that workers handed back when they shut down (they use up no
   * retry: a deploy is not the run's fault); counted in the run's recorded attempt number.
   */
  handedBack?: number;
}

/** Thrown to the queue when an attempt failed and will be retried (the run is queued again). */
export class RetrainAttemptFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RetrainAttemptFailed";
  }
}

/** Why an attempt was stopped from outside: the worker shuts down, the time limit, a cancel. */
export type StopReason = "shutdown" | "timeout" | "cancelled";

/** The outcome a finished run recorded (its summary), or the one its end state implies. */
export function recordedOutcome(run: TrainingRun, displayName: string): RetrainOutcome | null {
  if (run.status === "succeeded" && run.summary !== null && typeof run.summary === "object") {
    return { ...(run.summary as unknown as RetrainOutcome), runId: run.id };
  }
  if (run.status === "failed" || run.status === "cancelled") {
    const seconds =
      run.startedAt && run.finishedAt
        ? (run.finishedAt.getTime() - run.startedAt.getTime()) / 1000
        : 0;
    return outcomeWithoutPolicy({
      runId: run.id,
      userId: run.userId ?? 0,
      displayName,
      status: run.status === "failed" ? "failed" : "skipped",
      reason: run.error,
      seconds,
    });
  }
  return null;
}

/**
 * Runs one attempt of the retrain recorded as TrainingRun `runId`. Idempotent: a run that has
 * already ended is not trained again (its recorded outcome is returned), and the model is
 * stored only by the first attempt to finish. A failed attempt before the last one queues the
 * run again and throws RetrainAttemptFailed (the queue retries it); the last one records the
 * run as failed with the error. `signal` stops the training (its reason a StopReason): on
 * shutdown the run is queued again for another worker.
 */
export async function runRetrainJob(
  deps: RetrainJobDeps,
  runId: number,
  attempt: RetrainAttempt,
  options: {
    runner?: RetrainRunner;
    signal: AbortSignal;
    /** The process working this attempt (its queue instance name), recorded as the run's trainedBy. */
    instance: string;
    /** Called after every PPO update (in-process listeners; others poll the metrics). */
    onProgress?: (progress: RetrainProgress) => void;
  },
): Promise<RetrainOutcome | null> {
  const { db } = deps;
  const log = deps.log.child({ component: "retrain", runId });
  const runner = options.runner ?? workerThreadRunner;
  const run = await trainingRunById(db, runId);
  if (run === null || run.userId === null) return null; // the person was deleted
  const person = await findPersonById(db, run.userId);
  const base = {
    runId,
    userId: run.userId,
    displayName: person?.displayName ?? `user ${run.userId}`,
  };
  const done = recordedOutcome(run, base.displayName);
  if (done !== null) return done;
  const started = deps.now();
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  const skip = async (error: string, reason: string) => {
    await finishRun(db, runId, { status: "cancelled", error, at: deps.now() });
    return outcomeWithoutPolicy({ ...base, status: "skipped", reason, seconds: seconds() });
  };
  if (person === null) return skip("the person was deleted", "the person no longer exists");
  const habits = (await listHabits(db, person.id)).map(habitSpecOf);
  if (habits.length === 0) return skip("no active habits", "no active habits");
  // someone without a policy starts from their habit set's population policy (seeded on first use)
  const seedPopulation = deps.config.populationPolicySteps > 0;
  await adoptPopulationPolicy(
    db,
    person,
    seedPopulation
      ? {
          steps: deps.config.populationPolicySteps,
          seed: POPULATION_SEED,
          train: workerThreadPopulationTrainer,
        }
      : undefined,
  ).catch((error) => log.warn({ err: error, userId: person.id }, "population policy not adopted"));
  const active = await activePolicyModelSummary(db, person.id);
  const activeBytes = active === null ? null : await policyModelBytes(db, active.id);
  const algorithm = coachAlgorithmOf(person);
  const size = retrainSizes(deps.config, run.hyperparameters as Partial<RetrainSizes>);
  const start =
    size.warmStart && algorithm === "ppo"
      ? warmStartFrom<PolicyModelSummary>(
          size.warmStartFrom,
          active,
          size.warmStartFrom === "line" ? await latestTrainedPolicyModel(db, person.id) : null,
        )
      : { model: null, from: "scratch" };
  // the checkpoint training starts from: the active one (read already; a copy, as a worker
  // thread takes each buffer over) or the line's latest
  const initialPolicy =
    start.model === null
      ? null
      : start.model.id === active?.id
        ? activeBytes && new Uint8Array(activeBytes)
        : await policyModelBytes(db, start.model.id);
  // a history that cannot be read or fitted must not cost the night's retrain: default then
  const fitted = await behaviourFor(deps, person, habits).catch((error) => {
    log.warn({ err: error, userId: person.id }, "behaviour fit failed; using default");
    const source: BehaviourSource = { source: "default", days: 0, daysWithPlan: 0, fit: null };
    return { behaviour: null, source, history: [] };
  });
  const job: RetrainJobRequest = {
    algorithm,
    habits,
    planCapacityMinutes: person.capacityMinutes,
    behaviour: fitted.behaviour,
    posterior: { fit: fitted.source.fit, samples: deps.config.retrainBehaviourSamples },
    // a UDRL coach learns from the person's own logged days too (hindsight episodes)
    history: algorithm === "udrl" ? fitted.history : undefined,
    steps: size.steps,
    cpuSecondsBudget: size.cpuSeconds,
    seed: runId,
    numEnvs: size.numEnvs,
    activeCheckpoint: activeBytes,
    initialPolicy,
    evaluation: {
      episodes: size.evalEpisodes,
      days: size.evalDays,
      // common seed: the same simulated people for the new, active and heuristic planners
      seed: 1_000_003 + runId,
    },
  };
  await markRunStarted(db, runId, started, options.instance, {
    ...size,
    algorithm,
    startFrom: start.from,
    behaviour: fitted.source.source,
    historyDays: fitted.source.days,
    historyDaysWithPlan: fitted.source.daysWithPlan,
    attempt: (attempt.handedBack ?? 0) + attempt.retry + 1,
  });
  let metricWrites: Promise<unknown> = Promise.resolve();
  try {
    const result = await runner(
      job,
      (progress) => {
        metricWrites = metricWrites
          .then(() => recordTrainingMetrics(db, runId, progress.steps, metricRow(progress)))
          .catch((error) => log.warn({ err: error }, "could not record training metrics"));
        options.onProgress?.(progress);
      },
      options.signal,
    );
    await metricWrites;
    const evaluation = result.evaluation;
    const activate = shouldActivate(evaluation);
    // the active policy clearly worse than the heuristic for this person: the heuristic plans.
    // Judged on the fitted behaviour, or on the default one for an adopted population policy
    // (trained on people around the default: losing there, it fits nobody)
    const adoptedPopulation = active !== null && active.trainingRunId === null;
    const retire = shouldRetire(evaluation, fitted.source.source === "fitted" || adoptedPopulation);
    const before = evaluation.active ?? evaluation.heuristic;
    const outcomeOf = (modelId: number): RetrainOutcome => ({
      ...base,
      status: "succeeded",
      before: before.meanReward,
      beforeSource: evaluation.active ? "active policy" : "heuristic",
      after: evaluation.candidate.meanReward,
      heuristic: evaluation.heuristic.meanReward,
      activated: activate,
      ...(retire ? { retired: true } : {}),
      modelId,
      behaviour: fitted.source,
      ...(result.cost ? { cost: result.cost } : {}),
      startFrom: start.from,
      reason: evaluation.activeNote,
      seconds: seconds(),
    });
    const model = await completeRunOnce(
      db,
      runId,
      {
        userId: person.id,
        trainingRunId: runId,
        bytes: result.checkpoint,
        formatVersion: result.formatVersion,
        spec: result.spec,
        hyperparameters: result.hyperparameters,
        evaluation,
      },
      activate,
      (stored) => ({
        ...outcomeOf(stored.id),
        training: result.training,
        evaluation,
        // the behaviour model itself, so a run can be replayed on the same persona
        fittedBehaviour: fitted.behaviour,
      }),
      deps.now(),
      options.instance,
    );
    if (model === null) {
      log.warn({ userId: person.id }, "another attempt finished this run first; result dropped");
      const ended = await trainingRunById(db, runId);
      return ended === null ? null : recordedOutcome(ended, base.displayName);
    }
    if (retire) await retireActivePolicyModel(db, person.id);
    const outcome = outcomeOf(model.id);
    log.info(
      {
        userId: person.id,
        before: outcome.before,
        after: outcome.after,
        activate,
        retire,
        behaviour: fitted.source.source,
        historyDays: fitted.source.days,
        historyDaysWithPlan: fitted.source.daysWithPlan,
        capacity: fitted.source.fit?.capacity ?? null,
      },
      "retrain finished",
    );
    return outcome;
  } catch (error) {
    await metricWrites;
    const message = error instanceof Error ? error.message : String(error);
    const stop = options.signal.aborted ? (options.signal.reason as StopReason) : null;
    if (stop === "cancelled") return skip("cancelled", "cancelled");
    if (stop === "shutdown") {
      await requeueRun(db, runId, "released: the worker shut down; queued for another worker");
      log.info({ userId: person.id }, "retrain released (shutdown)");
      throw new RetrainAttemptFailed("released: the worker shut down");
    }
    const why = stop === "timeout" ? `time limit reached (${message})` : message;
    if (attempt.retry < attempt.retryLimit) {
      await requeueRun(
        db,
        runId,
        `attempt ${attempt.retry + 1} of ${attempt.retryLimit + 1} failed: ${why}; retrying`,
      );
      log.warn(
        { err: error, userId: person.id, attempt: attempt.retry + 1 },
        "retrain attempt failed",
      );
      throw new RetrainAttemptFailed(why);
    }
    await finishRun(db, runId, { status: "failed", error: why, at: deps.now() }).catch(() => {});
    log.error({ err: error, userId: person.id }, "retrain failed");
    return outcomeWithoutPolicy({ ...base, status: "failed", reason: why, seconds: seconds() });
  }
}
