import { describe, expect, it } from "vitest";
import {
  duePlanPushes,
  latestPlanOccurrence,
  nextPlanOccurrence,
  parsePlanTime,
  planCutOff,
  planInstant,
} from "../../src/app/scheduling/plan-time.js";
import { planRetryDelayMs } from "../../src/app/scheduling/schedule.js";

describe("plan time", () => {
  it("parses HH:MM and rejects the rest", () => {
    expect(parsePlanTime("07:30")).toEqual({ hour: 7, minute: 30 });
    expect(parsePlanTime("7:05")).toEqual({ hour: 7, minute: 5 });
    expect(parsePlanTime("24:00")).toBeNull();
    expect(parsePlanTime("07:60")).toBeNull();
    expect(parsePlanTime("0730")).toBeNull();
  });

  it("is the local wall-clock time in the person's zone", () => {
    // Berlin in winter is UTC+1, in summer UTC+2
    expect(planInstant("2026-01-15", { hour: 7, minute: 30 }, "Europe/Berlin").toISOString()).toBe(
      "2026-01-15T06:30:00.000Z",
    );
    expect(planInstant("2026-07-15", { hour: 7, minute: 30 }, "Europe/Berlin").toISOString()).toBe(
      "2026-07-15T05:30:00.000Z",
    );
    // Kolkata has a half-hour offset (UTC+5:30)
    expect(planInstant("2026-07-15", { hour: 7, minute: 0 }, "Asia/Kolkata").toISOString()).toBe(
      "2026-07-15T01:30:00.000Z",
    );
  });

  it("keeps the local time across a DST change", () => {
    // Europe/Berlin springs forward on 2026-03-29
    const clock = { hour: 7, minute: 30 };
    const before = nextPlanOccurrence(new Date("2026-03-28T12:00:00Z"), clock, "Europe/Berlin");
    expect(before).toEqual({ day: "2026-03-29", at: new Date("2026-03-29T05:30:00Z") });
    const previous = latestPlanOccurrence(new Date("2026-03-29T05:29:00Z"), clock, "Europe/Berlin");
    expect(previous).toEqual({ day: "2026-03-28", at: new Date("2026-03-28T06:30:00Z") });
  });

  it("is for the person's local date, even when UTC is on another day", () => {
    // 08:00 in Auckland (UTC+13 in January) is 19:00 UTC the day before
    const next = nextPlanOccurrence(
      new Date("2026-01-10T12:00:00Z"),
      { hour: 8, minute: 0 },
      "Pacific/Auckland",
    );
    expect(next).toEqual({ day: "2026-01-11", at: new Date("2026-01-10T19:00:00Z") });
  });
});

describe("due plan pushes", () => {
  const people = [
    { id: 1, timezone: "Europe/Berlin", planTime: "07:30", dayStartHour: 4 },
    { id: 2, timezone: "America/New_York", planTime: "07:30", dayStartHour: 4 },
    { id: 3, timezone: "Asia/Tokyo", planTime: "07:30", dayStartHour: 4 },
    { id: 4, timezone: "Mars/Olympus", planTime: "07:30", dayStartHour: 4 },
    { id: 5, timezone: "UTC", planTime: "7h30", dayStartHour: 4 },
  ];

  it("selects people whose plan time passed and whose cut-off has not", () => {
    // 06:31 UTC = 07:31 Berlin (due), 01:31 New York (not yet), 15:31 Tokyo (8 h late: skipped)
    const { due, skipped } = duePlanPushes(people, new Date("2026-01-15T06:31:00Z"));
    expect(due).toEqual([
      {
        personId: 1,
        day: "2026-01-15",
        at: new Date("2026-01-15T06:30:00Z"),
        cutOff: new Date("2026-01-15T11:30:00Z"),
      },
    ]);
    expect(skipped.map((s) => s.personId)).toEqual([4, 5]);
    expect(skipped[1].reason).toContain('"7h30"');
  });

  it("is for the person's day, also when the plan time is before their day-start hour", () => {
    const night = [{ id: 6, timezone: "UTC", planTime: "03:00", dayStartHour: 4 }];
    // 03:00 on the 15th still belongs to the 14th for someone whose day starts at 04:00
    // … and its cut-off is the end of that day (04:00), not 5 h later
    expect(duePlanPushes(night, new Date("2026-01-15T03:01:00Z")).due).toEqual([
      {
        personId: 6,
        day: "2026-01-14",
        at: new Date("2026-01-15T03:00:00Z"),
        cutOff: new Date("2026-01-15T04:00:00Z"),
      },
    ]);
    expect(duePlanPushes(night, new Date("2026-01-15T04:00:00Z")).due).toEqual([]);
  });

  it("is exactly at the plan time, not a minute before", () => {
    expect(duePlanPushes(people, new Date("2026-01-15T06:29:59Z")).due).toEqual([]);
    expect(
      duePlanPushes(people, new Date("2026-01-15T06:30:00Z")).due.map((d) => d.personId),
    ).toEqual([1]);
  });
});

describe("the cut-off and the retries", () => {
  it("pushes up to 5 hours late (after downtime), not at 5 hours", () => {
    const berlin = [{ id: 1, timezone: "Europe/Berlin", planTime: "07:30", dayStartHour: 4 }];
    // 07:30 Berlin = 06:30 UTC: due until 12:30 Berlin
    expect(duePlanPushes(berlin, new Date("2026-01-15T11:29:59Z")).due).toHaveLength(1);
    expect(duePlanPushes(berlin, new Date("2026-01-15T11:30:00Z")).due).toEqual([]);
  });

  it("is 5 hours after the plan time, never after the end of the person's day (DST too)", () => {
    const person = { timezone: "Europe/Berlin", dayStartHour: 4 };
    // Berlin springs forward on 2026-03-29 at 02:00 (01:00 UTC): the day of the 28th ends at
    // 04:00 on the 29th, UTC+2 = 02:00 UTC
    const late = planInstant("2026-03-28", { hour: 23, minute: 0 }, "Europe/Berlin");
    expect(planCutOff(late, "2026-03-28", person)).toEqual(new Date("2026-03-29T02:00:00Z"));
    const night = planInstant("2026-03-29", { hour: 1, minute: 30 }, "Europe/Berlin");
    expect(planCutOff(night, "2026-03-28", person)).toEqual(new Date("2026-03-29T02:00:00Z"));
    // 07:00 on the 29th is 05:00 UTC: cut off at 10:00 UTC (12:00 in Berlin)
    const seven = planInstant("2026-03-29", { hour: 7, minute: 0 }, "Europe/Berlin");
    expect(planCutOff(seven, "2026-03-29", person)).toEqual(new Date("2026-03-29T10:00:00Z"));
  });

  it("waits 1, 2, 4, 8, 16 minutes between attempts, then every 30", () => {
    const minutes = [1, 2, 3, 4, 5, 6, 7, 12].map((n) => planRetryDelayMs(n) / 60_000);
    expect(minutes).toEqual([1, 2, 4, 8, 16, 30, 30, 30]);
  });
});
