// Worker-thread entry of a population policy's training (src/rl/population.ts): receives the
// PopulationTraining input (without callbacks) as workerData and posts { type: "done" } with the
// checkpoint bytes or { type: "error" } (PopulationWorkerMessage, checked by
// workerThreadPopulationTrainer in ./population.ts). Training runs here so that the bot's event
// loop keeps answering people meanwhile.
import { parentPort, workerData } from "node:worker_threads";
import { type PopulationTraining, trainPopulationPolicy } from "../../rl/population.js";

export type PopulationWorkerMessage =
  | { type: "done"; bytes: Uint8Array }
  | { type: "error"; message: string };

const port = parentPort;
if (port === null) throw new Error("population-worker.ts must run in a worker thread");

try {
  const bytes = await trainPopulationPolicy(workerData as PopulationTraining);
  port.postMessage({ type: "done", bytes } satisfies PopulationWorkerMessage, [
    bytes.buffer as ArrayBuffer,
  ]);
} catch (error) {
  port.postMessage({
    type: "error",
    message: error instanceof Error ? error.message : String(error),
  } satisfies PopulationWorkerMessage);
}
