// The optional evening check-in (off by default; /settings checkin 21:00): at the person's
// chosen local time, a message listing what is still open in that day's plan, with buttons.
// A tick (every minute, with the plan push tick) finds the people whose check-in time has passed
// within CHECK_IN_WINDOW_MS and before the end of their day, and sends each one's check-in once
// per person-day across instances: JobRun("evening-check-in", "<id>:<day>") is claimed by
// whoever inserts it first. A failed send is recorded on that row and not retried (the person
// still has /plan); someone who blocked the bot is marked, as for the morning plan.
import { addDays, dayOf, instantOf, type LocalDate } from "../../coach/days.js";
import { checkInKey } from "../../coach/idempotency.js";
import { claimJob, finishJob } from "../../db/jobs.js";
import { peopleWithCheckIns } from "../../db/plan-settings.js";
import type { User } from "../../generated/prisma/client.js";
import type { Logger } from "../../logger.js";
import type { AppDeps } from "../deps.js";
import { markPersonUnreachable } from "../people.js";
import { latestPlanOccurrence, parsePlanTime } from "./plan-time.js";

export const CHECK_IN_JOB = "evening-check-in";
/** How long after its time a check-in is still sent (after downtime): 3 hours. */
export const CHECK_IN_WINDOW_MS = 3 * 3_600_000;

/** What became of one check-in (the bot's sender words the message and reads Telegram). */
export type CheckInOutcome =
  | { kind: "sent"; open: number }
  /** nothing to send: the day has passed, or nothing in the plan is open */
  | { kind: "not-needed"; reason: string }
  /** Telegram refuses messages to the person (403) */
  | { kind: "unreachable"; reason: string }
  | { kind: "failed"; reason: string };

export type SendCheckIn = (person: User, day: LocalDate) => Promise<CheckInOutcome>;

export interface DueCheckIn {
  personId: number;
  /** the person's day at the check-in time */
  day: LocalDate;
  at: Date;
}

/**
 * People whose check-in time has passed, at most CHECK_IN_WINDOW_MS ago and before the end of
 * their day (their day-start hour the next morning). Unreadable times or zones are skipped.
 */
export function dueCheckIns(
  people: Pick<User, "id" | "timezone" | "dayStartHour" | "checkInTime">[],
  now: Date,
): DueCheckIn[] {
  const due: DueCheckIn[] = [];
  for (const p of people) {
    const clock = p.checkInTime === null ? null : parsePlanTime(p.checkInTime);
    if (clock === null) continue;
    try {
      const { at } = latestPlanOccurrence(now, clock, p.timezone);
      const day = dayOf(at, p.timezone, p.dayStartHour);
      const endOfDay = instantOf(addDays(day, 1), p.dayStartHour, 0, p.timezone);
      const until = Math.min(at.getTime() + CHECK_IN_WINDOW_MS, endOfDay.getTime());
      if (now.getTime() < until) due.push({ personId: p.id, day, at });
    } catch {
      // an unknown zone: no check-in (the morning plan's tick logs the zone problem)
    }
  }
  return due;
}

export interface CheckInTickResult {
  due: number;
  sent: number;
  /** claimed elsewhere (or earlier), or nothing open */
  skipped: number;
  failed: number;
}

/** One check-in tick at `now`: sends every due check-in this instance claims. */
export async function tickCheckIns(
  deps: AppDeps,
  send: SendCheckIn,
  now: Date,
  instance: string,
  log: Logger,
): Promise<CheckInTickResult> {
  const people = await peopleWithCheckIns(deps.db);
  const due = dueCheckIns(people, now);
  const result: CheckInTickResult = { due: due.length, sent: 0, skipped: 0, failed: 0 };
  const byId = new Map(people.map((p) => [p.id, p]));
  for (const d of due) {
    const claim = await claimJob(deps.db, CHECK_IN_JOB, checkInKey(d.personId, d.day), instance);
    if (claim === null) {
      result.skipped++;
      continue;
    }
    let outcome: CheckInOutcome;
    try {
      outcome = await send(byId.get(d.personId)!, d.day);
    } catch (error) {
      outcome = { kind: "failed", reason: error instanceof Error ? error.message : String(error) };
    }
    const fields = { userId: d.personId, day: d.day };
    if (outcome.kind === "sent") result.sent++;
    else if (outcome.kind === "not-needed") {
      result.skipped++;
      log.info({ ...fields, reason: outcome.reason }, "evening check-in not sent");
    } else {
      result.failed++;
      if (outcome.kind === "unreachable") await markPersonUnreachable(deps, d.personId);
      log.warn({ ...fields, reason: outcome.reason }, "evening check-in failed");
    }
    await finishJob(
      deps.db,
      claim.id,
      outcome.kind === "failed" || outcome.kind === "unreachable" ? outcome.reason : undefined,
    );
  }
  if (result.sent + result.failed > 0) log.info({ ...result }, "evening check-in tick");
  return result;
}
