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

export interface DuePlanPush {
  personId: number;
  /** The person's day at the push moment (what /plan shows then). */
  day: LocalDate;
  at: Date;
}

/**
 * People whose plan time has passed within the last `catchUpMs` (default 3 h): the ones a tick
 * of the scheduler should push now, unless already claimed. The window lets an instance that
 * was down at 07:30 still send the plan at 08:10; older plans are not pushed late.
 * People with an unreadable plan time or zone are skipped (and reported in `skipped`).
 */
export function duePlanPushes(
  people: PlanSchedulePerson[],
  now: Date,
  catchUpMs = 3 * 3_600_000,
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
    if (now.getTime() - occurrence.at.getTime() < catchUpMs) {
      const day = dayOf(occurrence.at, p.timezone, p.dayStartHour);
      due.push({ personId: p.id, day, at: occurrence.at });
    }
  }
  return { due, skipped };
}
