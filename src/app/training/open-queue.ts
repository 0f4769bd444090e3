// Which training queue a process uses: pg-boss when the database is Postgres (shared by every
// instance and worker), the in-process queue on embedded PGlite (one process, no network).
import { createInProcessQueue } from "./in-process-queue.js";
import { createPgBossQueue } from "./pg-boss-queue.js";
import type { TrainingQueue, TrainingQueueDeps } from "./queue.js";
import type { RetrainRunner } from "./retrain.js";

export async function openTrainingQueue(
  deps: TrainingQueueDeps,
  options: { runner?: RetrainRunner; maintenanceIntervalSeconds?: number } = {},
): Promise<TrainingQueue> {
  const url = deps.config.databaseUrl;
  if (deps.db.kind === "postgres" && url !== undefined) {
    return createPgBossQueue(deps, { url, ...options });
  }
  return createInProcessQueue(deps, options);
}
