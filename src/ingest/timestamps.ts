// Timestamps as exports write them. An explicit offset ("Z", "+01:00", "+0100") fixes the
// instant; a wall-clock time without one is read in the person's IANA time zone (with the coach
// core's DST rules); a date alone means local midnight. Pure: the clock comes in as `now`.
import { epochDayOf, instantOf } from "../coach/days.js";
import { quote } from "./weight.js";

export type TimestampResult = { ok: true; at: Date } | { ok: false; message: string };

export interface TimestampOptions {
  /** IANA zone for times without an offset. */
  timeZone: string;
  /** Samples later than now + 1 day are refused as mistakes. */
  now: Date;
}

const TIME = String.raw`(?:[T ]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*([AaPp][Mm])?)?`;
const ZONE = String.raw`\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?`;
const YMD = new RegExp(String.raw`^(\d{4})[-/](\d{1,2})[-/](\d{1,2})${TIME}${ZONE}$`);
const DMY = new RegExp(String.raw`^(\d{1,2})\.(\d{1,2})\.(\d{4})${TIME}${ZONE}$`);
const EPOCH = /^(\d{10})(?:\.(\d{1,3})\d*)?$|^(\d{13})$/;
const EARLIEST = Date.UTC(1900, 0, 1);
const FUTURE_SLACK_MS = 86_400_000;

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

function zoneOffsetMinutes(zone: string): number | null {
  if (zone === "") return null;
  const z = zone.toUpperCase();
  if (z === "Z" || z === "UTC" || z === "GMT") return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? "0");
  return m[1] === "-" ? -minutes : minutes;
}

function bounded(at: Date, text: string, now: Date): TimestampResult {
  const t = at.getTime();
  if (!Number.isFinite(t) || t < EARLIEST) {
    return { ok: false, message: `date ${quote(text)} is too long ago` };
  }
  if (t > now.getTime() + FUTURE_SLACK_MS) {
    return { ok: false, message: `date ${quote(text)} is in the future` };
  }
  return { ok: true, at };
}

/**
 * Parses "2026-11-20T07:12:03+01:00", "2026-11-20 07:12(:03)( +0100)", "2026/11/20 7:12 PM",
 * "20.11.2026 07:12", "2026-11-20" and Unix seconds or milliseconds.
 */
export function parseTimestamp(raw: string, options: TimestampOptions): TimestampResult {
  const text = raw.trim();
  if (text === "") return { ok: false, message: "no date" };
  const epoch = EPOCH.exec(text);
  if (epoch !== null) {
    const ms =
      epoch[3] !== undefined
        ? Number(epoch[3])
        : Number(epoch[1]) * 1000 + Number((epoch[2] ?? "0").padEnd(3, "0"));
    return bounded(new Date(ms), text, options.now);
  }
  let m = YMD.exec(text);
  let year: number;
  let month: number;
  let day: number;
  if (m !== null) {
    [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  } else {
    m = DMY.exec(text);
    if (m === null) {
      return {
        ok: false,
        message: `date ${quote(text)} is not a date I can read (use YYYY-MM-DD HH:MM or ISO 8601)`,
      };
    }
    [year, month, day] = [Number(m[3]), Number(m[2]), Number(m[1])];
  }
  const localDate = `${String(year).padStart(4, "0")}-${pad2(month)}-${pad2(day)}`;
  const epochDay = epochDayOf(localDate);
  if (Number.isNaN(epochDay)) return { ok: false, message: `date ${quote(text)} does not exist` };
  let hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, "0"));
  const meridiem = m[8]?.toUpperCase();
  if (meridiem !== undefined) {
    if (hour < 1 || hour > 12) return { ok: false, message: `time in ${quote(text)} is not valid` };
    hour = (hour % 12) + (meridiem === "PM" ? 12 : 0);
  }
  if (hour > 23 || minute > 59 || second > 59) {
    return { ok: false, message: `time in ${quote(text)} is not valid` };
  }
  const offset = zoneOffsetMinutes(m[9] ?? "");
  if (offset !== null && Math.abs(offset) > 14 * 60) {
    return { ok: false, message: `time-zone offset in ${quote(text)} is not valid` };
  }
  const at =
    offset !== null
      ? new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis) - offset * 60_000)
      : new Date(
          instantOf(localDate, hour, minute, options.timeZone).getTime() + second * 1000 + millis,
        );
  return bounded(at, text, options.now);
}
