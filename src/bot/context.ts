// The context every handler sees, and the dependencies the composition root injects.
// Contract between bot modules: extend, don't rename.

import type { Context } from "telegraf";
import type { AppDeps } from "../app/deps.js";
import type { SendBudget } from "../app/send-budget.js";
import type { User } from "../generated/prisma/client.js";
import type { Logger } from "../logger.js";
import type { ApiTransport } from "./telegram-policies.js";

export type UpdateOutcome = "ok" | "error" | "duplicate";

/** The application's dependencies plus what only the Telegram adapter needs. */
export interface BotDeps extends AppDeps {
  /** Where local chat mode saves charts (PNG files). */
  chartsDir: string;
  /**
   * Serves Bot API calls in-process instead of over HTTP (local chat mode). Undefined: HTTP to
   * config.telegramApiRoot.
   */
  transport?: ApiTransport;
  /** Counts handled updates, and how long each took (the HTTP server's /metrics hook). */
  countUpdate?: (outcome: UpdateOutcome, seconds?: number) => void;
  /** Where every outgoing message takes its place within Telegram's limits (src/app/send-budget.ts). */
  sendBudget?: SendBudget;
  /** Times each outgoing Bot API call attempt (/metrics); "rate-limited" is a 429. */
  observeTelegramCall?: (
    method: string,
    outcome: "ok" | "error" | "rate-limited",
    seconds: number,
  ) => void;
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
