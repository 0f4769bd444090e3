// What every use case needs from the outside world, injected by the composition root
// (src/main.ts) and by tests. Nothing here knows about Telegram: the bot adds its own transport
// concerns on top (src/bot/context.ts).
import type { AppConfig } from "../config.js";
import type { Database } from "../db/client.js";
import type { Logger } from "../logger.js";
import type { ChartRenderer } from "./charts/renderer.js";
import type { PolicyPlannerLoader } from "./policy-planner.js";
import type { TrainingQueue } from "./training/queue.js";

export interface AppDeps {
  config: AppConfig;
  db: Database;
  log: Logger;
  /** The clock, injected so tests can set "today". */
  now: () => Date;
  /**
   * Loads the person's active trained policy as a day planner, or undefined (→ heuristic).
   * The seam where the RL engine plugs in (policy-planner.ts); see choosePlanner in planning.ts.
   */
  loadPolicyPlanner?: PolicyPlannerLoader;
  /** Renders /stats and /weight charts; default in-process (the app passes a worker thread). */
  charts?: ChartRenderer;
  /** The training queue: /retrain, `coachrl retrain` and the nightly schedule enqueue to it. */
  training: TrainingQueue;
}
