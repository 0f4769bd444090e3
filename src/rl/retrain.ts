/**
 * Runs `trainForHabits` in a worker thread so the bot's event loop stays free while a person's
 * policy retrains. Resolves with the checkpoint bytes and the training summary; `signal` stops
 * training early (the policy trained so far is still returned).
 */
import { Worker } from "node:worker_threads";
import type { TrainForHabitsInput } from "./habit-training.js";
import type { TrainingProgress, TrainingSummary } from "./ppo.js";
import type { WorkerMessage } from "./train-worker.js";

export type RetrainInput = Omit<TrainForHabitsInput, "onProgress" | "signal">;

export interface RetrainResult {
  checkpoint: Uint8Array;
  training: TrainingSummary & { persona?: string; seed?: number; backend?: string };
}

export function retrainInWorker(
  input: RetrainInput,
  options: { onProgress?: (p: TrainingProgress) => void; signal?: AbortSignal } = {},
): Promise<RetrainResult> {
  // Under tsx (development, tests) the sources are .ts: the worker registers tsx's loader first.
  const fromSource = import.meta.url.endsWith(".ts");
  const entry = new URL(fromSource ? "./train-worker.ts" : "./train-worker.js", import.meta.url);
  const worker = fromSource
    ? new Worker(
        `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`,
        { eval: true, workerData: input },
      )
    : new Worker(entry, { workerData: input });
  return new Promise((resolve, reject) => {
    let settled = false;
    const onAbort = () => worker.postMessage("stop");
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const finish = (action: () => void) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener("abort", onAbort);
      action();
    };
    worker.on("message", (message: WorkerMessage) => {
      if (message.type === "progress") options.onProgress?.(message.progress);
      else if (message.type === "done") {
        finish(() =>
          resolve({
            checkpoint: message.checkpoint,
            training: message.training as RetrainResult["training"],
          }),
        );
      } else finish(() => reject(new Error(`training failed: ${message.message}`)));
    });
    worker.on("error", (error) => finish(() => reject(error)));
    worker.on("exit", (code) =>
      finish(() => reject(new Error(`training worker exited with code ${code}`))),
    );
  });
}
