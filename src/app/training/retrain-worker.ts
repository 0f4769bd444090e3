// Worker-thread entry of retrains, kept by ./retrain-worker-pool.ts for job after job: for each
// { type: "job" } it posts { type: "progress" } after every PPO update and finally
// { type: "done" } (with the tensors left alive: the same after every job unless one leaks) or
// { type: "error" } (RetrainWorkerMessage, checked by the pool). Training runs here so that the
// bot's event loop keeps answering people meanwhile.
import { parentPort } from "node:worker_threads";
import { tf } from "../../rl/backend.js";
import {
  type RetrainJobRequest,
  type RetrainJobResult,
  type RetrainProgress,
  trainAndEvaluate,
} from "./retrain-job.js";

/** What the pool (./retrain-worker-pool.ts) sends: one job at a time. */
export interface RetrainWorkerJob {
  type: "job";
  request: RetrainJobRequest;
}

export type RetrainWorkerMessage =
  | { type: "progress"; progress: RetrainProgress }
  | { type: "done"; result: RetrainJobResult; tensors: number }
  | { type: "error"; message: string };

const port = parentPort;
if (port === null) throw new Error("retrain-worker.ts must run in a worker thread");

port.on("message", async (job: RetrainWorkerJob) => {
  try {
    const result = await trainAndEvaluate(job.request, (progress) => {
      port.postMessage({ type: "progress", progress } satisfies RetrainWorkerMessage);
    });
    port.postMessage(
      { type: "done", result, tensors: tf.memory().numTensors } satisfies RetrainWorkerMessage,
      [result.checkpoint.buffer as ArrayBuffer],
    );
  } catch (error) {
    port.postMessage({
      type: "error",
      message: error instanceof Error ? error.message : String(error),
    } satisfies RetrainWorkerMessage);
  }
});
