// The reply outbox (table telegram_reply_outbox, migration 20261204130000): messages of webhook
// updates that were acknowledged before the messages went out. A row is keyed by the update and
// the message's position in the update's handling, so a second handling of the same update (a
// re-delivery after a crash) finds the row of the first instead of making another. Each row is
// claimed by the process sending it; a claim older than the lease belongs to a process that died
// and is taken over. Times are the database's clock (one clock for every instance).
import type { Database } from "./client.js";

export interface ReplyKey {
  updateId: number;
  position: number;
}

export type StoredReply =
  /** the row is this holder's to send (new, already its own, or taken over from a stale claim) */
  | { kind: "mine" }
  /** the row was sent before; `result` is Telegram's answer then */
  | { kind: "sent"; result: unknown }
  /** another process holds a fresh claim on the row and is sending it */
  | { kind: "busy" };

export interface PendingReply extends ReplyKey {
  method: string;
  payload: Record<string, unknown>;
}

/**
 * Stores the message unless its row exists, and claims the row for `holder` when it is unsent
 * and new, already the holder's, or held by a claim older than `leaseMs`. One statement.
 */
export async function storeReply(
  db: Database,
  key: ReplyKey,
  message: { method: string; payload: Record<string, unknown> },
  claim: { holder: string; leaseMs: number },
): Promise<StoredReply> {
  const rows = await db.prisma.$queryRaw<
    { claimed_by: string; sent_at: Date | null; result: unknown }[]
  >`
    INSERT INTO telegram_reply_outbox (update_id, position, method, payload, claimed_by)
    VALUES (${BigInt(key.updateId)}, ${key.position}, ${message.method},
      ${JSON.stringify(message.payload)}::jsonb, ${claim.holder})
    ON CONFLICT (update_id, position) DO UPDATE
      SET claimed_by = EXCLUDED.claimed_by, claimed_at = now()
      WHERE telegram_reply_outbox.sent_at IS NULL
        AND (telegram_reply_outbox.claimed_by = EXCLUDED.claimed_by
          OR telegram_reply_outbox.claimed_at < now() - ${claim.leaseMs} * interval '1 millisecond')
    RETURNING claimed_by, sent_at, result`;
  if (rows.length === 1) return { kind: "mine" };
  // not inserted, not claimed: sent already, or someone else's fresh claim
  const found = await db.prisma.$queryRaw<{ sent_at: Date | null; result: unknown }[]>`
    SELECT sent_at, result FROM telegram_reply_outbox
    WHERE update_id = ${BigInt(key.updateId)} AND position = ${key.position}`;
  const row = found[0];
  return row?.sent_at ? { kind: "sent", result: row.result } : { kind: "busy" };
}

/**
 * Renews `holder`'s claim just before sending; false when the row was taken over (a stale claim)
 * or sent meanwhile: then the holder must not send it.
 */
export async function renewReplyClaim(
  db: Database,
  key: ReplyKey,
  holder: string,
): Promise<boolean> {
  const renewed = await db.prisma.$executeRaw`
    UPDATE telegram_reply_outbox SET claimed_at = now()
    WHERE update_id = ${BigInt(key.updateId)} AND position = ${key.position}
      AND claimed_by = ${holder} AND sent_at IS NULL`;
  return renewed === 1;
}

/**
 * Marks the row sent with (what is kept of) Telegram's answer; the message's text is dropped
 * with its payload (a sent row keeps no one's words).
 */
export async function markReplySent(db: Database, key: ReplyKey, result: unknown): Promise<void> {
  await db.prisma.$executeRaw`
    UPDATE telegram_reply_outbox
    SET sent_at = now(), payload = '{}'::jsonb, result = ${JSON.stringify(result ?? null)}::jsonb
    WHERE update_id = ${BigInt(key.updateId)} AND position = ${key.position}`;
}

/**
 * Claims for `holder` up to `limit` unsent rows whose claim is older than `leaseMs` (their
 * process died), oldest first per update, and returns them.
 */
export async function claimStaleReplies(
  db: Database,
  claim: { holder: string; leaseMs: number; limit: number },
): Promise<PendingReply[]> {
  const rows = await db.prisma.$queryRaw<
    { update_id: bigint; position: number; method: string; payload: Record<string, unknown> }[]
  >`
    UPDATE telegram_reply_outbox o SET claimed_by = ${claim.holder}, claimed_at = now()
    FROM (
      SELECT update_id, position FROM telegram_reply_outbox
      WHERE sent_at IS NULL
        AND claimed_at < now() - ${claim.leaseMs} * interval '1 millisecond'
      ORDER BY update_id, position
      LIMIT ${claim.limit}
      FOR UPDATE SKIP LOCKED
    ) stale
    WHERE o.update_id = stale.update_id AND o.position = stale.position
    RETURNING o.update_id, o.position, o.method, o.payload`;
  return rows
    .map((r) => ({
      updateId: Number(r.update_id),
      position: r.position,
      method: r.method,
      payload: r.payload,
    }))
    .sort((a, b) => a.updateId - b.updateId || a.position - b.position);
}

/** Forgets rows sent before `before`; returns how many. */
export async function pruneSentReplies(db: Database, before: Date): Promise<number> {
  return db.prisma.$executeRaw`
    DELETE FROM telegram_reply_outbox WHERE sent_at < ${before}`;
}
