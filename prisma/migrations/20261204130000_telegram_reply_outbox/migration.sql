-- Replies of webhook updates that were acknowledged before they were sent (src/app/reply-outbox.ts):
-- one row per message an update's handling sends once Telegram was told the update is handled
-- (update id + the message's position in that handling). A row is claimed by the process that
-- sends it (claimed_by, claimed_at) and marked sent with Telegram's answer (sent_at, result); a
-- row left unsent by a process that died is sent by the next instance once its claim is stale.
CREATE TABLE "telegram_reply_outbox" (
    "update_id" BIGINT NOT NULL,
    "position" INTEGER NOT NULL,
    "method" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "result" JSONB,
    "claimed_by" TEXT NOT NULL,
    "claimed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "telegram_reply_outbox_pkey" PRIMARY KEY ("update_id","position")
);

CREATE INDEX "telegram_reply_outbox_sent_at_claimed_at_idx" ON "telegram_reply_outbox"("sent_at", "claimed_at");
