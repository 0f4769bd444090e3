// Replies that must survive a crash. A webhook update whose reply waits for the bot's global
// outgoing window is acknowledged before the reply is sent (src/bot/update-ack.ts); from that
// moment Telegram will not deliver the update again, so the reply is stored here first (right
// after the update's effect was stored, before the acknowledgement) and marked sent once
// Telegram took it. A process that dies in between leaves the row unsent; once its claim is
// older than the lease, any instance sends it (`sendStaleReplies`, at start and every half
// minute). A second handling of the same update (a re-delivery after the crash) finds the stored
// row by the update and the message's position and does not send it again.
//
// Exactly once per stored reply, except one window: a process that dies after Telegram took the
// message and before the row was marked sent leaves it unsent, and it is sent a second time.
import type { ReplyKey, StoredReply } from "../db/reply-outbox.js";
import {
  claimStaleReplies,
  markReplySent,
  renewReplyClaim,
  storeReply,
} from "../db/reply-outbox.js";
import type { AppDeps } from "./deps.js";

export type { ReplyKey, StoredReply } from "../db/reply-outbox.js";

/**
 * How long a claim on a stored reply protects it: a process that stored a reply sends it within
 * this time or renews its claim first (a wait for the global window can be long: the morning
 * fan-out), so only a dead process's rows are taken over.
 */
export const REPLY_LEASE_MS = 120_000;
/** How often an instance looks for replies left unsent by a dead process. */
export const STALE_REPLY_CHECK_MS = 30_000;
/** Rows taken over per look. */
const STALE_REPLY_BATCH = 100;

type Deps = Pick<AppDeps, "db">;

export interface OutgoingMessage {
  method: string;
  payload: Record<string, unknown>;
}

/** Stores the reply (or finds it stored) and claims it for `holder` when it is to be sent. */
export function storeOutgoingReply(
  deps: Deps,
  key: ReplyKey,
  message: OutgoingMessage,
  holder: string,
): Promise<StoredReply> {
  return storeReply(deps.db, key, message, { holder, leaseMs: REPLY_LEASE_MS });
}

/** Whether `holder` may still send the reply (renewing its claim); false: taken over or sent. */
export function mayStillSend(deps: Deps, key: ReplyKey, holder: string): Promise<boolean> {
  return renewReplyClaim(deps.db, key, holder);
}

/**
 * Marks the reply sent, keeping of Telegram's answer only the message id (what a handler uses
 * from a sent message, e.g. to edit it later), not its text.
 */
export function replySent(deps: Deps, key: ReplyKey, result: unknown): Promise<void> {
  return markReplySent(deps.db, key, keptOf(result));
}

function keptOf(result: unknown): unknown {
  if (typeof result !== "object" || result === null) return result ?? null;
  const { message_id: messageId } = result as { message_id?: unknown };
  return messageId === undefined ? true : { message_id: messageId };
}

/**
 * Sends the replies a dead process left unsent (claims older than the lease), each claimed by
 * `holder` first so two instances never send the same one; returns how many were sent. A reply
 * Telegram refuses for good (4xx other than 429) is marked sent with the refusal: it would be
 * refused again. Other failures leave it for the next look.
 */
export async function sendStaleReplies(
  deps: Pick<AppDeps, "db" | "log">,
  holder: string,
  send: (message: OutgoingMessage) => Promise<unknown>,
  isPermanentRefusal: (error: unknown) => boolean,
): Promise<number> {
  let sent = 0;
  for (;;) {
    const stale = await claimStaleReplies(deps.db, {
      holder,
      leaseMs: REPLY_LEASE_MS,
      limit: STALE_REPLY_BATCH,
    });
    for (const reply of stale) {
      const key = { updateId: reply.updateId, position: reply.position };
      try {
        await replySent(deps, key, await send(reply));
        sent++;
      } catch (error) {
        if (!isPermanentRefusal(error)) throw error;
        deps.log.warn(
          { err: error, update_id: reply.updateId, method: reply.method },
          "a stored reply was refused by Telegram; not sent",
        );
        await markReplySent(deps.db, key, { refused: true });
      }
    }
    if (stale.length < STALE_REPLY_BATCH) return sent;
  }
}
