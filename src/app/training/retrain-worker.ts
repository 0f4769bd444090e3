// Worker-thread entry of a retrain: receives a RetrainJobRequest as workerData, posts
// { type: "progress" } after every PPO update and finally { type: "done" } or { type: "error" }
// (RetrainWorkerMessage, checked by workerThreadRunner in ./retrain.ts).
// Training runs here so that the bot's event loop keeps answering people meanwhile.
import { parentPort, workerData } from "node:worker_threads";
import {
  type RetrainJobRequest,
  type RetrainJobResult,
  type RetrainProgress,
  trainAndEvaluate,
} from "./retrain-job.js";

export type RetrainWorkerMessage =
  | { type: "progress"; progress: RetrainProgress }
  | { type: "done"; result: RetrainJobResult }
  | { type: "error"; message: string };

const port = parentPort;
if (port === null) throw new Error("retrain-worker.ts must run in a worker thread");

try {
  const result = await trainAndEvaluate(workerData as RetrainJobRequest, (progress) => {
    port.postMessage({ type: "progress", progress } satisfies RetrainWorkerMessage);
  });
  port.postMessage({ type: "done", result } satisfies RetrainWorkerMessage, [
    result.checkpoint.buffer as ArrayBuffer,
  ]);
} catch (error) {
  port.postMessage({
    type: "error",
    message: error instanceof Error ? error.message : String(error),
  } satisfies RetrainWorkerMessage);
}
