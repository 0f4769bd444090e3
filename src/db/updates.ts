// Telegram update ids already handled: claimed before processing (insert first), so that a
// re-delivered update is recognised and skipped even when two deliveries race.
import type { Database } from "./client.js";

/** Records the update id; true when this call claimed it, false when it was already processed. */
export async function claimUpdate(db: Database, updateId: number): Promise<boolean> {
  const inserted = await db.prisma.$executeRaw`
    INSERT INTO processed_updates (update_id) VALUES (${BigInt(updateId)})
    ON CONFLICT (update_id) DO NOTHING`;
  return inserted === 1;
}

/** Forgets processed update ids older than `before` (they can no longer be re-delivered). */
export async function pruneProcessedUpdates(db: Database, before: Date): Promise<number> {
  const result = await db.prisma.processedUpdate.deleteMany({
    where: { processedAt: { lt: before } },
  });
  return result.count;
}
