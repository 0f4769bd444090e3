// Scheduled work (node-schedule), safe with several instances running the same schedules:
//  - plan push: a tick every minute finds people whose local plan time has passed and whose
//    cut-off has not (planCutOff) and pushes each one's plan. JobRun("plan-push", "<id>:<day>")
//    is the person-day: each attempt is claimed on it (one instance at a time), a failed one is
//    retried with backoff (or after Telegram's retry_after) until the cut-off, a person who
//    blocked the bot is marked and not pushed to again until they write.
//  - evening check-in (optional per person): the same minute tick runs check-in.ts, once per
//    person-day across instances.
// (The nightly retrain is a schedule of the training queue: src/app/training/nightly.ts.)
// Whoever claims the JobRun row first does the work; the others skip it.
import { hostname } from "node:os";
import schedule from "node-schedule";
import type { LocalDate } from "../../coach/days.js";
import { planPushKey } from "../../coach/idempotency.js";
import { claimAttempt, dueAttemptKeys, recordAttempt } from "../../db/jobs.js";
import { onboardedPeopleWithActiveHabits } from "../../db/users.js";
import type { User } from "../../generated/prisma/client.js";
import type { AppDeps } from "../deps.js";
import { markPersonUnreachable } from "../people.js";
import { type CheckInTickResult, type SendCheckIn, tickCheckIns } from "./check-in.js";
import { type DuePlanPush, duePlanPushes } from "./plan-time.js";

export const PLAN_PUSH_JOB = "plan-push";
/** Retry delays after a failed push: 1, 2, 4, 8, 16, then every 30 minutes (until the cut-off). */
export const PLAN_RETRY_FIRST_MS = 60_000;
export const PLAN_RETRY_MAX_MS = 30 * 60_000;
/**
 * How long a claimed attempt keeps others off: longer than a send can take (the Telegram client
 * retries short 429s in-process, up to 3 × 60 s). An instance that dies mid-attempt is retried
 * by another one after this.
 */
export const PLAN_ATTEMPT_LEASE_MS = 10 * 60_000;

/** The wait before attempt `attempts + 1`, after `attempts` failed ones. */
export function planRetryDelayMs(attempts: number): number {
  return Math.min(PLAN_RETRY_FIRST_MS * 2 ** Math.max(0, attempts - 1), PLAN_RETRY_MAX_MS);
}

/** What became of one attempt to push a morning plan (the plan sender words Telegram's answer). */
export type PlanPushOutcome =
  | { kind: "sent" }
  /** nothing to send (the day has passed, no plan, already sent): done */
  | { kind: "not-needed"; reason: string }
  /** Telegram refuses messages to the person (blocked the bot, deactivated): marked, not retried */
  | { kind: "unreachable"; reason: string }
  /** Telegram refused this message for good (a 4xx other than 403 and 429): not retried */
  | { kind: "rejected"; reason: string }
  /** worth retrying (5xx, network, rate limit): not before `retryAfterMs` when Telegram says */
  | { kind: "failed"; reason: string; retryAfterMs?: number };

/**
 * Sends the person's plan for `day` (the composition root passes the bot's plan sender). A
 * thrown error counts as a failed attempt, retried.
 */
export type SendMorningPlan = (person: User, day: LocalDate) => Promise<PlanPushOutcome>;

export interface PlanTickResult {
  due: number;
  sent: number;
  /** sent, being attempted or waiting for a retry elsewhere, or nothing to send */
  skipped: number;
  /** attempts that failed (retried later unless the cut-off comes first) or were refused */
  failed: number;
  /** people found to have blocked the bot */
  unreachable: number;
}

export interface ScheduleOptions {
  /** Name recorded in JobRun.instance (default: host name and pid). */
  instance?: string;
  /** Don't register node-schedule jobs (tests call tickPlans directly). */
  manual?: boolean;
  /** Sends evening check-ins (check-in.ts); without it, no check-ins are sent. */
  sendCheckIn?: SendCheckIn;
}

export interface Schedules {
  /** One plan-push tick at `now` (default deps.now()). */
  tickPlans(now?: Date): Promise<PlanTickResult>;
  /** One evening check-in tick at `now` (default deps.now()); nothing without sendCheckIn. */
  tickCheckIns(now?: Date): Promise<CheckInTickResult>;
  /** Cancels the node-schedule jobs and waits for a plan or check-in tick in progress. */
  stop(): Promise<void>;
}

export function startSchedules(
  deps: AppDeps,
  sendPlan: SendMorningPlan,
  options: ScheduleOptions = {},
): Schedules {
  const instance = options.instance ?? `${hostname()}:${process.pid}`;
  const log = deps.log.child({ component: "schedule", instance });
  let ticking: Promise<PlanTickResult> | null = null;
  let checkingIn: Promise<CheckInTickResult> | null = null;
  let stopped = false;
  const jobs: schedule.Job[] = [];

  async function tick(now: Date): Promise<PlanTickResult> {
    const { db } = deps;
    const people = await onboardedPeopleWithActiveHabits(db);
    const { due, skipped: unreadable } = duePlanPushes(people, now);
    for (const s of unreadable)
      log.warn({ userId: s.personId, reason: s.reason }, "plan time skipped");
    const result: PlanTickResult = {
      due: due.length,
      sent: 0,
      skipped: 0,
      failed: 0,
      unreachable: 0,
    };
    if (due.length === 0) return result;
    // the tick's instant as it runs (a long tick claims and schedules from the time it has reached)
    const started = performance.now();
    const at = () => new Date(now.getTime() + (performance.now() - started));
    const byKey = new Map(due.map((d) => [planPushKey(d.personId, d.day), d]));
    const attemptable = new Set(
      await dueAttemptKeys(db, PLAN_PUSH_JOB, [...byKey.keys()], instance, now),
    );
    const byId = new Map(people.map((p) => [p.id, p]));
    for (const [key, push] of byKey) {
      if (stopped || !attemptable.has(key)) {
        result.skipped++;
        continue;
      }
      try {
        const leaseUntil = new Date(at().getTime() + PLAN_ATTEMPT_LEASE_MS);
        const attempt = await claimAttempt(db, PLAN_PUSH_JOB, key, instance, now, leaseUntil);
        if (attempt === null) {
          result.skipped++;
          continue;
        }
        const outcome = await attemptPush(byId.get(push.personId)!, push);
        const kept = await recordAttempt(
          db,
          attempt,
          at(),
          await settle(outcome, push, attempt.attempts),
        );
        if (!kept) log.warn({ userId: push.personId, day: push.day }, "plan push claim lost");
        if (outcome.kind === "sent") result.sent++;
        else if (outcome.kind === "not-needed") result.skipped++;
        else if (outcome.kind === "unreachable") result.unreachable++;
        else result.failed++;
      } catch (error) {
        result.failed++;
        log.error({ err: error, userId: push.personId, day: push.day }, "morning plan push failed");
      }
    }
    if (result.sent + result.failed + result.unreachable > 0)
      log.info({ ...result }, "plan push tick");
    return result;

    async function attemptPush(person: User, push: DuePlanPush): Promise<PlanPushOutcome> {
      try {
        return await sendPlan(person, push.day);
      } catch (error) {
        return { kind: "failed", reason: error instanceof Error ? error.message : String(error) };
      }
    }

    /** The JobRun record of an attempt's outcome, and its side effects (the blocked mark, logs). */
    async function settle(
      outcome: PlanPushOutcome,
      push: DuePlanPush,
      attempts: number,
    ): Promise<{ error: string | null; nextAttemptAt: Date | null }> {
      const fields = { userId: push.personId, day: push.day, attempts };
      switch (outcome.kind) {
        case "sent":
          return { error: null, nextAttemptAt: null };
        case "not-needed":
          log.info({ ...fields, reason: outcome.reason }, "morning plan not pushed");
          return { error: null, nextAttemptAt: null };
        case "unreachable":
          await markPersonUnreachable(deps, push.personId);
          log.info({ ...fields, reason: outcome.reason }, "person blocked the bot; plans paused");
          return { error: outcome.reason, nextAttemptAt: null };
        case "rejected":
          log.error({ ...fields, reason: outcome.reason }, "morning plan refused by Telegram");
          return { error: outcome.reason, nextAttemptAt: null };
        case "failed": {
          const wait = Math.max(planRetryDelayMs(attempts), outcome.retryAfterMs ?? 0);
          const next = new Date(at().getTime() + wait);
          if (next.getTime() >= push.cutOff.getTime()) {
            log.error(
              { ...fields, reason: outcome.reason },
              "morning plan push failed; cut-off reached",
            );
            return {
              error: `${outcome.reason} (no retry before the cut-off)`,
              nextAttemptAt: null,
            };
          }
          log.warn(
            { ...fields, reason: outcome.reason, nextAttemptAt: next.toISOString() },
            "morning plan push failed; will retry",
          );
          return { error: outcome.reason, nextAttemptAt: next };
        }
      }
    }
  }

  const schedules: Schedules = {
    tickPlans(now = deps.now()) {
      // ticks never overlap: a slow tick makes the next one wait for it
      const run = (ticking ?? Promise.resolve()).catch(() => {}).then(() => tick(now));
      ticking = run;
      return run;
    },
    tickCheckIns(now = deps.now()) {
      const send = options.sendCheckIn;
      if (!send || stopped) {
        return Promise.resolve({ due: 0, sent: 0, skipped: 0, failed: 0 });
      }
      const run = (checkingIn ?? Promise.resolve())
        .catch(() => {})
        .then(() => tickCheckIns(deps, send, now, instance, log));
      checkingIn = run;
      return run;
    },
    async stop() {
      stopped = true;
      for (const job of jobs) job.cancel();
      await Promise.allSettled([ticking, checkingIn].filter((p) => p !== null));
    },
  };

  if (!options.manual) {
    const planJob = schedule.scheduleJob("* * * * *", () => {
      schedules.tickPlans().catch((error) => log.error({ err: error }, "plan push tick failed"));
      schedules
        .tickCheckIns()
        .catch((error) => log.error({ err: error }, "evening check-in tick failed"));
    });
    if (planJob) jobs.push(planJob);
    // catch up right away after a restart
    schedules.tickPlans().catch((error) => log.error({ err: error }, "plan push tick failed"));
  }
  return schedules;
}
