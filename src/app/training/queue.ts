// The training queue: one `retrain` job per person and key, worked by any process that runs a
// queue (the bot, `coachrl worker`), and the nightly schedule that fills it. Two
// implementations of one interface, chosen by the composition root: pg-boss on Postgres
// (./pg-boss-queue.ts: jobs shared by all instances and workers, retries, cron once across
// instances) and an in-process one for embedded PGlite (./in-process-queue.ts: serial,
// node-schedule). Either way every job is a TrainingRun row created when it is queued (unique
// job key), so /status, /retrain's progress and the CLI read the queue from the database.
import { randomUUID } from "node:crypto";
import type { AppConfig } from "../../config.js";
import type { Database } from "../../db/client.js";
import { findPersonById } from "../../db/operations.js";
import { finishRun } from "../../db/training.js";
import {
  createKeyedTrainingRun,
  latestRunMetrics,
  runQueueCounts,
  runStatus,
  trainingRunById,
} from "../../db/training-queue.js";
import type { Logger } from "../../logger.js";
import {
  type RetrainOrder,
  type RetrainOutcome,
  recordedOutcome,
  retrainSizes,
} from "./retrain.js";
import type { RetrainProgress } from "./retrain-job.js";

/** The queue's name in pg-boss, and the job every retrain is. */
export const RETRAIN_QUEUE = "retrain";
/** Retries of a failed retrain job before its run is recorded as failed. */
export const RETRAIN_RETRY_LIMIT = 2;
/** Job priority: an admin's request goes before the night's jobs. */
export const PRIORITY = { admin: 10, cli: 10, nightly: 0 } as const;

export type Enqueued =
  | { kind: "queued"; runId: number; key: string }
  /** the key already has a run (queued, running or ended): nothing new was queued */
  | { kind: "duplicate"; runId: number; key: string; status: string };

export interface QueueCounts {
  waiting: number;
  active: number;
  /** runs that failed after their retries in the last 24 hours */
  failed: number;
  /** seconds the oldest waiting job has waited, null when none waits */
  oldestWaitingSeconds: number | null;
  /** jobs that ended trained (succeeded or failed) per minute over the last 15 minutes */
  finishedPerMinute: number;
  /** jobs that ended trained in the last hour per worker instance (host:pid), most first */
  finishedByWorker: { worker: string; runs: number }[];
}

export interface TrainingQueue {
  readonly kind: "pg-boss" | "in-process";
  /** Queues a retrain (its TrainingRun is created as queued); a used key queues nothing. */
  enqueue(order: RetrainOrder): Promise<Enqueued>;
  /** Cancels a queued or running retrain; false when it had already ended. */
  cancel(runId: number): Promise<boolean>;
  /** Starts working jobs in this process, `concurrency` trainings (worker threads) at a time. */
  work(concurrency: number): Promise<void>;
  /**
   * Registers the nightly retrain (cron in UTC): it fires once across all instances. "off"
   * removes it (pg-boss keeps a schedule in the database until then).
   */
  scheduleNightly(cron: string): Promise<void>;
  /** Stops taking jobs; trainings in progress are released to be retried by another worker. */
  stop(): Promise<void>;
}

export interface TrainingQueueDeps {
  config: AppConfig;
  db: Database;
  log: Logger;
  now: () => Date;
}

/**
 * The shared half of `enqueue`: creates the key's run, then hands it to `send` (which puts the
 * job in the queue); a run whose job could not be queued is recorded as cancelled.
 */
export async function enqueueRun(
  deps: TrainingQueueDeps,
  order: RetrainOrder,
  send: (runId: number, key: string) => Promise<boolean>,
): Promise<Enqueued> {
  const key = order.key ?? `${order.trigger}:${randomUUID()}`;
  const { created, run } = await createKeyedTrainingRun(deps.db, {
    userId: order.userId,
    trigger: order.trigger,
    requestedBy: order.requestedBy ?? null,
    jobKey: key,
    // `behaviour` becomes "fitted" or "default" when the run starts
    hyperparameters: { ...retrainSizes(deps.config, order), behaviour: "pending" },
  });
  if (!created) return { kind: "duplicate", runId: run.id, key, status: run.status };
  let sent: boolean;
  try {
    sent = await send(run.id, key);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await finishRun(deps.db, run.id, {
      status: "cancelled",
      error: `could not be queued: ${message}`,
      at: deps.now(),
    }).catch(() => {});
    throw error;
  }
  if (!sent) {
    await finishRun(deps.db, run.id, {
      status: "cancelled",
      error: "a job with this key is already queued",
      at: deps.now(),
    });
    return { kind: "duplicate", runId: run.id, key, status: "cancelled" };
  }
  return { kind: "queued", runId: run.id, key };
}

/** The queue's numbers, from the training runs (the same for both implementations). */
export async function queueCounts(
  deps: Pick<TrainingQueueDeps, "db" | "now">,
): Promise<QueueCounts> {
  const now = deps.now();
  const counts = await runQueueCounts(deps.db, now);
  return {
    waiting: counts.waiting,
    active: counts.active,
    failed: counts.failed,
    finishedPerMinute: counts.finishedPerMinute,
    finishedByWorker: counts.finishedByWorker,
    oldestWaitingSeconds:
      counts.oldestWaitingCreatedAt === null
        ? null
        : Math.max(0, (now.getTime() - counts.oldestWaitingCreatedAt.getTime()) / 1000),
  };
}

/** What a waiting caller hears about a run: it started, and its latest training step. */
export type RunEvent =
  | { kind: "waiting" }
  | { kind: "started" }
  | { kind: "progress"; progress: RetrainProgress };

/**
 * Waits for a queued run to end, wherever it is worked, by polling its row and latest metrics;
 * resolves with its outcome. `onEvent` hears when it starts and each new training step.
 */
export async function waitForRun(
  deps: Pick<TrainingQueueDeps, "db">,
  runId: number,
  options: {
    onEvent?: (event: RunEvent) => void;
    pollMs?: number;
    /** gives up (rejects) after this long */
    timeoutMs?: number;
  } = {},
): Promise<RetrainOutcome> {
  const pollMs = options.pollMs ?? 1000;
  const deadline = Date.now() + (options.timeoutMs ?? Number.POSITIVE_INFINITY);
  let lastStatus: string | null = null;
  let lastStep = -1;
  for (;;) {
    const run = await trainingRunById(deps.db, runId);
    if (run === null) throw new Error(`training run #${runId} no longer exists`);
    const person = run.userId === null ? null : await findPersonById(deps.db, run.userId);
    const outcome = recordedOutcome(run, person?.displayName ?? `user ${run.userId}`);
    if (outcome !== null) return outcome;
    if (run.status !== lastStatus) {
      lastStatus = run.status;
      options.onEvent?.({ kind: run.status === "running" ? "started" : "waiting" });
    }
    if (run.status === "running" && options.onEvent) {
      const latest = await latestRunMetrics(deps.db, runId);
      if (latest !== null && latest.step !== lastStep) {
        lastStep = latest.step;
        options.onEvent({ kind: "progress", progress: progressOf(run.hyperparameters, latest) });
      }
    }
    if (Date.now() > deadline) throw new Error(`training run #${runId} did not finish in time`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** A progress report rebuilt from a run's stored metrics (the names metricRow writes). */
function progressOf(
  hyperparameters: unknown,
  latest: { step: number; metrics: Record<string, number> },
): RetrainProgress {
  const m = (name: string) => latest.metrics[name] ?? Number.NaN;
  const totalSteps = (hyperparameters as { steps?: number } | null)?.steps ?? latest.step;
  return {
    update: 0,
    updates: 0,
    steps: latest.step,
    totalSteps,
    samplesPerSecond: m("samples_per_second"),
    meanReward: m("mean_reward"),
    entropy: m("entropy"),
    approxKl: m("approx_kl"),
    clipFraction: m("clip_fraction"),
    policyLoss: m("policy_loss"),
    valueLoss: m("value_loss"),
    explainedVariance: m("explained_variance"),
    learningRate: m("learning_rate"),
  };
}

/** Aborts `controller` ("cancelled") when the run is cancelled from elsewhere; returns the stop. */
export function watchCancellation(
  db: Database,
  runId: number,
  controller: AbortController,
  everyMs = 3000,
): () => void {
  const timer = setInterval(() => {
    runStatus(db, runId)
      .then((status) => {
        if (status === "cancelled" || status === null) controller.abort("cancelled");
      })
      .catch(() => {});
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
