-- One training run per queue job key (person + night, or an admin request): a retried or
-- re-enqueued job finds its run instead of creating a second one.
ALTER TABLE "training_runs" ADD COLUMN "job_key" TEXT;

CREATE UNIQUE INDEX "training_runs_job_key_key" ON "training_runs"("job_key");
