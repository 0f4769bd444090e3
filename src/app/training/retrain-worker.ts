// Worker-thread entry of a retrain: receives a RetrainJobRequest as workerData, posts
// { type: "progress" } after every PPO update and finally { type: "done" } or { type: "error" }.
// Training runs here so that the bot's event loop keeps answering people meanwhile.
import { parentPort, workerData } from "node:worker_threads";
import { type RetrainJobRequest, trainAndEvaluate } from "./retrain-job.js";

const port = parentPort;
if (port === null) throw new Error("retrain-worker.ts must run in a worker thread");

try {
  const result = await trainAndEvaluate(workerData as RetrainJobRequest, (progress) => {
    port.postMessage({ type: "progress", progress });
  });
  port.postMessage({ type: "done", result }, [result.checkpoint.buffer as ArrayBuffer]);
} catch (error) {
  port.postMessage({
    type: "error",
    message: error instanceof Error ? error.message : String(error),
  });
}
