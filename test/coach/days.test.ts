import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  addDays,
  canonicalTimeZone,
  dayOf,
  dayStartInstant,
  daysBetween,
  instantOf,
  isLocalDate,
  isValidTimeZone,
  utcOffsetMinutes,
  wallClockOf,
  weekdayOf,
} from "../../src/coach/index.js";

const at = (iso: string) => new Date(iso);

describe("calendar arithmetic", () => {
  it("adds days across month, year and leap-day boundaries", () => {
    expect(addDays("2024-02-28", 1)).toBe("2024-02-29");
    expect(addDays("2025-02-28", 1)).toBe("2025-03-01");
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
    expect(addDays("2026-01-01", -1)).toBe("2025-12-31");
    expect(daysBetween("2026-01-01", "2026-03-01")).toBe(59);
    expect(daysBetween("2026-03-01", "2026-01-01")).toBe(-59);
  });

  it("numbers weekdays from Monday = 0", () => {
    expect(weekdayOf("1970-01-01")).toBe(3); // Thursday
    expect(weekdayOf("2026-11-16")).toBe(0); // Monday
    expect(weekdayOf("2026-11-22")).toBe(6); // Sunday
    expect(weekdayOf("1969-12-29")).toBe(0);
  });

  it("validates dates", () => {
    expect(isLocalDate("2026-02-28")).toBe(true);
    expect(isLocalDate("2026-02-29")).toBe(false);
    expect(isLocalDate("2026-2-28")).toBe(false);
    expect(isLocalDate("yesterday")).toBe(false);
    expect(() => addDays("2026-13-01", 1)).toThrow(/not a calendar date/);
  });

  it("addDays and daysBetween agree (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -40000, max: 40000 }),
        fc.integer({ min: -1000, max: 1000 }),
        (a, n) => {
          const day = addDays("2000-01-01", a);
          const later = addDays(day, n);
          expect(daysBetween(day, later)).toBe(n);
          expect(weekdayOf(later)).toBe((((weekdayOf(day) + n) % 7) + 7) % 7);
        },
      ),
    );
  });
});

describe("dayOf: the user's day of an instant", () => {
  it.each([
    // Europe/Berlin, spring forward 2026-03-29 02:00 CET → 03:00 CEST (01:00 UTC)
    ["2026-03-29T00:59:00Z", "Europe/Berlin", 4, "2026-03-28"], // 01:59 CET
    ["2026-03-29T01:30:00Z", "Europe/Berlin", 4, "2026-03-28"], // 03:30 CEST, before 04:00
    ["2026-03-29T02:00:00Z", "Europe/Berlin", 4, "2026-03-29"], // 04:00 CEST
    ["2026-03-28T23:00:00Z", "Europe/Berlin", 0, "2026-03-29"], // 00:00 CET
    // Europe/Berlin, fall back 2026-10-25 03:00 CEST → 02:00 CET (01:00 UTC)
    ["2026-10-25T00:30:00Z", "Europe/Berlin", 4, "2026-10-24"], // first 02:30
    ["2026-10-25T01:30:00Z", "Europe/Berlin", 4, "2026-10-24"], // second 02:30
    ["2026-10-25T02:59:00Z", "Europe/Berlin", 4, "2026-10-24"], // 03:59 CET
    ["2026-10-25T03:00:00Z", "Europe/Berlin", 4, "2026-10-25"], // 04:00 CET
    // America/New_York, spring forward 2026-03-08 (07:00 UTC), fall back 2026-11-01 (06:00 UTC)
    ["2026-03-08T04:59:00Z", "America/New_York", 0, "2026-03-07"],
    ["2026-03-08T05:00:00Z", "America/New_York", 0, "2026-03-08"],
    ["2026-03-09T03:59:00Z", "America/New_York", 0, "2026-03-08"], // 23:59 EDT
    ["2026-03-09T04:00:00Z", "America/New_York", 0, "2026-03-09"],
    ["2026-11-01T05:30:00Z", "America/New_York", 3, "2026-10-31"], // 01:30 EDT
    ["2026-11-01T06:30:00Z", "America/New_York", 3, "2026-10-31"], // 01:30 EST
    ["2026-11-01T08:00:00Z", "America/New_York", 3, "2026-11-01"], // 03:00 EST
    // Asia/Kolkata, UTC+05:30
    ["2026-06-30T18:29:00Z", "Asia/Kolkata", 0, "2026-06-30"],
    ["2026-06-30T18:30:00Z", "Asia/Kolkata", 0, "2026-07-01"],
    ["2026-07-01T22:29:00Z", "Asia/Kolkata", 4, "2026-07-01"], // 03:59 IST on 07-02
    ["2026-07-01T22:30:00Z", "Asia/Kolkata", 4, "2026-07-02"],
    // Australia/Adelaide, +09:30 → +10:30 on 2026-10-04 (16:30 UTC on 10-03)
    ["2026-10-03T16:29:00Z", "Australia/Adelaide", 4, "2026-10-03"], // 01:59 ACST
    ["2026-10-03T17:29:00Z", "Australia/Adelaide", 4, "2026-10-03"], // 03:59 ACDT
    ["2026-10-03T17:30:00Z", "Australia/Adelaide", 4, "2026-10-04"], // 04:00 ACDT
    ["2026-10-03T14:30:00Z", "Australia/Adelaide", 0, "2026-10-04"], // 00:00 ACST
  ])("%s in %s (day starts %d:00) → %s", (iso, zone, start, day) => {
    expect(dayOf(at(iso), zone, start)).toBe(day);
  });

  it("the issue's example: a report at 01:30 with day-start 04:00 belongs to the previous day", () => {
    expect(dayOf(at("2026-07-15T23:30:00Z"), "Europe/Berlin", 4)).toBe("2026-07-15"); // 01:30 CEST 07-16
  });

  it("knows the offsets, including half hours", () => {
    expect(utcOffsetMinutes(at("2026-01-15T12:00:00Z"), "Europe/Berlin")).toBe(60);
    expect(utcOffsetMinutes(at("2026-07-15T12:00:00Z"), "Europe/Berlin")).toBe(120);
    expect(utcOffsetMinutes(at("2026-07-15T12:00:00Z"), "Asia/Kolkata")).toBe(330);
    expect(utcOffsetMinutes(at("2026-10-03T16:29:00Z"), "Australia/Adelaide")).toBe(570);
    expect(utcOffsetMinutes(at("2026-10-03T16:30:00Z"), "Australia/Adelaide")).toBe(630);
    expect(utcOffsetMinutes(at("2026-07-15T12:00:00Z"), "America/New_York")).toBe(-240);
  });

  it("refuses an invalid day-start hour and recognises zone names", () => {
    expect(() => dayOf(at("2026-01-01T00:00:00Z"), "UTC", 24)).toThrow(/0–23/);
    expect(isValidTimeZone("Europe/Berlin")).toBe(true);
    expect(isValidTimeZone("Mars/Olympus")).toBe(false);
    expect(isValidTimeZone("")).toBe(false);
    expect(isValidTimeZone("x".repeat(65))).toBe(false);
    expect(canonicalTimeZone("europe/berlin")).toBe("Europe/Berlin");
    expect(canonicalTimeZone("Mars/Olympus")).toBeNull();
  });
});

describe("instantOf and dayStartInstant", () => {
  it("maps a wall-clock time in a DST gap forward and in an overlap to the earlier instant", () => {
    expect(instantOf("2026-03-29", 2, 30, "Europe/Berlin").toISOString()).toBe(
      "2026-03-29T01:30:00.000Z",
    );
    expect(instantOf("2026-10-25", 2, 30, "Europe/Berlin").toISOString()).toBe(
      "2026-10-25T00:30:00.000Z",
    );
    expect(instantOf("2026-03-08", 2, 30, "America/New_York").toISOString()).toBe(
      "2026-03-08T07:30:00.000Z",
    );
    expect(instantOf("2026-07-02", 4, 0, "Asia/Kolkata").toISOString()).toBe(
      "2026-07-01T22:30:00.000Z",
    );
    expect(
      wallClockOf(instantOf("2026-10-04", 2, 30, "Australia/Adelaide"), "Australia/Adelaide"),
    ).toEqual({
      day: "2026-10-04",
      hour: 3,
      minute: 30,
      second: 0,
    });
  });

  it("days are 23 h on spring-forward day and 25 h on fall-back day", () => {
    const hours = (day: string, zone: string, start: number) =>
      (dayStartInstant(addDays(day, 1), zone, start).getTime() -
        dayStartInstant(day, zone, start).getTime()) /
      3_600_000;
    // With day-start 04:00 the day that contains the 02:00 jump is the one that began the evening before.
    expect(hours("2026-03-28", "Europe/Berlin", 4)).toBe(23);
    expect(hours("2026-03-29", "Europe/Berlin", 4)).toBe(24);
    expect(hours("2026-03-29", "Europe/Berlin", 0)).toBe(23);
    expect(hours("2026-10-24", "Europe/Berlin", 4)).toBe(25);
    expect(hours("2026-03-08", "America/New_York", 0)).toBe(23);
    expect(hours("2026-11-01", "America/New_York", 0)).toBe(25);
    expect(hours("2026-10-03", "Australia/Adelaide", 4)).toBe(23);
    expect(hours("2026-04-04", "Australia/Adelaide", 4)).toBe(25);
    expect(hours("2026-10-04", "Asia/Kolkata", 4)).toBe(24);
  });

  it("every day of 2026 starts where dayOf says it does (property over zones and start hours)", () => {
    const zones = [
      "Europe/Berlin",
      "America/New_York",
      "Asia/Kolkata",
      "Australia/Adelaide",
      "Asia/Kathmandu",
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 364 }),
        fc.constantFrom(...zones),
        fc.integer({ min: 0, max: 23 }),
        (n, zone, start) => {
          const day = addDays("2026-01-01", n);
          const t = dayStartInstant(day, zone, start).getTime();
          expect(dayOf(new Date(t), zone, start)).toBe(day);
          expect(dayOf(new Date(t - 1000), zone, start)).toBe(addDays(day, -1));
        },
      ),
      { numRuns: 300 },
    );
  });
});
