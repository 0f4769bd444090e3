// Every idempotency key in one place. A write from the outside carries a key derived from the
// delivery itself, so that a duplicate delivery (a re-sent update, a double tap, a re-imported
// file, a second instance running the same schedule) maps to the same key and is stored or run
// once. Pure: keys are built from what the caller passes in, never from a clock.
import type { LocalDate } from "./days.js";

/** Habit entry of a chat report: the Telegram update and the item's position in the report. */
export function reportEntryKey(updateId: number, position: number): string {
  return `tg:${updateId}:${position}`;
}

/**
 * An /undo (typed, or a tap on the undo picker): the Telegram update, so that a re-delivered
 * /undo takes back the entry it already took back, not another one.
 */
export function undoKey(updateId: number): string {
  return `undo:tg:${updateId}`;
}

/**
 * Habit entry of a simulated person's typed report (`coachrl seed`): the person, the day and the
 * item's position in that day's report, so seeding twice stores each entry once.
 */
export function simulatedReportKey(personId: number, day: LocalDate, position: number): string {
  return `sim:${personId}:${day}:${position}`;
}

/**
 * Habit entries logged with a plan button share this prefix per plan item; the n-th one of a
 * day (after n /undo's) is planButtonEntryKey(…, n), so a double tap stores once and a tap
 * after /undo stores again.
 */
export function planButtonKeyPrefix(planId: number, habitId: number): string {
  return `plan:${planId}:${habitId}:`;
}

export function planButtonEntryKey(planId: number, habitId: number, generation: number): string {
  return `${planButtonKeyPrefix(planId, habitId)}${generation}`;
}

/**
 * A change to a day's plan (a plan revision) made by one update: a typed "skip run" or a tap on
 * "Not today"; a swap stores two revisions (positions 0 and 1). A re-delivered update stores
 * nothing new.
 */
export function planRevisionKey(updateId: number, position: number): string {
  return `revise:${updateId}:${position}`;
}

/** JobRun key of a person's evening check-in for a day (the same person-day as the plan push). */
export function checkInKey(personId: number, day: LocalDate): string {
  return `${personJobKeyPrefix(personId)}${day}`;
}

/**
 * The instant a measurement typed in chat was taken: the message's own timestamp (whole
 * seconds), plus the message id modulo 1000 as milliseconds, so that two messages sent within
 * the same second stay two samples while a re-delivered update maps to exactly the same instant.
 * Samples are unique per (person, metric, instant); ingested weights keep their measured instant.
 */
export function chatMeasurementInstant(messageDateSeconds: number, messageId: number): Date {
  return new Date(messageDateSeconds * 1000 + (messageId % 1000));
}

/** JobRun key of a person's morning plan push for a day. */
export function planPushKey(personId: number, day: LocalDate): string {
  return `${personJobKeyPrefix(personId)}${day}`;
}

/** JobRun keys that name a person start with this (deleting a person deletes them). */
export function personJobKeyPrefix(personId: number): string {
  return `${personId}:`;
}

/** JobRun key of a nightly retrain occurrence: its scheduled instant to the minute, in UTC. */
export function nightlyKey(scheduledAt: Date): string {
  return `${scheduledAt.toISOString().slice(0, 16)}Z`;
}
