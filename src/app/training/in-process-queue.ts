// The training queue inside one process, for embedded PGlite (one instance, no network): the
// same TrainingQueue as pg-boss's, `work(concurrency)` trainings at a time (each in its own
// worker thread; COACHRL_WORKERS in the bot, one by default), admin requests first, retries with
// backoff, a time limit per job, the nightly schedule by node-schedule. The queue lives in the TrainingRun rows: after a restart the runs still queued
// are worked (nothing of a night is lost).
import { hostname } from "node:os";
import schedule from "node-schedule";
import { cancelRun, queuedRuns } from "../../db/training-queue.js";
import { enqueueNightly } from "./nightly.js";
import {
  enqueueRun,
  PRIORITY,
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

interface Pending {
  runId: number;
  priority: number;
}

export interface InProcessQueue extends TrainingQueue {
  /** Resolves when nothing is queued or running (tests). */
  whenIdle(): Promise<void>;
}

export function createInProcessQueue(
  deps: TrainingQueueDeps,
  options: { runner?: RetrainRunner; instance?: string } = {},
): InProcessQueue {
  const instance = options.instance ?? `${hostname()}:${process.pid}`;
  const log = deps.log.child({ component: "training-queue", instance });
  const pending: Pending[] = [];
  const jobs: schedule.Job[] = [];
  let working = false;
  let stopped = false;
  /** trainings at a time (work's concurrency) */
  let slots = 1;
  /** the jobs being worked: their aborts, and the promises stop() waits for */
  const running = new Map<number, { controller: AbortController; done: Promise<void> }>();
  let idle: (() => void)[] = [];

  const delay = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    });

  async function workOne(runId: number, controller: AbortController): Promise<void> {
    const unwatch = watchCancellation(deps.db, runId, controller);
    try {
      for (let retry = 0; retry <= RETRAIN_RETRY_LIMIT; retry++) {
        const limit = setTimeout(
          () => controller.abort("timeout"),
          deps.config.retrainJobTimeoutSeconds * 1000,
        );
        try {
          await runRetrainJob(
            deps,
            runId,
            { retry, retryLimit: RETRAIN_RETRY_LIMIT },
            { runner: options.runner, signal: controller.signal, instance },
          );
          return;
        } catch (error) {
          if (!(error instanceof RetrainAttemptFailed) || stopped) return;
          await delay(deps.config.retrainRetryDelaySeconds * 1000 * 2 ** retry, controller.signal);
          if (stopped) return;
        } finally {
          clearTimeout(limit);
        }
        if (controller.signal.aborted) return;
      }
    } catch (error) {
      log.error({ err: error, runId }, "retrain job failed");
    } finally {
      unwatch();
    }
  }

  /** Starts queued jobs while a slot is free; wakes whenIdle() once nothing is left. */
  function kick(): void {
    while (working && !stopped && running.size < slots && pending.length > 0) {
      const { runId } = pending.shift()!;
      const controller = new AbortController();
      const done = workOne(runId, controller).finally(() => {
        running.delete(runId);
        kick();
      });
      running.set(runId, { controller, done });
    }
    if (running.size === 0 && (pending.length === 0 || stopped)) {
      for (const resolve of idle) resolve();
      idle = [];
    }
  }

  function add(item: Pending): void {
    if (pending.some((p) => p.runId === item.runId)) return;
    const at = pending.findIndex((p) => p.priority < item.priority);
    if (at === -1) pending.push(item);
    else pending.splice(at, 0, item);
  }

  const queue: InProcessQueue = {
    kind: "in-process",
    async enqueue(order: RetrainOrder) {
      if (stopped) throw new Error("the training queue is stopped");
      return enqueueRun(deps, order, async (runId) => {
        add({ runId, priority: PRIORITY[order.trigger] });
        kick();
        return true;
      });
    },
    async cancel(runId) {
      const index = pending.findIndex((p) => p.runId === runId);
      if (index !== -1) pending.splice(index, 1);
      const cancelled = await cancelRun(deps.db, runId, "cancelled", deps.now());
      running.get(runId)?.controller.abort("cancelled");
      return cancelled;
    },
    async work(concurrency) {
      if (working) return;
      working = true;
      slots = Math.max(1, Math.floor(concurrency));
      // runs queued before a restart (or by another process on the same data directory)
      for (const run of await queuedRuns(deps.db)) {
        add({ runId: run.id, priority: PRIORITY[run.trigger] });
      }
      kick();
    },
    async scheduleNightly(cron) {
      if (cron === "off") return;
      const job = schedule.scheduleJob({ rule: cron, tz: "Etc/UTC" }, (fireDate: Date) => {
        enqueueNightly(deps, queue, fireDate, instance).catch((error) =>
          log.error({ err: error }, "nightly retrain could not be queued"),
        );
      });
      if (job === null)
        throw new Error(`RETRAIN_CRON "${cron}" is not a schedule node-schedule understands`);
      jobs.push(job);
    },
    whenIdle() {
      if (running.size === 0 && (pending.length === 0 || !working)) return Promise.resolve();
      return new Promise((resolve) => idle.push(resolve));
    },
    async stop() {
      stopped = true;
      for (const job of jobs) job.cancel();
      const inProgress = [...running.values()];
      for (const job of inProgress) job.controller.abort("shutdown");
      await Promise.all(inProgress.map((job) => job.done));
    },
  };
  return queue;
}
