-- CreateEnum
CREATE TYPE "HabitKind" AS ENUM ('duration', 'count', 'check');

-- CreateEnum
CREATE TYPE "EntrySource" AS ENUM ('chat', 'button', 'sheet', 'import', 'ingest');

-- CreateEnum
CREATE TYPE "MetricDirection" AS ENUM ('reach', 'keep');

-- CreateEnum
CREATE TYPE "TrainingTrigger" AS ENUM ('nightly', 'admin', 'cli');

-- CreateEnum
CREATE TYPE "TrainingStatus" AS ENUM ('queued', 'running', 'succeeded', 'failed', 'cancelled');

-- CreateEnum
CREATE TYPE "OutboxKind" AS ENUM ('sheets_mirror', 'notification');

-- CreateTable
CREATE TABLE "users" (
    "id" SERIAL NOT NULL,
    "telegram_id" BIGINT NOT NULL,
    "chat_id" BIGINT NOT NULL,
    "display_name" TEXT NOT NULL,
    "timezone" TEXT NOT NULL DEFAULT 'UTC',
    "plan_time" TEXT NOT NULL DEFAULT '07:30',
    "day_start_hour" INTEGER NOT NULL DEFAULT 4,
    "is_admin" BOOLEAN NOT NULL DEFAULT false,
    "onboarded_at" TIMESTAMPTZ(3),
    "sheet_id" TEXT,
    "ingest_token_hash" TEXT,
    "capacity_minutes" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "habits" (
    "id" SERIAL NOT NULL,
    "user_id" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "name_key" TEXT NOT NULL,
    "aliases" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "kind" "HabitKind" NOT NULL,
    "unit" TEXT NOT NULL DEFAULT '',
    "target" DOUBLE PRECISION NOT NULL,
    "days_per_week" INTEGER NOT NULL,
    "levels" DOUBLE PRECISION[],
    "exclusive_group" TEXT,
    "actor_group" INTEGER NOT NULL DEFAULT 0,
    "sort_order" INTEGER NOT NULL DEFAULT 0,
    "archived_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "habits_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "habit_entries" (
    "id" BIGSERIAL NOT NULL,
    "user_id" INTEGER NOT NULL,
    "habit_id" INTEGER NOT NULL,
    "day" DATE NOT NULL,
    "amount" DOUBLE PRECISION NOT NULL,
    "source" "EntrySource" NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "note" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "retracted_at" TIMESTAMPTZ(3),

    CONSTRAINT "habit_entries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "metrics" (
    "id" SERIAL NOT NULL,
    "user_id" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "name_key" TEXT NOT NULL,
    "unit" TEXT NOT NULL DEFAULT '',
    "target" DOUBLE PRECISION,
    "tolerance" DOUBLE PRECISION,
    "direction" "MetricDirection" NOT NULL DEFAULT 'reach',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "metrics_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "metric_samples" (
    "id" BIGSERIAL NOT NULL,
    "user_id" INTEGER NOT NULL,
    "metric_id" INTEGER NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "measured_at" TIMESTAMPTZ(3) NOT NULL,
    "source" "EntrySource" NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "metric_samples_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "plans" (
    "id" SERIAL NOT NULL,
    "user_id" INTEGER NOT NULL,
    "day" DATE NOT NULL,
    "items" JSONB NOT NULL,
    "log_prob" DOUBLE PRECISION,
    "produced_by" TEXT NOT NULL,
    "model_id" INTEGER,
    "sent_at" TIMESTAMPTZ(3),
    "message_id" BIGINT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "plans_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "daily_states" (
    "id" SERIAL NOT NULL,
    "user_id" INTEGER NOT NULL,
    "day" DATE NOT NULL,
    "emas" JSONB NOT NULL,
    "reward" DOUBLE PRECISION NOT NULL,
    "group_rewards" DOUBLE PRECISION[],
    "observation" DOUBLE PRECISION[],
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "daily_states_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "policy_models" (
    "id" SERIAL NOT NULL,
    "user_id" INTEGER,
    "bytes" BYTEA NOT NULL,
    "format_version" INTEGER NOT NULL,
    "spec" JSONB NOT NULL,
    "hyperparameters" JSONB NOT NULL,
    "evaluation" JSONB,
    "active" BOOLEAN NOT NULL DEFAULT false,
    "training_run_id" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "policy_models_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "training_runs" (
    "id" SERIAL NOT NULL,
    "user_id" INTEGER,
    "trigger" "TrainingTrigger" NOT NULL,
    "status" "TrainingStatus" NOT NULL DEFAULT 'queued',
    "requested_by" BIGINT,
    "hyperparameters" JSONB NOT NULL,
    "summary" JSONB,
    "error" TEXT,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "training_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "training_metrics" (
    "id" BIGSERIAL NOT NULL,
    "run_id" INTEGER NOT NULL,
    "step" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "training_metrics_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbox_events" (
    "id" BIGSERIAL NOT NULL,
    "user_id" INTEGER,
    "kind" "OutboxKind" NOT NULL,
    "payload" JSONB NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "done_at" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "outbox_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "processed_updates" (
    "update_id" BIGINT NOT NULL,
    "processed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "processed_updates_pkey" PRIMARY KEY ("update_id")
);

-- CreateTable
CREATE TABLE "job_runs" (
    "id" SERIAL NOT NULL,
    "job" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "instance" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "error" TEXT,

    CONSTRAINT "job_runs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_telegram_id_key" ON "users"("telegram_id");

-- CreateIndex
CREATE UNIQUE INDEX "users_ingest_token_hash_key" ON "users"("ingest_token_hash");

-- CreateIndex
CREATE INDEX "habits_user_id_archived_at_sort_order_idx" ON "habits"("user_id", "archived_at", "sort_order");

-- CreateIndex
CREATE UNIQUE INDEX "habits_user_id_name_key_key" ON "habits"("user_id", "name_key");

-- CreateIndex
CREATE UNIQUE INDEX "habit_entries_idempotency_key_key" ON "habit_entries"("idempotency_key");

-- CreateIndex
CREATE INDEX "habit_entries_user_id_day_idx" ON "habit_entries"("user_id", "day");

-- CreateIndex
CREATE INDEX "habit_entries_habit_id_day_idx" ON "habit_entries"("habit_id", "day");

-- CreateIndex
CREATE INDEX "habit_entries_user_id_created_at_idx" ON "habit_entries"("user_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "metrics_user_id_name_key_key" ON "metrics"("user_id", "name_key");

-- CreateIndex
CREATE INDEX "metric_samples_metric_id_measured_at_idx" ON "metric_samples"("metric_id", "measured_at");

-- CreateIndex
CREATE UNIQUE INDEX "metric_samples_user_id_metric_id_measured_at_key" ON "metric_samples"("user_id", "metric_id", "measured_at");

-- CreateIndex
CREATE UNIQUE INDEX "plans_user_id_day_key" ON "plans"("user_id", "day");

-- CreateIndex
CREATE UNIQUE INDEX "daily_states_user_id_day_key" ON "daily_states"("user_id", "day");

-- CreateIndex
CREATE INDEX "policy_models_user_id_created_at_idx" ON "policy_models"("user_id", "created_at");

-- CreateIndex (at most one active model per user; NULL user = the shared model, also at most one)
CREATE UNIQUE INDEX "policy_models_one_active_per_user" ON "policy_models"(COALESCE("user_id", 0)) WHERE "active";

-- CreateIndex
CREATE INDEX "training_runs_status_created_at_idx" ON "training_runs"("status", "created_at");

-- CreateIndex
CREATE INDEX "training_runs_user_id_created_at_idx" ON "training_runs"("user_id", "created_at");

-- CreateIndex
CREATE INDEX "training_metrics_run_id_name_step_idx" ON "training_metrics"("run_id", "name", "step");

-- CreateIndex
CREATE INDEX "outbox_events_done_at_next_attempt_at_idx" ON "outbox_events"("done_at", "next_attempt_at");

-- CreateIndex
CREATE INDEX "processed_updates_processed_at_idx" ON "processed_updates"("processed_at");

-- CreateIndex
CREATE UNIQUE INDEX "job_runs_job_key_key" ON "job_runs"("job", "key");

-- AddForeignKey
ALTER TABLE "habits" ADD CONSTRAINT "habits_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "habit_entries" ADD CONSTRAINT "habit_entries_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "habit_entries" ADD CONSTRAINT "habit_entries_habit_id_fkey" FOREIGN KEY ("habit_id") REFERENCES "habits"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "metrics" ADD CONSTRAINT "metrics_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "metric_samples" ADD CONSTRAINT "metric_samples_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "metric_samples" ADD CONSTRAINT "metric_samples_metric_id_fkey" FOREIGN KEY ("metric_id") REFERENCES "metrics"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "plans" ADD CONSTRAINT "plans_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "plans" ADD CONSTRAINT "plans_model_id_fkey" FOREIGN KEY ("model_id") REFERENCES "policy_models"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "daily_states" ADD CONSTRAINT "daily_states_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "policy_models" ADD CONSTRAINT "policy_models_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "policy_models" ADD CONSTRAINT "policy_models_training_run_id_fkey" FOREIGN KEY ("training_run_id") REFERENCES "training_runs"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "training_runs" ADD CONSTRAINT "training_runs_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "training_metrics" ADD CONSTRAINT "training_metrics_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "training_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "outbox_events" ADD CONSTRAINT "outbox_events_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
