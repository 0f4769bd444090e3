-- Steering the plan (issue 13). A person's change to a day's plan — "not today", another
-- amount, a swap — is a revision row, append-only: the plan the planner produced stays as it
-- was in plans.items, and the plan as changed is that with each habit's latest revision applied.

-- CreateEnum
CREATE TYPE "PlanChange" AS ENUM ('not_today', 'amount', 'swap');

-- CreateTable
CREATE TABLE "plan_revisions" (
    "id" SERIAL NOT NULL,
    "plan_id" INTEGER NOT NULL,
    "user_id" INTEGER NOT NULL,
    "habit_id" INTEGER NOT NULL,
    "change" "PlanChange" NOT NULL,
    "from_amount" DOUBLE PRECISION NOT NULL,
    "to_amount" DOUBLE PRECISION NOT NULL,
    "changed_by" BIGINT NOT NULL,
    "via" "EntrySource" NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "plan_revisions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "plan_revisions_idempotency_key_key" ON "plan_revisions"("idempotency_key");

-- CreateIndex
CREATE INDEX "plan_revisions_plan_id_id_idx" ON "plan_revisions"("plan_id", "id");

-- CreateIndex
CREATE INDEX "plan_revisions_user_id_id_idx" ON "plan_revisions"("user_id", "id");

-- AddForeignKey
ALTER TABLE "plan_revisions" ADD CONSTRAINT "plan_revisions_plan_id_fkey" FOREIGN KEY ("plan_id") REFERENCES "plans"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "plan_revisions" ADD CONSTRAINT "plan_revisions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "plan_revisions" ADD CONSTRAINT "plan_revisions_habit_id_fkey" FOREIGN KEY ("habit_id") REFERENCES "habits"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The optional evening check-in: a local "HH:MM" in the person's zone; NULL = off (the default).
ALTER TABLE "users" ADD COLUMN "check_in_time" TEXT;
