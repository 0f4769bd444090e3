/**
 * Days as people live them: a `LocalDate` ("YYYY-MM-DD") is a calendar date in the user's IANA
 * timezone, and a day starts at the user's day-start hour (a report at 01:30 with day-start 04:00
 * belongs to the previous day). Wall-clock times come from Intl.DateTimeFormat, so DST changes
 * and half-hour offsets are handled by the platform's time-zone database.
 */

export type LocalDate = string;

const MS_PER_DAY = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of a valid LocalDate; NaN when the text is not a real date. */
export function epochDayOf(day: LocalDate): number {
  const m = ISO_DATE.exec(day);
  if (m === null) return Number.NaN;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const ms = Date.UTC(y, mo - 1, d);
  const check = new Date(ms);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) {
    return Number.NaN;
  }
  return Math.round(ms / MS_PER_DAY);
}

export function isLocalDate(text: string): boolean {
  return !Number.isNaN(epochDayOf(text));
}

function requireEpochDay(day: LocalDate): number {
  const e = epochDayOf(day);
  if (Number.isNaN(e))
    throw new RangeError(`not a calendar date (YYYY-MM-DD): ${JSON.stringify(day)}`);
  return e;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

export function localDateOfEpochDay(epochDay: number): LocalDate {
  const d = new Date(epochDay * MS_PER_DAY);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}

export function addDays(day: LocalDate, n: number): LocalDate {
  return localDateOfEpochDay(requireEpochDay(day) + n);
}

/** Whole days from `a` to `b` (positive when b is later): daysBetween("2026-01-01", "2026-01-03") = 2. */
export function daysBetween(a: LocalDate, b: LocalDate): number {
  return requireEpochDay(b) - requireEpochDay(a);
}

/** 0 = Monday … 6 = Sunday. */
export function weekdayOf(day: LocalDate): number {
  // 1970-01-01 was a Thursday (index 3).
  return (((requireEpochDay(day) + 3) % 7) + 7) % 7;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when the platform knows the IANA zone name (e.g. "Europe/Berlin"). */
export function isValidTimeZone(timeZone: string): boolean {
  if (typeof timeZone !== "string" || timeZone.length === 0 || timeZone.length > 64) return false;
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The platform's spelling of an IANA zone name ("europe/berlin" → "Europe/Berlin"); null when unknown. */
export function canonicalTimeZone(timeZone: string): string | null {
  return isValidTimeZone(timeZone) ? formatterFor(timeZone).resolvedOptions().timeZone : null;
}

export interface WallClock {
  day: LocalDate;
  hour: number;
  minute: number;
  second: number;
}

/** The calendar date and wall-clock time of an instant in a zone. */
export function wallClockOf(instant: Date, timeZone: string): WallClock {
  const parts = formatterFor(timeZone).formatToParts(instant);
  let y = 0;
  let mo = 0;
  let d = 0;
  let h = 0;
  let mi = 0;
  let s = 0;
  for (const p of parts) {
    if (p.type === "year") y = Number(p.value);
    else if (p.type === "month") mo = Number(p.value);
    else if (p.type === "day") d = Number(p.value);
    else if (p.type === "hour") h = Number(p.value);
    else if (p.type === "minute") mi = Number(p.value);
    else if (p.type === "second") s = Number(p.value);
  }
  return { day: `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}`, hour: h, minute: mi, second: s };
}

/**
 * The latest day-start hour a person may choose: a day that began after noon would count most of
 * the afternoon for the previous day, which nobody means.
 */
export const MAX_DAY_START_HOUR = 12;

/** Whether a person may choose `hour` as the start of their day (a whole hour 0–12). */
export function isChoosableDayStartHour(hour: number): boolean {
  return Number.isInteger(hour) && hour >= 0 && hour <= MAX_DAY_START_HOUR;
}

/**
 * Whether a plan time ("HH:MM") comes before the day-start hour: a plan sent then would belong to
 * the previous day (dayOf), which nobody choosing a morning time means.
 */
export function planTimeBeforeDayStart(planTime: string, dayStartHour: number): boolean {
  const m = /^(\d{1,2}):(\d{2})$/.exec(planTime.trim());
  return m !== null && Number(m[1]) < dayStartHour;
}

function checkDayStartHour(dayStartHour: number): void {
  if (!Number.isInteger(dayStartHour) || dayStartHour < 0 || dayStartHour > 23) {
    throw new RangeError(`day-start hour must be a whole number 0–23, got ${dayStartHour}`);
  }
}

/**
 * The user's day an instant belongs to: its local calendar date, or the previous date when the
 * local wall-clock hour is before `dayStartHour`.
 */
export function dayOf(instant: Date, timeZone: string, dayStartHour: number): LocalDate {
  checkDayStartHour(dayStartHour);
  const wc = wallClockOf(instant, timeZone);
  return wc.hour < dayStartHour ? addDays(wc.day, -1) : wc.day;
}

/** Offset of the zone from UTC at an instant, in minutes (Berlin in summer: 120, Kolkata: 330). */
export function utcOffsetMinutes(instant: Date, timeZone: string): number {
  const wc = wallClockOf(instant, timeZone);
  const asUtc =
    requireEpochDay(wc.day) * MS_PER_DAY + ((wc.hour * 60 + wc.minute) * 60 + wc.second) * 1000;
  const whole = Math.floor(instant.getTime() / 1000) * 1000;
  return Math.round((asUtc - whole) / 60_000);
}

/**
 * The instant a local wall-clock time happens. In a DST gap (the clock jumps over the time) the
 * result is the same distance after the jump, e.g. 02:30 on Berlin's spring-forward day → 03:30
 * CEST; in an overlap (the time happens twice) the earlier instant.
 */
export function instantOf(day: LocalDate, hour: number, minute: number, timeZone: string): Date {
  const wallMs = requireEpochDay(day) * MS_PER_DAY + (hour * 60 + minute) * 60_000;
  // Try the offsets in force a day before and a day after; one of them applies.
  const before = utcOffsetMinutes(new Date(wallMs - MS_PER_DAY), timeZone);
  const after = utcOffsetMinutes(new Date(wallMs + MS_PER_DAY), timeZone);
  const candidates: number[] = [];
  for (const off of [before, after]) {
    const t = wallMs - off * 60_000;
    if (utcOffsetMinutes(new Date(t), timeZone) === off) candidates.push(t);
  }
  if (candidates.length > 0) return new Date(Math.min(...candidates));
  // Gap: the wall time does not exist; shift it by the size of the jump.
  return new Date(wallMs - before * 60_000);
}

/** The instant the user's day `day` begins (its day-start hour on that date). */
export function dayStartInstant(day: LocalDate, timeZone: string, dayStartHour: number): Date {
  checkDayStartHour(dayStartHour);
  return instantOf(day, dayStartHour, 0, timeZone);
}
