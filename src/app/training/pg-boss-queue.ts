// The training queue on Postgres with pg-boss (its own schema, `pgboss`, in the app's database):
// every instance and every `coachrl worker` shares the `retrain` jobs. A job carries its run id;
// the run's unique job key is the de-duplication (a person's night is queued once). Admin
// requests have priority over the night's jobs; a failed job is retried twice with backoff, then
// its run is recorded as failed; a job has a time limit (expireIn: a worker that died mid-job
// leaves the job to expire, and another worker retries it); the nightly schedule is a pg-boss
// cron, fired once across instances.
import { hostname } from "node:os";
import PgBoss from "pg-boss";
import { cancelRun } from "../../db/training-queue.js";
import { enqueueNightly, NIGHTLY_RETRAIN_JOB } from "./nightly.js";
import {
  enqueueRun,
  PRIORITY,
  RETRAIN_QUEUE,
  RETRAIN_RETRY_LIMIT,
  type TrainingQueue,
  type TrainingQueueDeps,
  watchCancellation,
} from "./queue.js";
import {
  RetrainAttemptFailed,
  type RetrainOrder,
  type RetrainRunner,
  runRetrainJob,
} from "./retrain.js";

/** pg-boss's schema in the app's database. */
export const PG_BOSS_SCHEMA = "pgboss";

interface RetrainJobData {
  runId: number;
}

export interface PgBossQueueOptions {
  /** the Postgres connection string (DATABASE_URL) */
  url: string;
  runner?: RetrainRunner;
  instance?: string;
  /** how often an idle worker looks for jobs (default 2 s) */
  pollingIntervalSeconds?: number;
  /** how often expired jobs are detected and retried (default: a tenth of the time limit, ≤ 60 s) */
  maintenanceIntervalSeconds?: number;
}

export async function createPgBossQueue(
  deps: TrainingQueueDeps,
  options: PgBossQueueOptions,
): Promise<TrainingQueue> {
  const instance = options.instance ?? `${hostname()}:${process.pid}`;
  const log = deps.log.child({ component: "training-queue", instance });
  const boss = new PgBoss({
    connectionString: options.url,
    schema: PG_BOSS_SCHEMA,
    application_name: `coachrl-queue ${instance}`,
    max: 4,
    // expired jobs (a worker died mid-job) are found within a tenth of the time limit
    maintenanceIntervalSeconds:
      options.maintenanceIntervalSeconds ??
      Math.min(60, Math.max(1, Math.round(deps.config.retrainJobTimeoutSeconds / 10))),
    // the cron is checked often enough to fire within seconds of its minute
    cronMonitorIntervalSeconds: 10,
    cronWorkerIntervalSeconds: 2,
  });
  boss.on("error", (error) => log.error({ err: error }, "pg-boss error"));
  await boss.start();
  const expireInSeconds = deps.config.retrainJobTimeoutSeconds;
  const retry = {
    retryLimit: RETRAIN_RETRY_LIMIT,
    retryDelay: deps.config.retrainRetryDelaySeconds,
    retryBackoff: true,
  };
  // Instances starting at the same moment create the same queues: Postgres may pick one of the
  // creating transactions as a deadlock victim (40P01). Creating a queue is idempotent, so the
  // victim simply tries again.
  const createQueue = async (name: string, queueOptions: PgBoss.Queue) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await boss.createQueue(name, queueOptions);
        return;
      } catch (error) {
        if ((error as { code?: unknown }).code !== "40P01" || attempt >= 5) throw error;
        log.info(
          { queue: name, attempt },
          "queue creation deadlocked with another instance; retrying",
        );
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200 * attempt));
      }
    }
  };
  // one active job per key ("singleton"): a job and its retry never train side by side
  await createQueue(RETRAIN_QUEUE, {
    name: RETRAIN_QUEUE,
    policy: "singleton",
    ...retry,
    expireInSeconds,
  });
  await createQueue(NIGHTLY_RETRAIN_JOB, {
    name: NIGHTLY_RETRAIN_JOB,
    policy: "standard",
    ...retry,
  });
  const active = new Map<number, AbortController>();
  let stopping = false;

  async function handle([job]: PgBoss.JobWithMetadata<RetrainJobData>[]): Promise<unknown> {
    const { runId } = job.data;
    const controller = new AbortController();
    active.set(runId, controller);
    const unwatch = watchCancellation(deps.db, runId, controller);
    // stop a second before pg-boss gives up on the job, so the worker thread ends with it
    const limit = setTimeout(
      () => controller.abort("timeout"),
      Math.max(1, job.expireInSeconds - 1) * 1000,
    );
    try {
      if (stopping) {
        throw new RetrainAttemptFailed("released: the worker shut down");
      }
      const outcome = await runRetrainJob(
        deps,
        runId,
        { retry: job.retryCount, retryLimit: job.retryLimit },
        { runner: options.runner, signal: controller.signal, instance },
      );
      return { runId, status: outcome?.status ?? "gone", instance };
    } finally {
      clearTimeout(limit);
      unwatch();
      active.delete(runId);
    }
  }

  const queue: TrainingQueue = {
    kind: "pg-boss",
    enqueue(order: RetrainOrder) {
      return enqueueRun(deps, order, async (runId, key) => {
        const id = await boss.send(RETRAIN_QUEUE, { runId } satisfies RetrainJobData, {
          singletonKey: key,
          priority: PRIORITY[order.trigger],
          ...retry,
          expireInSeconds,
        });
        return id !== null;
      });
    },
    async cancel(runId) {
      const cancelled = await cancelRun(deps.db, runId, "cancelled", deps.now());
      const { rows } = await boss
        .getDb()
        .executeSql(
          `SELECT id FROM ${PG_BOSS_SCHEMA}.job WHERE name = $1 AND (data->>'runId')::int = $2 AND state < 'completed'`,
          [RETRAIN_QUEUE, runId],
        );
      if (rows.length > 0)
        await boss.cancel(
          RETRAIN_QUEUE,
          rows.map((r: { id: string }) => r.id),
        );
      // a worker training it notices the cancelled run within seconds (watchCancellation)
      active.get(runId)?.abort("cancelled");
      return cancelled;
    },
    async work(concurrency) {
      for (let i = 0; i < concurrency; i++) {
        await boss.work<RetrainJobData>(
          RETRAIN_QUEUE,
          {
            batchSize: 1,
            includeMetadata: true,
            pollingIntervalSeconds: options.pollingIntervalSeconds ?? 2,
          },
          handle,
        );
      }
      log.info({ concurrency }, "working retrain jobs");
    },
    async scheduleNightly(cron) {
      if (cron === "off") {
        await boss.unschedule(NIGHTLY_RETRAIN_JOB);
        return;
      }
      await boss.schedule(NIGHTLY_RETRAIN_JOB, cron, {}, { tz: "UTC" });
      await boss.work(
        NIGHTLY_RETRAIN_JOB,
        { includeMetadata: true, batchSize: 1 },
        async (jobs) => {
          for (const job of jobs) {
            // the cron's job is created in the minute it fires: that minute is the night's key
            await enqueueNightly(deps, queue, job.createdOn, instance);
          }
        },
      );
    },
    async stop() {
      stopping = true;
      await boss.offWork(RETRAIN_QUEUE);
      // trainings in progress stop now and are failed back to the queue for another worker
      for (const controller of active.values()) controller.abort("shutdown");
      await boss.stop({ graceful: true, timeout: 10_000, wait: true });
    },
  };
  return queue;
}
