/**
 * Worker-thread entry for training (the bot's /retrain): receives a `TrainForHabitsInput`
 * (without callbacks) as workerData, posts progress messages and finally the checkpoint bytes
 * (transferred, not copied). Start it with `retrainInWorker` from ./retrain.js.
 */
import { parentPort, workerData } from "node:worker_threads";
import { type TrainForHabitsInput, trainForHabits } from "./habit-training.js";

export type WorkerMessage =
  | { type: "progress"; progress: import("./ppo.js").TrainingProgress }
  | { type: "done"; checkpoint: Uint8Array; training: unknown }
  | { type: "error"; message: string };

if (parentPort) {
  const port = parentPort;
  const controller = new AbortController();
  port.on("message", (message: unknown) => {
    if (message === "stop") controller.abort();
  });
  const input = workerData as Omit<TrainForHabitsInput, "onProgress" | "signal">;
  trainForHabits({
    ...input,
    signal: controller.signal,
    onProgress: (progress) =>
      port.postMessage({ type: "progress", progress } satisfies WorkerMessage),
  }).then(
    ({ checkpoint, training }) => {
      port.postMessage({ type: "done", checkpoint, training } satisfies WorkerMessage, [
        checkpoint.buffer as ArrayBuffer,
      ]);
      port.close();
    },
    (error: unknown) => {
      port.postMessage({
        type: "error",
        message: error instanceof Error ? error.message : String(error),
      } satisfies WorkerMessage);
      port.close();
    },
  );
}
