-- The process (host:pid, or a worker's --instance name) that trained a run, for per-worker
-- throughput on /status and GET /metrics; finished runs are counted by finished_at.
ALTER TABLE "training_runs" ADD COLUMN "trained_by" TEXT;

CREATE INDEX "training_runs_finished_at_idx" ON "training_runs"("finished_at");
