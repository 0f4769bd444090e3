// Scheduled work (node-schedule), safe with several instances running the same schedules:
//  - plan push: a tick every minute finds people whose local plan time has passed (within a
//    catch-up window) and pushes each one's plan, claimed as JobRun("plan-push", "<id>:<day>");
//  - nightly retrain: RETRAIN_CRON (UTC) retrains everyone with active habits, claimed as
//    JobRun("nightly-retrain", "<scheduled instant>"), through the shared retrain queue.
// Whoever inserts the JobRun row first does the work; the others skip it.
import { hostname } from "node:os";
import schedule from "node-schedule";
import type { LocalDate } from "../../coach/days.js";
import { nightlyKey, planPushKey } from "../../coach/idempotency.js";
import { claimedKeys, runOnce } from "../../db/jobs.js";
import { peopleWithActiveHabits } from "../../db/operations.js";
import { onboardedPeopleWithActiveHabits } from "../../db/users.js";
import type { User } from "../../generated/prisma/client.js";
import type { AppDeps } from "../deps.js";
import { RetrainBusyError, type RetrainOutcome } from "../training/retrain.js";
import { duePlanPushes } from "./plan-time.js";

export const PLAN_PUSH_JOB = "plan-push";
export const NIGHTLY_RETRAIN_JOB = "nightly-retrain";
/** A plan whose time passed longer ago than this (e.g. the bot was down) is not pushed late. */
export const PLAN_CATCH_UP_MS = 3 * 3_600_000;

/** Sends the person's plan for `day` (the composition root passes the bot's plan sender). */
export type SendMorningPlan = (person: User, day: LocalDate) => Promise<void>;

export interface PlanTickResult {
  due: number;
  sent: number;
  /** already claimed by this or another instance */
  skipped: number;
  failed: number;
}

export interface NightlyResult {
  ran: boolean;
  key: string;
  outcomes: RetrainOutcome[];
}

export interface ScheduleOptions {
  /** Name recorded in JobRun.instance (default: host name and pid). */
  instance?: string;
  catchUpMs?: number;
  /** Don't register node-schedule jobs (tests call tickPlans / runNightly directly). */
  manual?: boolean;
}

export interface Schedules {
  /** One plan-push tick at `now` (default deps.now()). */
  tickPlans(now?: Date): Promise<PlanTickResult>;
  /** The nightly retrain for the occurrence scheduled at `scheduledAt`. */
  runNightly(scheduledAt: Date): Promise<NightlyResult>;
  /**
   * Cancels the node-schedule jobs and waits for a plan tick in progress. Call
   * deps.retrain.shutdown() afterwards to end a nightly training in progress.
   */
  stop(): Promise<void>;
}

export function startSchedules(
  deps: AppDeps,
  sendPlan: SendMorningPlan,
  options: ScheduleOptions = {},
): Schedules {
  const instance = options.instance ?? `${hostname()}:${process.pid}`;
  const catchUpMs = options.catchUpMs ?? PLAN_CATCH_UP_MS;
  const log = deps.log.child({ component: "schedule", instance });
  let ticking: Promise<PlanTickResult> | null = null;
  let nightly: Promise<NightlyResult> | null = null;
  let stopped = false;
  const jobs: schedule.Job[] = [];

  async function tick(now: Date): Promise<PlanTickResult> {
    const { db } = deps;
    const people = await onboardedPeopleWithActiveHabits(db);
    const { due, skipped: unreadable } = duePlanPushes(people, now, catchUpMs);
    for (const s of unreadable)
      log.warn({ userId: s.personId, reason: s.reason }, "plan time skipped");
    const result: PlanTickResult = { due: due.length, sent: 0, skipped: 0, failed: 0 };
    if (due.length === 0) return result;
    const keys = due.map((d) => planPushKey(d.personId, d.day));
    const taken = await claimedKeys(db, PLAN_PUSH_JOB, keys);
    const byId = new Map(people.map((p) => [p.id, p]));
    for (const d of due) {
      const key = planPushKey(d.personId, d.day);
      if (taken.has(key)) {
        result.skipped++;
        continue;
      }
      try {
        const outcome = await runOnce(db, PLAN_PUSH_JOB, key, instance, () =>
          sendPlan(byId.get(d.personId)!, d.day),
        );
        if (outcome.ran) result.sent++;
        else result.skipped++;
      } catch (error) {
        result.failed++;
        log.error({ err: error, userId: d.personId, day: d.day }, "morning plan push failed");
      }
    }
    if (result.sent + result.failed > 0) log.info({ ...result }, "plan push tick");
    return result;
  }

  async function nightlyRun(scheduledAt: Date): Promise<NightlyResult> {
    const key = nightlyKey(scheduledAt);
    const outcomes: RetrainOutcome[] = [];
    const service = deps.retrain;
    const claimed = await runOnce(deps.db, NIGHTLY_RETRAIN_JOB, key, instance, async () => {
      const people = await peopleWithActiveHabits(deps.db);
      log.info({ key, people: people.length }, "nightly retrain started");
      for (const person of people) {
        if (stopped) {
          log.info({ key }, "nightly retrain interrupted by shutdown");
          break;
        }
        try {
          outcomes.push(await service.enqueue({ userId: person.id, trigger: "nightly" }));
        } catch (error) {
          if (!(error instanceof RetrainBusyError)) throw error;
          log.info({ userId: person.id }, "nightly retrain skipped: a run is already queued");
        }
      }
      const failed = outcomes.filter((o) => o.status === "failed").length;
      const activated = outcomes.filter((o) => o.activated).length;
      log.info({ key, runs: outcomes.length, failed, activated }, "nightly retrain finished");
    });
    return { ran: claimed.ran, key, outcomes };
  }

  const schedules: Schedules = {
    tickPlans(now = deps.now()) {
      // ticks never overlap: a slow tick makes the next one wait for it
      const run = (ticking ?? Promise.resolve()).catch(() => {}).then(() => tick(now));
      ticking = run;
      return run;
    },
    runNightly(scheduledAt) {
      const run = (nightly ?? Promise.resolve())
        .catch(() => {})
        .then(() => nightlyRun(scheduledAt));
      nightly = run;
      return run;
    },
    async stop() {
      stopped = true;
      for (const job of jobs) job.cancel();
      // A nightly retrain in progress is not awaited (it can take hours): it stops before the
      // next person, and the run in progress ends when the retrain service shuts down.
      await Promise.allSettled([ticking].filter((p) => p !== null));
    },
  };

  if (!options.manual) {
    const planJob = schedule.scheduleJob("* * * * *", () => {
      schedules.tickPlans().catch((error) => log.error({ err: error }, "plan push tick failed"));
    });
    if (planJob) jobs.push(planJob);
    // catch up right away after a restart
    schedules.tickPlans().catch((error) => log.error({ err: error }, "plan push tick failed"));
    const cron = deps.config.retrainCron;
    if (cron !== "off") {
      const retrainJob = schedule.scheduleJob({ rule: cron, tz: "Etc/UTC" }, (fireDate: Date) => {
        schedules
          .runNightly(fireDate)
          .catch((error) => log.error({ err: error }, "nightly retrain failed"));
      });
      if (retrainJob) jobs.push(retrainJob);
      else
        log.error(
          { cron },
          "RETRAIN_CRON is not a schedule node-schedule understands; nightly retrain disabled",
        );
    }
  }
  return schedules;
}
