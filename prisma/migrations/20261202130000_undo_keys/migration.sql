-- An /undo carries an idempotency key like every other write from outside: a re-delivered
-- /undo (its reply failed after the retraction) finds the entry it already took back instead of
-- retracting another one.
ALTER TABLE "habit_entries" ADD COLUMN "retraction_key" TEXT;

CREATE UNIQUE INDEX "habit_entries_retraction_key_key" ON "habit_entries"("retraction_key");
