-- AlterTable
ALTER TABLE "users" ADD COLUMN "blocked_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "job_runs" ADD COLUMN "attempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN "next_attempt_at" TIMESTAMPTZ(3);
