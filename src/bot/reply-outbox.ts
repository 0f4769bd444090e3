// The Telegram side of the reply outbox (src/app/reply-outbox.ts). A message of a webhook
// update that has to wait for the bot's global window is stored before the update is
// acknowledged, sent when its turn comes and marked sent; once the update was acknowledged (or
// when this handling took over from one that died) every further message goes the same way.
// Messages that do not wait are sent directly, without a statement: the webhook's answer waits
// for them, and Telegram delivers the update again if the process dies first.
import { randomUUID } from "node:crypto";
import { TelegramError } from "telegraf";
import type { AppDeps } from "../app/deps.js";
import {
  mayStillSend,
  type OutgoingMessage,
  REPLY_LEASE_MS,
  replySent,
  STALE_REPLY_CHECK_MS,
  type StoredReply,
  sendStaleReplies,
  storeOutgoingReply,
} from "../app/reply-outbox.js";
import type { UpdateHandling } from "./update-ack.js";

/** What one attempt at a Bot API call is told by the outbox. */
export interface AttemptHooks {
  /** Called (once) when the message has to wait for the global window. */
  onWait(): void;
  /** Called after the wait, right before the call; false: do not call (`NOT_SENT` is returned). */
  beforeSend?(): Promise<boolean>;
}

/** An attempt's result when `beforeSend` said no. */
export const NOT_SENT: unique symbol = Symbol("not sent");

export interface ReplyOutbox {
  /** Sends one message of `handling` through `attempt`, storing it when it has to be. */
  deliver(
    handling: UpdateHandling,
    message: OutgoingMessage,
    attempt: (hooks: AttemptHooks) => Promise<unknown>,
  ): Promise<unknown>;
}

/** This process, as the holder of the replies it stored. */
const PROCESS_HOLDER = randomUUID();

/** Only JSON messages are stored (a chart's photo upload is not): they alone can be sent later. */
const STORABLE = new Set(["sendMessage", "editMessageText", "editMessageReplyMarkup"]);

/** The result handed to a handler whose message another process sent (or is sending). */
const SENT_ELSEWHERE = true;

export function createReplyOutbox(
  deps: Pick<AppDeps, "db" | "log">,
  holder = PROCESS_HOLDER,
): ReplyOutbox {
  /** Whether the stored row is still this holder's to send (a long wait renews the claim). */
  const stillMine = async (key: { updateId: number; position: number }, storedAt: number) =>
    performance.now() - storedAt < REPLY_LEASE_MS / 2 || mayStillSend(deps, key, holder);
  const markSent = async (key: { updateId: number; position: number }, result: unknown) => {
    try {
      await replySent(deps, key, result);
    } catch (error) {
      // the message went out; the row will be sent again once its claim is stale (documented)
      deps.log.warn({ err: error, update_id: key.updateId }, "could not mark a stored reply sent");
    }
  };
  const answerOf = (stored: StoredReply | undefined, result: unknown) =>
    result !== NOT_SENT ? result : stored?.kind === "sent" ? stored.result : SENT_ELSEWHERE;

  return {
    async deliver(handling, message, attempt) {
      const key = { updateId: handling.updateId, position: handling.messages++ };
      if (!STORABLE.has(message.method)) return attempt({ onWait: () => {} });

      if (handling.acknowledged || handling.resumed) {
        // Telegram will not deliver the update again (or this message may be stored already)
        const stored = await storeOutgoingReply(deps, key, message, holder);
        if (stored.kind !== "mine") return answerOf(stored, NOT_SENT);
        const storedAt = performance.now();
        const result = await attempt({
          onWait: () => handling.acknowledge(),
          beforeSend: () => stillMine(key, storedAt),
        });
        if (result !== NOT_SENT) await markSent(key, result);
        return answerOf(stored, result);
      }

      // stored only if it has to wait for the global window, then acknowledged
      let storing: Promise<StoredReply | undefined> | undefined;
      let storedAt = 0;
      const result = await attempt({
        onWait: () => {
          storing ??= storeOutgoingReply(deps, key, message, holder).then(
            (stored) => {
              storedAt = performance.now();
              if (stored.kind === "mine") handling.acknowledge();
              return stored;
            },
            (error: unknown) => {
              deps.log.warn(
                { err: error },
                "could not store a waiting reply; the update is acknowledged once it is sent",
              );
              return undefined;
            },
          );
        },
        beforeSend: async () => {
          const stored = await storing;
          if (stored === undefined) return true;
          return stored.kind === "mine" && stillMine(key, storedAt);
        },
      });
      const stored = await storing;
      if (stored?.kind === "mine" && result !== NOT_SENT) await markSent(key, result);
      return answerOf(stored, result);
    },
  };
}

/** A Telegram refusal that would come again (4xx other than 429): the reply is dropped. */
function isPermanentRefusal(error: unknown): boolean {
  return (
    error instanceof TelegramError && error.code >= 400 && error.code < 500 && error.code !== 429
  );
}

/**
 * Sends the replies a dead process left in the outbox, at once and every half minute, through
 * `callApi` (which takes each message's place in the outgoing budget). Returns stop().
 */
export function startStaleReplySender(
  deps: Pick<AppDeps, "db" | "log">,
  callApi: (method: string, payload: Record<string, unknown>) => Promise<unknown>,
  holder = PROCESS_HOLDER,
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const look = () => {
    running ??= sendStaleReplies(
      deps,
      holder,
      (message) => callApi(message.method, message.payload),
      isPermanentRefusal,
    )
      .then((sent) => {
        if (sent > 0) deps.log.info({ sent }, "sent replies left unsent by a stopped instance");
      })
      .catch((error: unknown) =>
        deps.log.warn({ err: error }, "could not send the replies left in the outbox"),
      )
      .finally(() => {
        running = undefined;
      });
  };
  look();
  const timer = setInterval(look, STALE_REPLY_CHECK_MS);
  timer.unref();
  return {
    /** No more looks; waits for one under way (it uses the database the app closes next). */
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
