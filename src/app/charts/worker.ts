/**
 * Worker-thread entry for chart rendering: Vega → SVG → PNG takes 50–300 ms of CPU per chart,
 * which would otherwise stall every other person's update on the bot's event loop. Receives
 * `ChartJob`s, answers each with the PNG bytes (transferred, not copied) or the error message.
 * Started by `workerChartRenderer` in ./renderer.ts, which checks every reply against ChartReply.
 */
import { parentPort, threadId } from "node:worker_threads";
import {
  type MetricChartInput,
  renderMetricChart,
  renderStatsChart,
  renderTrainingCurvesChart,
  type StatsChartInput,
  type TrainingCurvesInput,
} from "./charts.js";

export type ChartJob =
  | { id: number; kind: "stats"; input: StatsChartInput }
  | { id: number; kind: "metric"; input: MetricChartInput }
  | { id: number; kind: "training-curves"; input: TrainingCurvesInput };

export type ChartReply =
  | { id: number; ok: true; png: Uint8Array; threadId: number }
  | { id: number; ok: false; message: string };

if (parentPort) {
  const port = parentPort;
  port.on("message", async (job: ChartJob) => {
    try {
      const png =
        job.kind === "stats"
          ? await renderStatsChart(job.input)
          : job.kind === "metric"
            ? await renderMetricChart(job.input)
            : await renderTrainingCurvesChart(job.input);
      const bytes = new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
      port.postMessage({ id: job.id, ok: true, png: bytes, threadId } satisfies ChartReply, [
        bytes.buffer as ArrayBuffer,
      ]);
    } catch (error) {
      port.postMessage({
        id: job.id,
        ok: false,
        message: error instanceof Error ? error.message : String(error),
      } satisfies ChartReply);
    }
  });
}
