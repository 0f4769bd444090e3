// Updates whose handling failed for a transient reason (./middleware/errors.ts) are handled
// again. The webhook answers 503 and Telegram re-delivers (./webhook.ts). Long polling and the
// local chat have nobody to re-deliver, so the update is retried here, in-process, with growing
// waits, for a little longer than a claim's lease (so an update whose claim is held by an
// instance that died is taken over, see src/app/updates.ts); then it is logged and left. While
// the polling batch waits, no later update is fetched: during a database outage nothing else
// could be handled either.
import type { Telegraf } from "telegraf";
import type { Update } from "telegraf/types";
import type { Logger } from "../logger.js";
import type { CoachContext } from "./context.js";
import { RetryUpdateLater } from "./middleware/errors.js";

/** Waits before the 2nd, 3rd, … attempt: about 2.5 minutes in all, longer than a claim's lease. */
export const RETRY_DELAYS_MS = [1_000, 2_000, 4_000, 8_000, 15_000, 30_000, 30_000, 30_000, 30_000];

/** The longest single wait, whatever Telegram's retry_after says. */
const MAX_WAIT_MS = 60_000;

export interface RetryOptions {
  log: Logger;
  /** injected by tests; default: a real wait */
  sleep?: (ms: number) => Promise<void>;
  delaysMs?: readonly number[];
}

type HandleUpdate = (update: Update) => Promise<void>;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Handles one update, retrying while the bot says RetryUpdateLater; resolves once it was handled
 * or given up on (never rejects, so one update cannot stop the polling loop).
 */
export async function handleWithRetries(
  handle: HandleUpdate,
  update: Update,
  options: RetryOptions & { stopped?: () => boolean },
): Promise<void> {
  const delays = options.delaysMs ?? RETRY_DELAYS_MS;
  const sleep = options.sleep ?? realSleep;
  for (let attempt = 0; ; attempt++) {
    try {
      await handle(update);
      return;
    } catch (error) {
      if (!(error instanceof RetryUpdateLater)) {
        options.log.error({ err: error, update_id: update.update_id }, "update handling failed");
        return;
      }
      const delay = delays[attempt];
      if (delay === undefined || options.stopped?.() === true) {
        options.log.error(
          { err: error.cause, update_id: update.update_id, attempts: attempt + 1 },
          "update could not be processed; giving up on it",
        );
        return;
      }
      // Telegram's retry_after (a 429) when longer, up to a minute
      await sleep(Math.max(delay, Math.min(error.retryAfterSeconds * 1000, MAX_WAIT_MS)));
    }
  }
}

/**
 * Long polling: the bot retries updates in-process (telegraf's polling loop calls
 * bot.handleUpdate). `stop()` ends the retries (shutdown must not wait minutes).
 */
export function retryInProcess(
  bot: Telegraf<CoachContext>,
  options: RetryOptions,
): { stop(): void } {
  let stopped = false;
  const wakers = new Set<() => void>();
  const sleep = options.sleep ?? realSleep;
  const interruptibleSleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wakers.add(resolve);
      void sleep(ms).then(() => {
        wakers.delete(resolve);
        resolve();
      });
    });
  const handleOnce: HandleUpdate = bot.handleUpdate.bind(bot);
  bot.handleUpdate = (update) =>
    handleWithRetries(handleOnce, update, {
      ...options,
      sleep: interruptibleSleep,
      stopped: () => stopped,
    });
  return {
    stop() {
      stopped = true;
      for (const wake of wakers) wake();
      wakers.clear();
    },
  };
}
