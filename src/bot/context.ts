// The context every handler sees, and the dependencies the composition root injects.
// Contract between bot modules: extend, don't rename.

import type { Context } from "telegraf";
import type { AppConfig } from "../config.js";
import type { Database } from "../db/client.js";
import type { User } from "../generated/prisma/client.js";
import type { Logger } from "../logger.js";
import type { ChartRenderer } from "./chart-renderer.js";
import type { PolicyPlannerLoader } from "./planning.js";
import type { ApiTransport } from "./telegram-policies.js";

export type UpdateOutcome = "ok" | "error" | "duplicate";

export interface BotDeps {
  config: AppConfig;
  db: Database;
  log: Logger;
  /** The clock, injected so tests can set "today". */
  now: () => Date;
  /** Where local chat mode saves charts (PNG files). */
  chartsDir: string;
  /**
   * Serves Bot API calls in-process instead of over HTTP (local chat mode). Undefined: HTTP to
   * config.telegramApiRoot.
   */
  transport?: ApiTransport;
  /** Counts handled updates (the HTTP server's /metrics hook). */
  countUpdate?: (outcome: UpdateOutcome) => void;
  /**
   * Loads the person's active trained policy as a day planner, or undefined (→ heuristic).
   * The seam where the RL engine plugs in; see choosePlanner in planning.ts.
   */
  loadPolicyPlanner?: PolicyPlannerLoader;
  /** Renders /stats and /weight charts; default in-process (the app passes a worker thread). */
  charts?: ChartRenderer;
  /** Wait (ms) before retrying after a 429; injected by tests. Default: real sleep. */
  sleep?: (ms: number) => Promise<void>;
}

export interface CoachContext extends Context {
  deps: BotDeps;
  /** child logger carrying update_id (and user id once known) */
  log: Logger;
  /** the registered person, loaded by middleware (undefined before /start) */
  person?: User;
}

/** Narrows ctx.person for handlers that run only for registered people. */
export type PersonContext = CoachContext & { person: User };
