// The worker threads that run retrains (./retrain-worker.ts), kept for the next job: a thread's
// start — loading the RL engine and TensorFlow.js's WASM backend, and from sources compiling
// them with tsx — cost about as much CPU as a 32,768-step training of five habits, so starting
// one per job doubled a night's CPU. A pool keeps a thread for the next job while it is idle for
// less than a minute, and retires it after JOBS_PER_THREAD jobs (whatever a long-lived
// TensorFlow.js heap keeps is bounded), after a failure, or when its job is stopped (it is
// terminated mid-training). One job per thread at a time; as many threads as jobs run at once
// (the queue's concurrency bounds them). Results do not depend on the thread: every job is
// seeded, and the thread reports the tensors it leaves alive after each job.
import { z } from "zod";
import { startWorkerThread } from "../worker-thread.js";
import type { RetrainJobResult, RetrainProgress, RetrainRunner } from "./retrain-job.js";
import type { RetrainWorkerJob, RetrainWorkerMessage } from "./retrain-worker.js";

/** Jobs a thread runs before it is retired. */
export const JOBS_PER_THREAD = 100;
/** An idle thread is ended after this long without a job. */
export const THREAD_IDLE_MS = 60_000;

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

const pairedComparisonSchema = z.object({ difference: metricNumber, noise: metricNumber });

const evaluationSummary = z.object({
  meanReward: metricNumber,
  ci95: metricNumber,
  meanRewardLast90: metricNumber,
});

const retrainJobResult: z.ZodType<RetrainJobResult> = z.object({
  checkpoint: z.instanceof(Uint8Array),
  cost: z
    .object({
      cpuSeconds: z.number(),
      trainingCpuSeconds: z.number(),
      clock: z.enum(["thread-cpu", "event-loop-busy"]),
      steps: z.number(),
      stoppedBy: z.enum(["steps", "cpu-budget"]),
      startedFrom: z.string().optional(),
    })
    .optional(),
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
    capacityAware: evaluationSummary.extend({ k: z.number() }).optional(),
    active: evaluationSummary.nullable(),
    activeNote: z.string().nullable(),
    versus: z
      .object({
        heuristic: pairedComparisonSchema.extend({
          heuristic: z.enum(["heuristic", "capacity-aware"]),
        }),
        active: pairedComparisonSchema.nullable(),
        activeVsHeuristic: pairedComparisonSchema.nullable(),
      })
      .optional(),
  }),
});

/** What ./retrain-worker.ts may post (checked before it is used). */
const retrainWorkerMessage: z.ZodType<RetrainWorkerMessage> = z.discriminatedUnion("type", [
  z.object({ type: z.literal("progress"), progress: retrainProgress }),
  z.object({
    type: z.literal("done"),
    result: retrainJobResult,
    tensors: z.number().int().nonnegative(),
  }),
  z.object({ type: z.literal("error"), message: z.string() }),
]);

interface PooledThread {
  worker: ReturnType<typeof startWorkerThread<RetrainWorkerMessage>>;
  jobs: number;
  /** the job it runs now: where its messages go, and what ends it when the thread is lost */
  current: ((message: RetrainWorkerMessage) => void) | null;
  lost: ((error: Error) => void) | null;
  idleTimer: NodeJS.Timeout | null;
}

export interface RetrainThreadPoolStats {
  /** threads started since the pool was made */
  started: number;
  /** threads waiting for a job now */
  idle: number;
  /** tensors alive in the thread after its latest job: cached constants, the same after every
   * job unless one leaks */
  tensorsAfterLastJob: number | null;
}

/** Worker threads for retrains, reused across jobs (see the top of this file). */
export class RetrainThreadPool {
  private readonly idle: PooledThread[] = [];
  private started = 0;
  private tensorsAfterLastJob: number | null = null;

  constructor(private readonly options: { jobsPerThread?: number; idleMs?: number } = {}) {}

  /** Runs one job on an idle thread or a new one; rejects on failure or abort. */
  readonly run: RetrainRunner = (request, onProgress, signal) =>
    new Promise<RetrainJobResult>((resolve, reject) => {
      if (signal.aborted) {
        reject(new Error("training was stopped (shutdown)"));
        return;
      }
      const thread = this.take();
      let settled = false;
      const settle = (fn: () => void, keep: boolean) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        thread.current = null;
        thread.lost = null;
        if (keep) this.giveBack(thread);
        else void this.end(thread);
        fn();
      };
      const onAbort = () =>
        settle(() => reject(new Error("training was stopped (shutdown)")), false);
      signal.addEventListener("abort", onAbort);
      thread.current = (message) => {
        if (message.type === "progress") onProgress(message.progress);
        else if (message.type === "done") {
          this.tensorsAfterLastJob = message.tensors;
          settle(() => resolve(message.result), true);
        } else settle(() => reject(new Error(message.message)), false);
      };
      thread.lost = (error) => settle(() => reject(error), false);
      // both checkpoints are copies made for this job (never one buffer twice)
      thread.worker.postMessage(
        { type: "job", request } satisfies RetrainWorkerJob,
        [request.activeCheckpoint, request.initialPolicy]
          .filter((bytes): bytes is Uint8Array => bytes != null)
          .map((bytes) => bytes.buffer as ArrayBuffer),
      );
    });

  stats(): RetrainThreadPoolStats {
    return {
      started: this.started,
      idle: this.idle.length,
      tensorsAfterLastJob: this.tensorsAfterLastJob,
    };
  }

  /** Ends the idle threads (running jobs end theirs when they finish or are stopped). */
  async close(): Promise<void> {
    const idle = this.idle.splice(0);
    await Promise.all(idle.map((thread) => this.end(thread)));
  }

  private take(): PooledThread {
    const reused = this.idle.pop();
    if (reused) {
      if (reused.idleTimer) clearTimeout(reused.idleTimer);
      reused.idleTimer = null;
      reused.worker.ref();
      reused.jobs++;
      return reused;
    }
    this.started++;
    const thread: PooledThread = {
      worker: startWorkerThread(new URL("./retrain-worker.js", import.meta.url), {
        messages: retrainWorkerMessage,
        onMessage: (message) => thread.current?.(message),
      }),
      jobs: 1,
      current: null,
      lost: null,
      idleTimer: null,
    };
    // a thread lost while it works fails its job; one lost while idle is only forgotten
    const lost = (error: Error) => {
      this.forget(thread);
      if (thread.idleTimer) clearTimeout(thread.idleTimer);
      thread.lost?.(error);
    };
    thread.worker.on("error", lost);
    thread.worker.on("exit", (code) =>
      lost(new Error(`the training worker exited (code ${code}) without a result`)),
    );
    return thread;
  }

  private giveBack(thread: PooledThread): void {
    if (thread.jobs >= (this.options.jobsPerThread ?? JOBS_PER_THREAD)) {
      void this.end(thread);
      return;
    }
    // an idle thread neither keeps the process alive nor stays for ever
    thread.worker.unref();
    thread.idleTimer = setTimeout(() => {
      this.forget(thread);
      void this.end(thread);
    }, this.options.idleMs ?? THREAD_IDLE_MS);
    thread.idleTimer.unref();
    this.idle.push(thread);
  }

  private forget(thread: PooledThread): void {
    const at = this.idle.indexOf(thread);
    if (at !== -1) this.idle.splice(at, 1);
  }

  private async end(thread: PooledThread): Promise<void> {
    if (thread.idleTimer) clearTimeout(thread.idleTimer);
    // don't wait for TensorFlow.js to let the thread's event loop drain
    await thread.worker.terminate();
  }
}

/** The process's retrain threads (the queue, the closed loop and the benchmarks share them). */
export const retrainThreads = new RetrainThreadPool();

/** Runs the job in a worker thread of the process's pool (./retrain-worker.ts). */
export const workerThreadRunner: RetrainRunner = retrainThreads.run;
