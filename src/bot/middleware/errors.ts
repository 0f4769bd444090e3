// What happens when handling an update fails. Two kinds of failure:
//  - transient (the database is unreachable or reset, a timeout, Telegram answered 5xx or 429 or
//    could not be reached): the update is handled again later (the webhook answers 503 so that
//    Telegram re-delivers it; polling and the local chat retry in-process, see ../delivery.ts).
//    The person gets one short "Got it — I'll process that as soon as I can." per update, never
//    a request to send it again (a retry stores nothing twice: every write has an idempotency key);
//  - permanent (a bug): logged with the update id, the person gets a short apology, and the update
//    counts as handled, so that it does not loop forever.
import { TelegramError } from "telegraf";
import { isTransientDatabaseFailure, TRANSIENT_NETWORK_CODES } from "../../app/updates.js";
import type { CoachContext } from "../context.js";
import { withoutEarlyAcknowledgement } from "../update-ack.js";

export const APOLOGY = "Sorry — something went wrong on my side. Please try again in a moment.";
export const PROCESSING_LATER = "Got it — I'll process that as soon as I can.";

/** The update was not processed and must be delivered again later (webhook: 503). */
export class RetryUpdateLater extends Error {
  constructor(
    readonly updateId: number,
    /** when a new delivery makes sense (seconds) */
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(`update ${updateId} was not processed; deliver it again later`, options);
    this.name = "RetryUpdateLater";
  }
}

/** Another handling holds the update's claim right now (another instance, or one that died). */
export class UpdateInProgress extends Error {
  constructor(readonly updateId: number) {
    super(`update ${updateId} is being handled elsewhere`);
    this.name = "UpdateInProgress";
  }
}

function isTelegramRateLimit(error: unknown): boolean {
  return error instanceof TelegramError && error.code === 429;
}

/**
 * True when trying the same update again later can succeed: the database unreachable, reset or
 * timed out; Telegram answering 5xx or 429 or unreachable; the handler timing out; the update
 * being handled elsewhere right now. False for everything else (bugs, 4xx from Telegram).
 */
export function isTransientFailure(error: unknown): boolean {
  if (error instanceof UpdateInProgress || error instanceof RetryUpdateLater) return true;
  if (error instanceof TelegramError) return error.code >= 500 || error.code === 429;
  if (isTransientDatabaseFailure(error)) return true;
  const e = error as { name?: unknown; code?: unknown; type?: unknown } | null;
  // node-fetch (telegraf's HTTP client) when Telegram cannot be reached
  if (e?.name === "FetchError") return true;
  if (typeof e?.code === "string" && TRANSIENT_NETWORK_CODES.has(e.code)) return true;
  // telegraf's handlerTimeout: the handler is still running and holds the update's claim
  return e?.name === "TimeoutError";
}

/** Remembers which updates were told "I'll process that as soon as I can" (this process). */
export class ProcessingLaterNotices {
  private readonly told = new Set<number>();
  constructor(private readonly capacity = 10_000) {}
  /** True the first time for an update id (then it is remembered). */
  first(updateId: number): boolean {
    if (this.told.has(updateId)) return false;
    this.told.add(updateId);
    if (this.told.size > this.capacity) this.told.delete(this.told.values().next().value!);
    return true;
  }
}

async function tell(ctx: CoachContext, text: string): Promise<void> {
  if (ctx.callbackQuery) await ctx.answerCbQuery(text.slice(0, 200));
  else if (ctx.chat) await ctx.reply(text);
}

/** A permanent failure: logged with the update id, and a short apology to the person. */
export async function apologise(error: unknown, ctx: CoachContext): Promise<void> {
  const log = ctx.log ?? ctx.deps?.log;
  log?.error({ err: error, update_id: ctx.update.update_id }, "update handler failed");
  try {
    await tell(ctx, APOLOGY);
  } catch (replyError) {
    log?.warn({ err: replyError, update_id: ctx.update.update_id }, "could not send the apology");
  }
}

/**
 * The bot's last line of defence (bot.catch). A transient failure is turned into
 * RetryUpdateLater (thrown: the transport delivers the update again), with the notice to the
 * person the first time; anything else gets the apology, and the bot keeps running.
 */
export function createErrorHandler(notices = new ProcessingLaterNotices()) {
  // an update retried through a long outage fails once per attempt: a warning the first time,
  // debug lines after that (../delivery.ts logs one still failing now and then)
  const warned = new ProcessingLaterNotices();
  return async function handleBotError(error: unknown, ctx: CoachContext): Promise<void> {
    if (!isTransientFailure(error)) {
      await apologise(error, ctx);
      return;
    }
    const updateId = ctx.update.update_id;
    const log = ctx.log ?? ctx.deps?.log;
    const inProgress = error instanceof UpdateInProgress;
    const level = warned.first(updateId) ? "warn" : "debug";
    log?.[level](
      { err: inProgress ? undefined : error, update_id: updateId },
      inProgress
        ? "update is being handled elsewhere; it will be delivered again"
        : "update failed for a transient reason; it will be handled again",
    );
    // Not while someone else handles it (they answer), nor into a rate limit (it would prolong it).
    if (!inProgress && !isTelegramRateLimit(error) && notices.first(updateId)) {
      try {
        // sent before the 503, even when it has to wait for the outgoing budget
        await withoutEarlyAcknowledgement(() => tell(ctx, PROCESSING_LATER));
      } catch (noticeError) {
        log?.warn({ err: noticeError, update_id: updateId }, "could not send the notice");
      }
    }
    const retryAfter = isTelegramRateLimit(error)
      ? Number((error as TelegramError).parameters?.retry_after ?? 1)
      : inProgress
        ? 10
        : 1;
    throw new RetryUpdateLater(updateId, retryAfter, { cause: error });
  };
}
