-- Outgoing Bot API messages shared by every instance (src/app/send-budget.ts): the counters of
-- rate-limiter-flexible's Postgres store, one row per limiter key ("all", a chat id, a group),
-- in the library's own layout (key, points used in the window, window end in epoch ms).
-- Rows whose window ended an hour ago are deleted by the limiter.
CREATE TABLE "telegram_send_budget" (
    "key" TEXT NOT NULL,
    "points" INTEGER NOT NULL DEFAULT 0,
    "expire" BIGINT,

    CONSTRAINT "telegram_send_budget_pkey" PRIMARY KEY ("key")
);
