/**
 * Where charts are rendered. The bot process uses one worker thread (`workerChartRenderer`) so
 * that drawing someone's /stats never delays anyone else's reply; tests and tools may render
 * in-process (`inlineChartRenderer`). Both produce the same bytes.
 */
import type { Worker } from "node:worker_threads";
import { z } from "zod";
import { PendingReplies, startWorkerThread } from "../worker-thread.js";
import {
  type MetricChartInput,
  renderMetricChart,
  renderStatsChart,
  renderTrainingCurvesChart,
  type StatsChartInput,
  type TrainingCurvesInput,
} from "./charts.js";
import type { ChartJob, ChartReply } from "./worker.js";

/** What the chart worker may answer (checked before the answer is used). */
const chartReply: z.ZodType<ChartReply> = z.discriminatedUnion("ok", [
  z.object({
    id: z.number().int(),
    ok: z.literal(true),
    png: z.custom<Uint8Array>((value) => value instanceof Uint8Array, "PNG bytes"),
    threadId: z.number().int(),
  }),
  z.object({ id: z.number().int(), ok: z.literal(false), message: z.string() }),
]);

export interface ChartRenderer {
  stats(input: StatsChartInput): Promise<Buffer>;
  metric(input: MetricChartInput): Promise<Buffer>;
  /** A training run's metric curves (coachrl runs show, /runs ID). */
  trainingCurves(input: TrainingCurvesInput): Promise<Buffer>;
  /** Stops the worker (pending charts fail); in-process rendering has nothing to stop. */
  close(): Promise<void>;
}

export const inlineChartRenderer: ChartRenderer = {
  stats: renderStatsChart,
  metric: renderMetricChart,
  trainingCurves: renderTrainingCurvesChart,
  close: async () => {},
};

export class ChartRendererClosedError extends Error {
  constructor() {
    super("the chart renderer was closed");
    this.name = "ChartRendererClosedError";
  }
}

/**
 * Renders in one long-lived worker thread, started on first use and restarted after a crash.
 * Jobs queue in the worker in arrival order. `onRendered` (tests) sees the thread that drew it.
 */
export function workerChartRenderer(
  options: { onRendered?: (threadId: number) => void } = {},
): ChartRenderer {
  let worker: Worker | undefined;
  let closed = false;
  const pending = new PendingReplies<Buffer>();
  const failAll = (error: Error) => pending.failAll(error);

  const start = (): Worker => {
    const w = startWorkerThread(new URL("./worker.js", import.meta.url), {
      messages: chartReply,
      onMessage(reply) {
        const p = pending.take(reply.id);
        if (!p) return;
        if (reply.ok) {
          options.onRendered?.(reply.threadId);
          p.resolve(Buffer.from(reply.png.buffer, reply.png.byteOffset, reply.png.byteLength));
        } else p.reject(new Error(reply.message));
        if (pending.size === 0) w.unref();
      },
    });
    const lost = (error: Error) => {
      if (worker === w) worker = undefined;
      failAll(error);
    };
    w.on("error", (error) => lost(error));
    w.on("exit", (code) => lost(new Error(`the chart worker exited with code ${code}`)));
    return w;
  };

  const submit = (job: Omit<ChartJob, "id">): Promise<Buffer> => {
    if (closed) return Promise.reject(new ChartRendererClosedError());
    worker ??= start();
    worker.ref(); // keep the process alive while a chart is being drawn
    const { id, reply } = pending.expect();
    worker.postMessage({ ...job, id } as ChartJob);
    return reply;
  };

  return {
    stats: (input) => submit({ kind: "stats", input }),
    metric: (input) => submit({ kind: "metric", input }),
    trainingCurves: (input) => submit({ kind: "training-curves", input }),
    async close() {
      closed = true;
      const w = worker;
      worker = undefined;
      failAll(new ChartRendererClosedError());
      if (w) await w.terminate();
    },
  };
}
