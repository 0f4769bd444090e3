// Updates whose handling failed for a transient reason (./middleware/errors.ts) are handled
// again. The webhook answers 503 and Telegram re-delivers (./webhook.ts). Long polling and the
// local chat have nobody to re-deliver, so the update is retried here, in-process, with growing
// waits up to a cap, until it is handled: a transient failure (the database down, Telegram
// unreachable, the update's claim held by an instance that died) ends, and a person's message
// must not be lost because it lasted long. While the polling batch waits, no later update is
// fetched: during a database outage nothing else could be handled either. A stop during the
// retries leaves the update unconfirmed with Telegram (see leaveUnconfirmed), so the next start
// gets it again. Other failures are logged and the update is left (the bot apologised).
import type { Telegraf } from "telegraf";
import type { Update } from "telegraf/types";
import type { Logger } from "../logger.js";
import type { CoachContext } from "./context.js";
import { RetryUpdateLater } from "./middleware/errors.js";

/**
 * Waits before the 2nd, 3rd, … attempt; the last one repeats for as long as the failure lasts
 * (the first 2.5 minutes outlast a claim's lease, so a dead instance's claim is taken over).
 */
export const RETRY_DELAYS_MS = [1_000, 2_000, 4_000, 8_000, 15_000, 30_000, 30_000, 30_000, 30_000];

/** The longest single wait, whatever Telegram's retry_after says. */
const MAX_WAIT_MS = 60_000;

/** An update still failing is logged again after this much more waiting (a bounded log rate). */
export const STILL_FAILING_LOG_EVERY_MS = 5 * 60_000;

export interface RetryOptions {
  log: Logger;
  /** injected by tests; default: a real wait */
  sleep?: (ms: number) => Promise<void>;
  delaysMs?: readonly number[];
}

type HandleUpdate = (update: Update) => Promise<void>;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Handles one update, retrying while the bot says RetryUpdateLater, with no limit on the number
 * of attempts; resolves once it was handled, failed for good (logged), or `stopped()` said to
 * stop retrying (then `onStopped` is called first). Never rejects, so one update cannot stop the
 * polling loop.
 */
export async function handleWithRetries(
  handle: HandleUpdate,
  update: Update,
  options: RetryOptions & { stopped?: () => boolean; onStopped?: (update: Update) => void },
): Promise<void> {
  const delays = options.delaysMs ?? RETRY_DELAYS_MS;
  const sleep = options.sleep ?? realSleep;
  const updateId = update.update_id;
  let waitedMs = 0;
  let nextReportMs = STILL_FAILING_LOG_EVERY_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      await handle(update);
      if (attempt > 1) {
        options.log.info(
          { update_id: updateId, attempts: attempt, waited_s: Math.round(waitedMs / 1000) },
          "update handled after transient failures",
        );
      }
      return;
    } catch (error) {
      if (!(error instanceof RetryUpdateLater)) {
        options.log.error({ err: error, update_id: updateId }, "update handling failed");
        return;
      }
      if (options.stopped?.() === true) {
        leaveForRedelivery(update, attempt, error, options);
        return;
      }
      if (waitedMs >= nextReportMs) {
        options.log.warn(
          {
            err: error.cause,
            update_id: updateId,
            attempts: attempt,
            waited_s: Math.round(waitedMs / 1000),
          },
          "update still cannot be processed; retrying until it can",
        );
        nextReportMs = waitedMs + STILL_FAILING_LOG_EVERY_MS;
      }
      const delay = delays[Math.min(attempt - 1, delays.length - 1)] ?? 0;
      // Telegram's retry_after (a 429) when longer, up to a minute
      const wait = Math.max(delay, Math.min(error.retryAfterSeconds * 1000, MAX_WAIT_MS));
      await sleep(wait);
      waitedMs += wait;
      // a stop during the wait: no further attempt (the database may still be away)
      if (options.stopped?.() === true) {
        leaveForRedelivery(update, attempt, error, options);
        return;
      }
    }
  }
}

function leaveForRedelivery(
  update: Update,
  attempts: number,
  error: RetryUpdateLater,
  options: RetryOptions & { onStopped?: (update: Update) => void },
): void {
  options.onStopped?.(update);
  options.log.warn(
    { err: error.cause, update_id: update.update_id, attempts },
    "stopping: update not processed; it will be delivered again after the restart",
  );
}

/**
 * telegraf 4's polling (node_modules/telegraf/lib/core/network/polling.js) sets its `offset` to
 * the batch's last update_id + 1 when the batch arrives, and when polling stops it confirms that
 * offset to Telegram (getUpdates with it) once the batch's handlers resolved, whether they
 * resolved or rejected. Lowering the offset to an unhandled update keeps it, and the batch's
 * later updates, with Telegram: they are delivered again after the restart (the handled ones are
 * then duplicates: nothing is stored or said twice, src/bot/middleware/idempotency.ts).
 */
function leaveUnconfirmed(bot: Telegraf<CoachContext>, updateId: number, log: Logger): void {
  const polling = (bot as unknown as { polling?: { offset?: unknown } }).polling;
  if (typeof polling?.offset !== "number") {
    log.error(
      { update_id: updateId },
      "cannot keep the update unconfirmed: telegraf's polling has no offset (upgraded telegraf?)",
    );
    return;
  }
  polling.offset = Math.min(polling.offset, updateId);
}

/**
 * Long polling: the bot retries updates in-process (telegraf's polling loop calls
 * bot.handleUpdate). `stop()` ends the retries (shutdown must not wait for an outage to end);
 * an update left unhandled stays unconfirmed with Telegram. Call it with `bot.stop()`.
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
      onStopped: (left) => leaveUnconfirmed(bot, left.update_id, options.log),
    });
  return {
    stop() {
      stopped = true;
      for (const wake of wakers) wake();
      wakers.clear();
    },
  };
}
