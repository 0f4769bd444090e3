// The training queue on Postgres with pg-boss (its own schema, `pgboss`, in the app's database):
// every instance and every `coachrl worker` shares the `retrain` jobs. A job carries its run id;
// the run's unique job key is the de-duplication (a person's night is queued once). Admin
// requests have priority over the night's jobs; a failed job is retried twice with backoff, then
// its run is recorded as failed; a job has a time limit (expireIn: a worker that died mid-job
// leaves the job to expire, and another worker retries it); a worker that shuts down hands its
// trainings back as new jobs (a deploy uses up no retry); every worker checks now and then that
// each open run has a job (a process that died between the run and its job strands nothing); the
// nightly schedule is a pg-boss cron, fired once across instances.
import { hostname } from "node:os";
import PgBoss from "pg-boss";
import { finishRun } from "../../db/training.js";
import { cancelRun, openRunsCreatedBefore } from "../../db/training-queue.js";
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
  /** earlier jobs of this run that workers handed back when they shut down */
  handedBack?: number;
}

/** Open runs checked for a job per pass (the oldest first; the next pass takes the rest). */
const STRANDED_CHECK_BATCH = 1000;

export interface PgBossQueueOptions {
  /** the Postgres connection string (DATABASE_URL) */
  url: string;
  runner?: RetrainRunner;
  instance?: string;
  /** how often an idle worker looks for jobs (default 2 s) */
  pollingIntervalSeconds?: number;
  /** how often expired jobs are detected and retried (default: a tenth of the time limit, ≤ 60 s) */
  maintenanceIntervalSeconds?: number;
  /**
   * How often a working queue checks that every open run has a job (default 60 s), and how old
   * a run must be to count as stranded without one (default 60 s: enqueue sends the job right
   * after creating the run).
   */
  strandedRunCheckSeconds?: number;
  strandedRunGraceSeconds?: number;
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
  let strandedCheck: NodeJS.Timeout | null = null;

  /** Puts a job of the run in the queue (its key and priority: one job per key is worked). */
  const sendJob = (data: RetrainJobData, key: string, priority: number, startAfter?: number) =>
    boss.send(RETRAIN_QUEUE, data, {
      singletonKey: key,
      priority,
      ...retry,
      expireInSeconds,
      ...(startAfter === undefined ? {} : { startAfter }),
    });

  /**
   * The worker shuts down: the run (already queued again by runRetrainJob) gets a new job with
   * the retries intact, and this one completes. Only if that job cannot be sent does this one
   * fail, so that pg-boss retries it.
   */
  async function handBack(job: PgBoss.JobWithMetadata<RetrainJobData>): Promise<unknown> {
    const handedBack = (job.data.handedBack ?? 0) + 1;
    await sendJob(
      { runId: job.data.runId, handedBack },
      job.singletonKey ?? `run:${job.data.runId}`,
      job.priority,
      // after this job has completed: the key's next job cannot start while this one is active
      Math.max(1, deps.config.retrainRetryDelaySeconds),
    );
    log.info({ runId: job.data.runId, handedBack }, "retrain handed back to the queue (shutdown)");
    return { runId: job.data.runId, status: "handed back", instance };
  }

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
      if (stopping) return await handBack(job);
      const outcome = await runRetrainJob(
        deps,
        runId,
        { retry: job.retryCount, retryLimit: job.retryLimit, handedBack: job.data.handedBack },
        { runner: options.runner, signal: controller.signal, instance },
      );
      return { runId, status: outcome?.status ?? "gone", instance };
    } catch (error) {
      if (error instanceof RetrainAttemptFailed && controller.signal.reason === "shutdown") {
        return await handBack(job);
      }
      throw error;
    } finally {
      clearTimeout(limit);
      unwatch();
      active.delete(runId);
    }
  }

  /**
   * Open runs older than the grace period without a job waiting or working in pg-boss: a run
   * whose job was never sent (the process died between the two) gets one; a run whose job pg-boss
   * gave up on (it failed with its retries used up: e.g. the worker died on every attempt, so no
   * attempt could record the failure) is recorded as failed. Several instances may check at
   * once: a second job of one run finds the run ended and trains nothing.
   */
  async function sendStrandedRuns(): Promise<void> {
    const graceSeconds = options.strandedRunGraceSeconds ?? 60;
    const open = await openRunsCreatedBefore(
      deps.db,
      new Date(deps.now().getTime() - graceSeconds * 1000),
      STRANDED_CHECK_BATCH,
    );
    if (open.length === 0) return;
    const { rows } = await boss.getDb().executeSql(
      `SELECT (data->>'runId')::int AS "runId", state FROM ${PG_BOSS_SCHEMA}.job
         WHERE name = $1 AND (data->>'runId')::int = ANY($2::int[])
       UNION ALL
       SELECT (data->>'runId')::int AS "runId", state FROM ${PG_BOSS_SCHEMA}.archive
         WHERE name = $1 AND (data->>'runId')::int = ANY($2::int[])`,
      [RETRAIN_QUEUE, open.map((run) => run.id)],
    );
    const states = new Map<number, string[]>();
    for (const row of rows as { runId: number; state: string }[]) {
      states.set(row.runId, [...(states.get(row.runId) ?? []), row.state]);
    }
    for (const run of open) {
      const jobs = states.get(run.id) ?? [];
      if (jobs.some((state) => state === "created" || state === "retry" || state === "active")) {
        continue;
      }
      if (jobs.includes("failed")) {
        await finishRun(deps.db, run.id, {
          status: "failed",
          error: `the training queue gave up on its job after ${RETRAIN_RETRY_LIMIT + 1} attempts (no attempt could record an error: a worker that died or hung)`,
          at: deps.now(),
        });
        log.warn({ runId: run.id }, "run failed: the queue gave up on its job");
        continue;
      }
      await sendJob({ runId: run.id }, run.jobKey!, PRIORITY[run.trigger]);
      log.warn({ runId: run.id, jobs }, "run without a job in the queue: queued again");
    }
  }

  const queue: TrainingQueue = {
    kind: "pg-boss",
    enqueue(order: RetrainOrder) {
      return enqueueRun(deps, order, async (runId, key) => {
        const id = await sendJob({ runId }, key, PRIORITY[order.trigger]);
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
      // a failed check is logged and tried again at the next one: it never stops the worker
      const checkStrandedRuns = () =>
        sendStrandedRuns().catch((error) =>
          log.warn({ err: error }, "could not check the queue for stranded runs"),
        );
      await checkStrandedRuns();
      strandedCheck ??= setInterval(
        () => void checkStrandedRuns(),
        (options.strandedRunCheckSeconds ?? 60) * 1000,
      );
      strandedCheck.unref();
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
      if (strandedCheck !== null) clearInterval(strandedCheck);
      await boss.offWork(RETRAIN_QUEUE);
      // trainings in progress stop now and are failed back to the queue for another worker
      for (const controller of active.values()) controller.abort("shutdown");
      await boss.stop({ graceful: true, timeout: 10_000, wait: true });
    },
  };
  return queue;
}
