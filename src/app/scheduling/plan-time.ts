// When is a person's morning plan due? Pure time arithmetic on top of the coach core's day
// functions (DST-safe through Intl): a plan time is a local "HH:MM" in the person's IANA zone.
// The plan pushed at that moment is for the person's day at that moment (coach core dayOf: a
// plan time before the day-start hour still belongs to the previous day) — the same plan /plan
// shows then.
import { addDays, dayOf, instantOf, type LocalDate, wallClockOf } from "../../coach/days.js";

export interface PlanClock {
  hour: number;
  minute: number;
}

export interface PlanSchedulePerson {
  id: number;
  timezone: string;
  /** local "HH:MM" */
  planTime: string;
  dayStartHour: number;
}

export interface PlanOccurrence {
  /** The local date the plan is for. */
  day: LocalDate;
  /** The instant the push is due. */
  at: Date;
}

/** "07:30" → { hour: 7, minute: 30 }; null for anything else. */
export function parsePlanTime(text: string): PlanClock | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (m === null) return null;
  const hour = Number(m[1]);
  const minute = Number(m[2]);
  if (hour > 23 || minute > 59) return null;
  return { hour, minute };
}

/** The instant the plan for `day` is due in `timeZone`. */
export function planInstant(day: LocalDate, clock: PlanClock, timeZone: string): Date {
  return instantOf(day, clock.hour, clock.minute, timeZone);
}

/** The latest plan occurrence at or before `now` (today's if its time has passed, else yesterday's). */
export function latestPlanOccurrence(
  now: Date,
  clock: PlanClock,
  timeZone: string,
): PlanOccurrence {
  const today = wallClockOf(now, timeZone).day;
  for (const day of [addDays(today, 1), today, addDays(today, -1), addDays(today, -2)]) {
    const at = planInstant(day, clock, timeZone);
    if (at.getTime() <= now.getTime()) return { day, at };
  }
  // unreachable: a local time two days back is always in the past
  throw new Error(`no plan occurrence found before ${now.toISOString()} in ${timeZone}`);
}

/** The first plan occurrence strictly after `now`. */
export function nextPlanOccurrence(now: Date, clock: PlanClock, timeZone: string): PlanOccurrence {
  const today = wallClockOf(now, timeZone).day;
  for (const day of [addDays(today, -1), today, addDays(today, 1), addDays(today, 2)]) {
    const at = planInstant(day, clock, timeZone);
    if (at.getTime() > now.getTime()) return { day, at };
  }
  throw new Error(`no plan occurrence found after ${now.toISOString()} in ${timeZone}`);
}

/**
 * How long after its time a morning plan is still pushed — late after downtime, or retried after
 * a failed send: 5 hours (12:30 for a 07:30 plan), and never after the end of the person's day.
 * A plan is for acting on during the day; one that arrives in the afternoon or evening mostly
 * nags, and the person can still ask for it with /plan.
 */
export const PLAN_CUT_OFF_MS = 5 * 3_600_000;

/** The instant after which the plan due at `at` for `day` is no longer pushed. */
export function planCutOff(
  at: Date,
  day: LocalDate,
  person: Pick<PlanSchedulePerson, "timezone" | "dayStartHour">,
): Date {
  const endOfDay = instantOf(addDays(day, 1), person.dayStartHour, 0, person.timezone);
  return new Date(Math.min(at.getTime() + PLAN_CUT_OFF_MS, endOfDay.getTime()));
}

export interface DuePlanPush {
  personId: number;
  /** The person's day at the push moment (what /plan shows then). */
  day: LocalDate;
  at: Date;
  /** No push (first or retried) after this instant: planCutOff. */
  cutOff: Date;
}

/**
 * People whose plan time has passed and whose cut-off (planCutOff) has not: the ones a tick of
 * the scheduler should push now, unless already sent or waiting for a retry. An instance that
 * was down at 07:30 still sends the plan at 10:10; after the cut-off it is not pushed late.
 * People with an unreadable plan time or zone are skipped (and reported in `skipped`).
 */
export function duePlanPushes(
  people: PlanSchedulePerson[],
  now: Date,
): { due: DuePlanPush[]; skipped: { personId: number; reason: string }[] } {
  const due: DuePlanPush[] = [];
  const skipped: { personId: number; reason: string }[] = [];
  for (const p of people) {
    const clock = parsePlanTime(p.planTime);
    if (clock === null) {
      skipped.push({ personId: p.id, reason: `plan time "${p.planTime}" is not HH:MM` });
      continue;
    }
    let occurrence: PlanOccurrence;
    try {
      occurrence = latestPlanOccurrence(now, clock, p.timezone);
    } catch (error) {
      skipped.push({ personId: p.id, reason: (error as Error).message });
      continue;
    }
    const day = dayOf(occurrence.at, p.timezone, p.dayStartHour);
    const cutOff = planCutOff(occurrence.at, day, p);
    if (now.getTime() < cutOff.getTime()) {
      due.push({ personId: p.id, day, at: occurrence.at, cutOff });
    }
  }
  return { due, skipped };
}
