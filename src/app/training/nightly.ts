// The nightly retrain: at RETRAIN_CRON (UTC) one job per person with active habits is queued,
// keyed by person and night, so that the night is done once across all instances and survives
// restarts (the jobs wait in the queue; whoever works the queue trains them). The queue fires
// the schedule once across instances (pg-boss cron; node-schedule in-process with PGlite) and
// the keys make a repeated firing queue nothing twice. The first instance to fire records the
// occurrence as JobRun("nightly-retrain", <scheduled minute>) for /status.
import { nightlyKey } from "../../coach/idempotency.js";
import { claimJob, finishJob } from "../../db/jobs.js";
import { peopleWithActiveHabits } from "../../db/operations.js";
import type { TrainingQueue, TrainingQueueDeps } from "./queue.js";

export const NIGHTLY_RETRAIN_JOB = "nightly-retrain";

/** The job key of a person's retrain for the night scheduled at `scheduledAt`. */
export function nightlyRetrainKey(userId: number, scheduledAt: Date): string {
  return `nightly:${userId}:${nightlyKey(scheduledAt)}`;
}

export interface NightlyResult {
  /** the occurrence, as nightlyKey */
  key: string;
  /** jobs queued now */
  queued: number;
  /** people whose job for this night was already queued (or done) */
  alreadyQueued: number;
}

/** Queues the night's retrains: one per person with active habits. */
export async function enqueueNightly(
  deps: TrainingQueueDeps,
  queue: Pick<TrainingQueue, "enqueue">,
  scheduledAt: Date,
  instance: string,
): Promise<NightlyResult> {
  const key = nightlyKey(scheduledAt);
  const log = deps.log.child({ component: "nightly", key, instance });
  const claim = await claimJob(deps.db, NIGHTLY_RETRAIN_JOB, key, instance);
  const result: NightlyResult = { key, queued: 0, alreadyQueued: 0 };
  try {
    const people = await peopleWithActiveHabits(deps.db);
    for (const person of people) {
      const queued = await queue.enqueue({
        userId: person.id,
        trigger: "nightly",
        key: nightlyRetrainKey(person.id, scheduledAt),
      });
      if (queued.kind === "queued") result.queued++;
      else result.alreadyQueued++;
    }
    if (claim) await finishJob(deps.db, claim.id);
    log.info({ ...result, people: people.length }, "nightly retrain queued");
    return result;
  } catch (error) {
    if (claim) {
      await finishJob(
        deps.db,
        claim.id,
        error instanceof Error ? error.message : String(error),
      ).catch(() => {});
    }
    throw error;
  }
}
