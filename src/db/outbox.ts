// The durable outbox (outbox_events): work that must happen after a write, retried with
// backoff until it succeeds or is given up. Safe with several instances on one Postgres:
//  - enqueueing is coalesced per person and kind (at most one pending event), serialised by a
//    transaction-scoped advisory lock on (kind, person);
//  - claiming is one UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING that moves
//    next_attempt_at forward by a lease, so a claimed event is invisible to other workers until
//    the lease ends (an instance that dies mid-event leaves it to be retried after the lease).
// PGlite has one connection, so there the same statements are trivially exclusive.
import type { OutboxEvent, OutboxKind } from "../generated/prisma/client.js";
import type { Database } from "./client.js";

/** Advisory-lock namespace of outbox enqueues (first key of pg_advisory_xact_lock(int, int)). */
const ENQUEUE_LOCK_NAMESPACE = 72707370;

const KIND_LOCK_KEY: Record<OutboxKind, number> = { sheets_mirror: 1, notification: 2 };

export type JsonObject = { [key: string]: unknown };

/**
 * Exponential backoff: `baseMs` after the first failed attempt, doubling with each further one,
 * never more than `capMs`.
 */
export function backoffDelayMs(attempts: number, baseMs: number, capMs: number): number {
  const n = Math.max(1, attempts);
  return Math.min(capMs, baseMs * 2 ** Math.min(n - 1, 40));
}

/**
 * Adds an event for the person unless one of that kind is still pending (not done), or the
 * person's latest event already covers it (`isCurrent`, e.g. another instance just enqueued and
 * finished the same work). Returns the new event, or null when nothing was added.
 */
export async function enqueueCoalesced(
  db: Database,
  kind: OutboxKind,
  userId: number,
  payload: JsonObject,
  now: Date,
  isCurrent?: (latest: OutboxEvent) => boolean,
): Promise<OutboxEvent | null> {
  return db.prisma.$transaction(async (tx) => {
    // Serialises concurrent enqueues for the same (kind, person) until this transaction ends.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ENQUEUE_LOCK_NAMESPACE}::int, ${
      KIND_LOCK_KEY[kind] * 1_000_000 + (userId % 1_000_000)
    }::int)`;
    const pending = await tx.outboxEvent.findFirst({
      where: { kind, userId, doneAt: null },
      select: { id: true },
    });
    if (pending !== null) return null;
    if (isCurrent !== undefined) {
      const latest = await tx.outboxEvent.findFirst({
        where: { kind, userId },
        orderBy: { id: "desc" },
      });
      if (latest !== null && isCurrent(latest)) return null;
    }
    return tx.outboxEvent.create({
      data: { kind, userId, payload: payload as object, nextAttemptAt: now },
    });
  });
}

/** The most recent event of a kind per person (done or not), for the given people. */
export async function latestEvents(
  db: Database,
  kind: OutboxKind,
  userIds: number[],
): Promise<Map<number, OutboxEvent>> {
  const out = new Map<number, OutboxEvent>();
  if (userIds.length === 0) return out;
  const rows = await db.prisma.$queryRaw<{ id: bigint }[]>`
    SELECT DISTINCT ON (user_id) id FROM outbox_events
    WHERE kind = ${kind}::"OutboxKind" AND user_id = ANY(${userIds}::int[])
    ORDER BY user_id, id DESC`;
  if (rows.length === 0) return out;
  const events = await db.prisma.outboxEvent.findMany({
    where: { id: { in: rows.map((r) => BigInt(r.id)) } },
  });
  for (const e of events) if (e.userId !== null) out.set(e.userId, e);
  return out;
}

/**
 * Claims up to `limit` due events of a kind (oldest due first): their next_attempt_at moves to
 * `now + leaseMs`, so no other worker takes them while this one works. Returns them as claimed.
 */
export async function claimDue(
  db: Database,
  kind: OutboxKind,
  now: Date,
  limit: number,
  leaseMs: number,
): Promise<OutboxEvent[]> {
  const leaseUntil = new Date(now.getTime() + leaseMs);
  const rows = await db.prisma.$queryRaw<{ id: bigint }[]>`
    UPDATE outbox_events SET next_attempt_at = ${leaseUntil}
    WHERE id IN (
      SELECT id FROM outbox_events
      WHERE kind = ${kind}::"OutboxKind" AND done_at IS NULL AND next_attempt_at <= ${now}
      ORDER BY next_attempt_at, id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED)
    RETURNING id`;
  if (rows.length === 0) return [];
  return db.prisma.outboxEvent.findMany({
    where: { id: { in: rows.map((r) => BigInt(r.id)) } },
    orderBy: { id: "asc" },
  });
}

/** Marks an event done; `payload` replaces the stored one when given (e.g. what was sent). */
export async function completeEvent(
  db: Database,
  id: bigint,
  now: Date,
  payload?: JsonObject,
): Promise<void> {
  await db.prisma.outboxEvent.update({
    where: { id },
    data: {
      doneAt: now,
      lastError: null,
      ...(payload === undefined ? {} : { payload: payload as object }),
    },
  });
}

export interface FailureOutcome {
  attempts: number;
  gaveUp: boolean;
  nextAttemptAt: Date | null;
}

/**
 * Records a failed attempt: attempts + 1 and the error; the next attempt after `delayMs`, or,
 * once `maxAttempts` is reached, done with "gave up after N attempts: <error>".
 * `error` must already be free of secrets.
 */
export async function failEvent(
  db: Database,
  event: Pick<OutboxEvent, "id" | "attempts">,
  error: string,
  now: Date,
  delayMs: number,
  maxAttempts: number,
): Promise<FailureOutcome> {
  const attempts = event.attempts + 1;
  const gaveUp = attempts >= maxAttempts;
  const nextAttemptAt = gaveUp ? null : new Date(now.getTime() + delayMs);
  await db.prisma.outboxEvent.update({
    where: { id: event.id },
    data: {
      attempts,
      lastError: (gaveUp ? `gave up after ${attempts} attempts: ${error}` : error).slice(0, 2000),
      ...(gaveUp ? { doneAt: now } : { nextAttemptAt: nextAttemptAt! }),
    },
  });
  return { attempts, gaveUp, nextAttemptAt };
}

/** Makes a pending event due now with a new payload (e.g. the person linked another sheet). */
export async function retryNow(
  db: Database,
  id: bigint,
  payload: JsonObject,
  now: Date,
): Promise<boolean> {
  const result = await db.prisma.outboxEvent.updateMany({
    where: { id, doneAt: null },
    data: { nextAttemptAt: now, payload: payload as object },
  });
  return result.count === 1;
}

/**
 * Deletes done events of a kind finished before `before`, keeping each person's latest event
 * (it records what was last done for them). Returns how many were deleted.
 */
export async function pruneDone(db: Database, kind: OutboxKind, before: Date): Promise<number> {
  return db.prisma.$executeRaw`
    DELETE FROM outbox_events o
    WHERE o.kind = ${kind}::"OutboxKind" AND o.done_at IS NOT NULL AND o.done_at < ${before}
      AND EXISTS (
        SELECT 1 FROM outbox_events newer
        WHERE newer.kind = o.kind AND newer.user_id = o.user_id AND newer.id > o.id)`;
}

/**
 * Moves a pending event's next attempt to `at` without counting a failed attempt (it waited for
 * a quota, or was claimed and not started); `payload` replaces the stored one when given.
 */
export async function postponeEvent(
  db: Database,
  id: bigint,
  at: Date,
  payload?: JsonObject,
): Promise<void> {
  await db.prisma.outboxEvent.updateMany({
    where: { id, doneAt: null },
    data: { nextAttemptAt: at, ...(payload === undefined ? {} : { payload: payload as object }) },
  });
}
