// The retrain service: a serial queue of training runs (one at a time — training takes the
// CPU), each recorded as a TrainingRun with a TrainingMetric time series, executed in a worker
// thread, and ending with the new PolicyModel stored and activated only if it beat both the
// heuristic and the active policy on the same simulated people.
//
// One service per app, created by the composition root (AppDeps.retrain) and shared by
// /retrain, the nightly schedule and shutdown.
import { z } from "zod";
import type { HabitSpec } from "../../coach/index.js";
import type { AppConfig } from "../../config.js";
import type { Database } from "../../db/client.js";
import { habitSpecOf, listHabits } from "../../db/habits.js";
import { loadHistory } from "../../db/history.js";
import { findPersonById } from "../../db/operations.js";
import {
  activePolicyModel,
  createTrainingRun,
  finishRun,
  markRunStarted,
  recordTrainingMetrics,
  storePolicyModel,
} from "../../db/training.js";
import type { TrainingTrigger } from "../../generated/prisma/enums.js";
import type { Logger } from "../../logger.js";
import { type FitQuality, fitBehaviour } from "../../rl/fit-behaviour.js";
import type { PersonaBehaviour } from "../../rl/persona.js";
import { todayOf } from "../coach-state.js";
import { startWorkerThread } from "../worker-thread.js";
import type { RetrainJobRequest, RetrainJobResult, RetrainProgress } from "./retrain-job.js";
import type { RetrainWorkerMessage } from "./retrain-worker.js";
import {
  DEFAULT_EVAL_DAYS,
  DEFAULT_EVAL_EPISODES,
  DEFAULT_NUM_ENVS,
  HISTORY_WINDOW_DAYS,
  MIN_HISTORY_DAYS,
  shouldActivate,
} from "./training-policy.js";

/** Runs one job (default: in a worker thread); rejects on failure or abort. */
export type RetrainRunner = (
  request: RetrainJobRequest,
  onProgress: (progress: RetrainProgress) => void,
  signal: AbortSignal,
) => Promise<RetrainJobResult>;

export interface RetrainOptions {
  /** PPO environment steps (default: config.retrainSteps). */
  steps?: number;
  numEnvs?: number;
  evalEpisodes?: number;
  evalDays?: number;
}

export interface RetrainRequest extends RetrainOptions {
  userId: number;
  trigger: TrainingTrigger;
  /** Telegram id of the admin who asked, if any. */
  requestedBy?: bigint | null;
  /** Called when the run starts and after every PPO update. */
  onProgress?: (event: RetrainEvent) => void;
}

export type RetrainEvent =
  | { kind: "started"; runId: number }
  | { kind: "progress"; runId: number; progress: RetrainProgress };

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
  deps: Pick<RetrainServiceDeps, "db" | "now">,
  person: { id: number; timezone: string; dayStartHour: number },
  habits: HabitSpec[],
): Promise<{ behaviour: PersonaBehaviour | null; source: BehaviourSource }> {
  const history = await loadHistory(
    deps.db,
    person.id,
    todayOf(person, deps.now()),
    HISTORY_WINDOW_DAYS,
  );
  const days = history.days.length;
  const daysWithPlan = history.days.filter((d) => d.planned !== null).length;
  if (daysWithPlan < MIN_HISTORY_DAYS) {
    return { behaviour: null, source: { source: "default", days, daysWithPlan, fit: null } };
  }
  const fit = fitBehaviour(habits, history.days);
  return {
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
  modelId: number | null;
  /** What the policy was trained on (absent when the run produced no policy). */
  behaviour?: BehaviourSource;
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

export class RetrainBusyError extends Error {
  constructor(readonly userId: number) {
    super(`a retrain for user ${userId} is already queued or running`);
    this.name = "RetrainBusyError";
  }
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

/** A number as the training reports it: NaN and ±Infinity included (e.g. explained variance). */
const metricNumber = z.custom<number>((value) => typeof value === "number", "a number");

const retrainProgress: z.ZodType<RetrainProgress> = z.object({
  update: z.number(),
  updates: z.number(),
  steps: z.number(),
  totalSteps: z.number(),
  samplesPerSecond: metricNumber,
  meanReward: metricNumber,
  entropy: metricNumber,
  approxKl: metricNumber,
  clipFraction: metricNumber,
  policyLoss: metricNumber,
  valueLoss: metricNumber,
  explainedVariance: metricNumber,
  learningRate: metricNumber,
});

const evaluationSummary = z.object({
  meanReward: metricNumber,
  ci95: metricNumber,
  meanRewardLast90: metricNumber,
});

const retrainJobResult: z.ZodType<RetrainJobResult> = z.object({
  checkpoint: z.instanceof(Uint8Array),
  formatVersion: z.number().int(),
  spec: z.unknown(),
  hyperparameters: z.unknown(),
  training: z.unknown(),
  evaluation: z.object({
    episodes: z.number().int(),
    days: z.number().int(),
    seed: z.number(),
    candidate: evaluationSummary,
    heuristic: evaluationSummary,
    active: evaluationSummary.nullable(),
    activeNote: z.string().nullable(),
  }),
});

/** What ./retrain-worker.ts may post (checked before it is used). */
const retrainWorkerMessage: z.ZodType<RetrainWorkerMessage> = z.discriminatedUnion("type", [
  z.object({ type: z.literal("progress"), progress: retrainProgress }),
  z.object({ type: z.literal("done"), result: retrainJobResult }),
  z.object({ type: z.literal("error"), message: z.string() }),
]);

/** Runs the job in a single-use worker thread (./retrain-worker.ts). */
export const workerThreadRunner: RetrainRunner = (request, onProgress, signal) =>
  new Promise((resolve, reject) => {
    const worker = startWorkerThread(new URL("./retrain-worker.js", import.meta.url), {
      workerData: request,
      transferList: request.activeCheckpoint
        ? [request.activeCheckpoint.buffer as ArrayBuffer]
        : [],
      messages: retrainWorkerMessage,
      onMessage(message) {
        if (message.type === "progress") onProgress(message.progress);
        else if (message.type === "done") {
          const result = message.result;
          settle(() => resolve(result));
          // the worker is single-use; don't wait for tfjs to let its event loop drain
          void worker.terminate();
        } else {
          settle(() => reject(new Error(message.message)));
          void worker.terminate();
        }
      },
    });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      fn();
    };
    const onAbort = () => {
      void worker.terminate();
      settle(() => reject(new Error("training was stopped (shutdown)")));
    };
    signal.addEventListener("abort", onAbort);
    worker.on("error", (error) => settle(() => reject(error)));
    worker.on("exit", (code) =>
      settle(() => reject(new Error(`the training worker exited (code ${code}) without a result`))),
    );
  });

export interface RetrainStatus {
  running: { userId: number; runId: number | null; progress: RetrainProgress | null } | null;
  queued: number;
}

export interface RetrainService {
  /**
   * Queues a run; resolves when it has finished (or failed — failures resolve with status
   * "failed", they don't reject). Throws RetrainBusyError when that person is already queued.
   */
  enqueue(request: RetrainRequest): Promise<RetrainOutcome>;
  isBusy(userId: number): boolean;
  status(): RetrainStatus;
  /** Resolves when nothing is queued or running. */
  whenIdle(): Promise<void>;
  /** Stops the running worker, drops the queue (runs are recorded as cancelled). */
  shutdown(): Promise<void>;
}

/** What the retrain service needs: the database, the clock, the log and the training sizes. */
export interface RetrainServiceDeps {
  config: AppConfig;
  db: Database;
  log: Logger;
  now: () => Date;
}

export function createRetrainService(
  deps: RetrainServiceDeps,
  options: { runner?: RetrainRunner; defaults?: RetrainOptions } = {},
): RetrainService {
  const defaults = options.defaults ?? {};
  const sizes = (request: RetrainRequest) => ({
    steps: request.steps ?? defaults.steps ?? deps.config.retrainSteps,
    numEnvs: request.numEnvs ?? defaults.numEnvs ?? DEFAULT_NUM_ENVS,
    evalEpisodes: request.evalEpisodes ?? defaults.evalEpisodes ?? DEFAULT_EVAL_EPISODES,
    evalDays: request.evalDays ?? defaults.evalDays ?? DEFAULT_EVAL_DAYS,
  });
  const runner = options.runner ?? workerThreadRunner;
  const busy = new Set<number>();
  let chain: Promise<unknown> = Promise.resolve();
  let pending = 0;
  const inflight = new Set<Promise<RetrainOutcome>>();
  let running: RetrainStatus["running"] = null;
  const controller = new AbortController();
  const log = deps.log.child({ component: "retrain" });

  async function execute(request: RetrainRequest, runId: number): Promise<RetrainOutcome> {
    const { db } = deps;
    const started = deps.now();
    const person = await findPersonById(db, request.userId);
    const base = {
      runId,
      userId: request.userId,
      displayName: person?.displayName ?? `user ${request.userId}`,
    };
    const t0 = performance.now();
    const seconds = () => (performance.now() - t0) / 1000;
    if (person === null) {
      await finishRun(db, runId, {
        status: "cancelled",
        error: "the person was deleted",
        at: deps.now(),
      }).catch(() => {});
      return outcomeWithoutPolicy({
        ...base,
        status: "skipped",
        reason: "the person no longer exists",
        seconds: seconds(),
      });
    }
    if (controller.signal.aborted) {
      await finishRun(db, runId, { status: "cancelled", error: "shutdown", at: deps.now() });
      return outcomeWithoutPolicy({
        ...base,
        status: "skipped",
        reason: "the bot is shutting down",
        seconds: seconds(),
      });
    }
    const habits = (await listHabits(db, person.id)).map(habitSpecOf);
    if (habits.length === 0) {
      await finishRun(db, runId, {
        status: "cancelled",
        error: "no active habits",
        at: deps.now(),
      });
      return outcomeWithoutPolicy({
        ...base,
        status: "skipped",
        reason: "no active habits",
        seconds: seconds(),
      });
    }
    const active = await activePolicyModel(db, person.id);
    const size = sizes(request);
    // a history that cannot be read or fitted must not cost the night's retrain: default then
    const fitted = await behaviourFor(deps, person, habits).catch((error) => {
      log.warn({ err: error, runId, userId: person.id }, "behaviour fit failed; using default");
      const source: BehaviourSource = { source: "default", days: 0, daysWithPlan: 0, fit: null };
      return { behaviour: null, source };
    });
    const job: RetrainJobRequest = {
      habits,
      planCapacityMinutes: person.capacityMinutes,
      behaviour: fitted.behaviour,
      steps: size.steps,
      seed: runId,
      numEnvs: size.numEnvs,
      activeCheckpoint: active ? new Uint8Array(active.bytes) : null,
      evaluation: {
        episodes: size.evalEpisodes,
        days: size.evalDays,
        // common seed: the same simulated people for the new, active and heuristic planners
        seed: 1_000_003 + runId,
      },
    };
    await markRunStarted(db, runId, started, {
      ...size,
      behaviour: fitted.source.source,
      historyDays: fitted.source.days,
      historyDaysWithPlan: fitted.source.daysWithPlan,
    });
    running = { userId: person.id, runId, progress: null };
    request.onProgress?.({ kind: "started", runId });
    let metricWrites: Promise<unknown> = Promise.resolve();
    try {
      const result = await runner(
        job,
        (progress) => {
          if (running) running.progress = progress;
          metricWrites = metricWrites
            .then(() => recordTrainingMetrics(db, runId, progress.steps, metricRow(progress)))
            .catch((error) => log.warn({ err: error, runId }, "could not record training metrics"));
          request.onProgress?.({ kind: "progress", runId, progress });
        },
        controller.signal,
      );
      await metricWrites;
      const evaluation = result.evaluation;
      const activate = shouldActivate(evaluation);
      const model = await storePolicyModel(
        db,
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
      );
      const before = evaluation.active ?? evaluation.heuristic;
      const outcome: RetrainOutcome = {
        ...base,
        status: "succeeded",
        before: before.meanReward,
        beforeSource: evaluation.active ? "active policy" : "heuristic",
        after: evaluation.candidate.meanReward,
        heuristic: evaluation.heuristic.meanReward,
        activated: activate,
        modelId: model.id,
        behaviour: fitted.source,
        reason: evaluation.activeNote,
        seconds: seconds(),
      };
      await finishRun(db, runId, {
        status: "succeeded",
        summary: {
          ...outcome,
          training: result.training,
          evaluation,
          // the behaviour model itself, so a run can be replayed on the same persona
          fittedBehaviour: fitted.behaviour,
        },
        at: deps.now(),
      });
      log.info(
        {
          runId,
          userId: person.id,
          before: outcome.before,
          after: outcome.after,
          activate,
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
      const status = controller.signal.aborted ? "cancelled" : "failed";
      await finishRun(db, runId, { status, error: message, at: deps.now() }).catch(() => {});
      log.error({ err: error, runId, userId: person.id }, "retrain failed");
      return outcomeWithoutPolicy({
        ...base,
        status: "failed",
        reason: message,
        seconds: seconds(),
      });
    } finally {
      running = null;
    }
  }

  async function whenIdle(): Promise<void> {
    while (inflight.size > 0) await Promise.allSettled([...inflight]);
  }

  async function enqueueAndRun(request: RetrainRequest): Promise<RetrainOutcome> {
    try {
      const run = await createTrainingRun(deps.db, {
        userId: request.userId,
        trigger: request.trigger,
        requestedBy: request.requestedBy ?? null,
        // `behaviour` becomes "fitted" or "default" when the run starts (markRunStarted)
        hyperparameters: { ...sizes(request), behaviour: "pending" },
      });
      const result = chain.then(() => execute(request, run.id));
      chain = result.catch(() => {});
      return await result;
    } catch (error) {
      return outcomeWithoutPolicy({
        runId: null,
        userId: request.userId,
        displayName: `user ${request.userId}`,
        status: "failed",
        reason: error instanceof Error ? error.message : String(error),
        seconds: 0,
      });
    } finally {
      busy.delete(request.userId);
      pending--;
    }
  }

  return {
    enqueue(request) {
      if (busy.has(request.userId)) return Promise.reject(new RetrainBusyError(request.userId));
      if (controller.signal.aborted) {
        return Promise.reject(new Error("the retrain service is shut down"));
      }
      busy.add(request.userId);
      pending++;
      const promise = enqueueAndRun(request);
      inflight.add(promise);
      void promise.finally(() => inflight.delete(promise));
      return promise;
    },
    isBusy: (userId) => busy.has(userId),
    status: () => ({ running, queued: Math.max(0, pending - (running ? 1 : 0)) }),
    whenIdle,
    async shutdown() {
      controller.abort();
      await whenIdle();
    },
  };
}
