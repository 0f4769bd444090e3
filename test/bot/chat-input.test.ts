// The bot's own readers of chat input (no coaching rules here: those are tested in test/coach).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CallbackAction,
  decodeCallback,
  encodeCallback,
  MAX_CALLBACK_DATA_BYTES,
} from "../../src/bot/callback-data.js";
import { parseHabitDefinition, parseSessionAmount } from "../../src/bot/habit-definition.js";
import { MAX_MESSAGE_LENGTH, splitMessage } from "../../src/bot/telegram-policies.js";
import {
  parseTimeOfDay,
  parseTimezone,
  timezoneFromLocation,
  zoneForOffset,
} from "../../src/bot/timezone-input.js";

describe("time zones from chat", () => {
  it.each([
    ["Berlin", "Europe/Berlin"],
    ["new york", "America/New_York"],
    ["São Paulo", "America/Sao_Paulo"],
    ["Munich", "Europe/Berlin"],
    ["europe/lisbon", "Europe/Lisbon"],
    ["+2", "Etc/GMT-2"],
    ["UTC-5", "Etc/GMT+5"],
    ["GMT+5:30", "Asia/Kolkata"],
    ["utc", "UTC"],
    ["−3", "Etc/GMT+3"],
    // issue 13: the maintained data set, modern names, countries, typos, fractional offsets
    ["Kathmandu", "Asia/Kathmandu"],
    ["Kolkata", "Asia/Kolkata"],
    ["Asia/Calcutta", "Asia/Kolkata"],
    ["Europe/Kiev", "Europe/Kyiv"],
    ["Nepal", "Asia/Kathmandu"],
    ["Germany", "Europe/Berlin"],
    ["Berln", "Europe/Berlin"],
    ["+5:45", "Asia/Kathmandu"],
    ["Portland, Oregon", "America/Los_Angeles"],
  ])("%s → %s", (input, zone) => {
    expect(parseTimezone(input)).toMatchObject({ ok: true, zone });
  });

  it("names what it could not read", () => {
    expect(parseTimezone("Atlantis")).toEqual({
      ok: false,
      problem: expect.stringContaining('I don\'t know a time zone for "Atlantis"'),
    });
    expect(parseTimezone("+15")).toMatchObject({
      ok: false,
      problem: expect.stringContaining("-12 to +14"),
    });
    expect(parseTimezone("+5:17")).toMatchObject({ ok: false });
  });

  it("every whole-hour offset maps to a zone with that offset", () => {
    for (let h = -12; h <= 14; h++) {
      const zone = zoneForOffset(h * 60)!;
      const name = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" })
        .formatToParts(new Date("2026-01-15T12:00:00Z"))
        .find((p) => p.type === "timeZoneName")!.value;
      const expected = `GMT${h >= 0 ? "+" : "-"}${String(Math.abs(h)).padStart(2, "0")}:00`;
      expect(name === "GMT" ? "GMT+00:00" : name).toBe(expected);
    }
  });

  it("places shared locations by the time-zone boundaries, at sea by longitude", () => {
    expect(timezoneFromLocation(27.7, 85.32)).toMatchObject({ zone: "Asia/Kathmandu" });
    expect(timezoneFromLocation(50.45, 30.52)).toMatchObject({ zone: "Europe/Kyiv" });
    expect(timezoneFromLocation(48.14, 11.58)).toMatchObject({ ok: true, zone: "Europe/Berlin" }); // Munich
    expect(timezoneFromLocation(-33.9, 18.4)).toMatchObject({ zone: "Africa/Johannesburg" }); // Cape Town
    expect(timezoneFromLocation(-40, -140)).toMatchObject({ zone: "Etc/GMT+9" }); // mid-Pacific
    expect(timezoneFromLocation(95, 0)).toMatchObject({ ok: false });
  });
});

describe("times of day", () => {
  it.each([
    ["7:30", "07:30"],
    ["07:30", "07:30"],
    ["7.15", "07:15"],
    ["7am", "07:00"],
    ["12am", "00:00"],
    ["9:45 pm", "21:45"],
    ["19h", "19:00"],
  ])("%s → %s", (input, time) => {
    expect(parseTimeOfDay(input)).toBe(time);
  });
  it.each(["7", "25:00", "7:60", "13pm", "soon", "0am"])("%s is not a time", (input) => {
    expect(parseTimeOfDay(input)).toBeUndefined();
  });
});

describe("habit definitions", () => {
  it.each([
    [
      "run 30min 5/week",
      { name: "run", kind: "duration", unit: "min", target: 30, daysPerWeek: 5 },
    ],
    [
      "morning run 1.5h 3 times a week",
      { name: "morning run", kind: "duration", target: 90, daysPerWeek: 3 },
    ],
    [
      "read 20 pages daily",
      { name: "read", kind: "count", unit: "pages", target: 20, daysPerWeek: 7 },
    ],
    [
      "push ups 3x weekdays",
      { name: "push ups", kind: "count", unit: "times", target: 3, daysPerWeek: 5 },
    ],
    ["floss 7/week", { name: "floss", kind: "check", daysPerWeek: 7 }],
    ["swim 2 km 2/wk", { name: "swim", kind: "count", unit: "km", target: 2, daysPerWeek: 2 }],
  ])("%s", (input, draft) => {
    expect(parseHabitDefinition(input)).toEqual({
      ok: true,
      draft: expect.objectContaining(draft),
    });
  });
  it("needs a name", () => {
    expect(parseHabitDefinition("30min 5/week")).toMatchObject({ ok: false });
    expect(parseHabitDefinition("   ")).toMatchObject({ ok: false });
  });
  it("reads a session amount on its own", () => {
    expect(parseSessionAmount("20 pages")).toEqual({ kind: "count", unit: "pages", target: 20 });
    expect(parseSessionAmount("45min")).toEqual({ kind: "duration", unit: "min", target: 45 });
    expect(parseSessionAmount("lots")).toBeUndefined();
  });
});

describe("callback data", () => {
  const action: fc.Arbitrary<CallbackAction> = fc.oneof(
    fc.record({
      kind: fc.constant("plan-log" as const),
      planId: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      habitId: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    }),
    fc.record({
      kind: fc.constant("plan-change" as const),
      planId: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      habitId: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      amount: fc.integer({ min: 0, max: 99_999_999 }).map((cents) => cents / 100),
    }),
    fc.record({
      kind: fc.constant("plan-choices" as const),
      planId: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      habitId: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    }),
    fc.record({
      kind: fc.constant("plan-swap" as const),
      planId: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      outId: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      inId: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    }),
    fc.record({
      kind: fc.constant("undo" as const),
      entryId: fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }),
    }),
    fc.record({
      kind: fc.constant("plan-time" as const),
      time: fc
        .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
        .map(([h, m]) => `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`),
    }),
    fc.record({
      kind: fc.constant("starter" as const),
      choice: fc.constantFrom("starter" as const, "own" as const),
    }),
    fc.record({
      kind: fc.constant("habit-restore" as const),
      habitId: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    }),
    fc.constant({ kind: "rotate-token" as const }),
  );

  it("round-trips every action within Telegram's 64 bytes", () => {
    fc.assert(
      fc.property(action, (a) => {
        const data = encodeCallback(a);
        expect(Buffer.byteLength(data)).toBeLessThanOrEqual(MAX_CALLBACK_DATA_BYTES);
        expect(decodeCallback(data)).toEqual(a);
      }),
    );
  });

  it("rejects anything malformed instead of guessing", () => {
    for (const data of [
      "p:1",
      "p:1:x",
      "p:0:1",
      "p:-1:2",
      "u:",
      "u:01",
      "pc:1:2",
      "pc:1:2:-3",
      "pc:1:2:1e5",
      "pc:1:2:01",
      "pa:1:0",
      "ps:1:2",
      "pt:7:30",
      "st:maybe",
      "zz:1",
      "x".repeat(65),
    ]) {
      expect(decodeCallback(data), data).toBeUndefined();
    }
  });
});

describe("splitting long messages", () => {
  it("keeps every character, in order, in parts of at most 4096", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 12_000 }), (text) => {
        const parts = splitMessage(text);
        for (const p of parts) expect(p.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
        expect(parts.join("").replace(/\s+/g, "")).toBe(text.replace(/\s+/g, ""));
      }),
      { numRuns: 50 },
    );
  });
});
