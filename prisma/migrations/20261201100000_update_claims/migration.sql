-- An update counts as processed only when its handler finished: the row is a claim (who, since
-- when) until done_at is set. Rows written before this migration were claimed before their
-- handler ran and are treated as done.

-- AlterTable
ALTER TABLE "processed_updates" RENAME COLUMN "processed_at" TO "claimed_at";
ALTER TABLE "processed_updates" ADD COLUMN "claimed_by" TEXT;
ALTER TABLE "processed_updates" ADD COLUMN "done_at" TIMESTAMPTZ(3);
UPDATE "processed_updates" SET "done_at" = "claimed_at";

-- DropIndex
DROP INDEX "processed_updates_processed_at_idx";

-- CreateIndex
CREATE INDEX "processed_updates_done_at_idx" ON "processed_updates"("done_at");

-- CreateIndex
CREATE INDEX "processed_updates_claimed_at_idx" ON "processed_updates"("claimed_at");
