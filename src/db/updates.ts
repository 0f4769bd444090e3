// Telegram updates and who handles them. A row is a claim (holder, since when) until its handler
// finished (done_at). A claim without done_at whose lease ran out belongs to a handling that
// died (kill -9) or gave up, and is taken over by the next claim; a fresh one means the update is
// being handled right now. Each statement is atomic, so two deliveries racing get one "claimed".
import type { Database } from "./client.js";

export type UpdateClaim =
  /** this holder may handle the update now */
  | "claimed"
  /**
   * this holder may handle the update now, taking it over from another holder whose handling
   * did not finish (its lease ran out): some of that handling's work may have been done
   */
  | "resumed"
  /** the update was handled before: a re-delivery */
  | "done"
  /** someone else holds a claim whose lease has not run out: deliver again later */
  | "in-progress";

/**
 * Claims the update for `holder`: succeeds for a new update, for a claim `holder` already has,
 * and for a claim not done that was taken more than `leaseMs` ago (the lease ran out). Times are
 * the database's clock (one clock for all instances) unless `at` is given (tests).
 */
export async function claimUpdate(
  db: Database,
  updateId: number,
  claim: { holder: string; leaseMs: number; at?: Date },
): Promise<UpdateClaim> {
  // pg directly (Database.sql): this runs for every update, and needs no model mapping
  const claimed = await db.sql<{ previous: string | null }>(
    `WITH previous AS (SELECT claimed_by FROM processed_updates WHERE update_id = $1::bigint)
    INSERT INTO processed_updates (update_id, claimed_at, claimed_by)
    VALUES ($1::bigint, COALESCE($2::timestamptz, now()), $3::text)
    ON CONFLICT (update_id) DO UPDATE
      SET claimed_at = EXCLUDED.claimed_at, claimed_by = EXCLUDED.claimed_by
      WHERE processed_updates.done_at IS NULL
        AND (processed_updates.claimed_at < EXCLUDED.claimed_at - $4::int * interval '1 millisecond'
          OR processed_updates.claimed_by = EXCLUDED.claimed_by)
    RETURNING (SELECT claimed_by FROM previous) AS previous`,
    [updateId, claim.at ?? null, claim.holder, claim.leaseMs],
  );
  if (claimed.length === 1) {
    const previous = claimed[0].previous;
    return previous === null || previous === claim.holder ? "claimed" : "resumed";
  }
  const row = await db.prisma.processedUpdate.findUnique({
    where: { updateId: BigInt(updateId) },
    select: { doneAt: true },
  });
  return row?.doneAt ? "done" : "in-progress";
}

/**
 * Marks the update handled (whoever holds the claim now: the work was done either way), at the
 * database's clock unless `at` is given.
 */
export async function finishUpdate(db: Database, updateId: number, at?: Date): Promise<void> {
  await db.sql(
    `UPDATE processed_updates SET done_at = COALESCE($2::timestamptz, now())
    WHERE update_id = $1::bigint AND done_at IS NULL`,
    [updateId, at ?? null],
  );
}

/** Gives the claim up without marking it done, so that the next delivery handles the update. */
export async function releaseUpdate(db: Database, updateId: number, holder: string): Promise<void> {
  await db.prisma.processedUpdate.deleteMany({
    where: { updateId: BigInt(updateId), claimedBy: holder, doneAt: null },
  });
}

/**
 * Forgets updates handled before `before`, and claims taken before it that never finished (they
 * can no longer be re-delivered).
 */
export async function pruneProcessedUpdates(db: Database, before: Date): Promise<number> {
  const result = await db.prisma.processedUpdate.deleteMany({
    where: { OR: [{ doneAt: { lt: before } }, { doneAt: null, claimedAt: { lt: before } }] },
  });
  return result.count;
}
