import { describe, expect, it } from "vitest";
import { parseTimestamp } from "../../src/ingest/timestamps.js";

const now = new Date("2026-11-30T12:00:00Z");
const berlin = { timeZone: "Europe/Berlin", now };

describe("parseTimestamp", () => {
  it.each([
    ["2026-11-30T07:10:00+01:00", "2026-11-30T06:10:00.000Z"],
    ["2026-11-30T07:10:00Z", "2026-11-30T07:10:00.000Z"],
    ["2026-11-30T07:10:00.123456Z", "2026-11-30T07:10:00.123Z"],
    ["2026-11-20 07:12:03 +0100", "2026-11-20T06:12:03.000Z"],
    ["2026-11-20 07:12:03 -05:00", "2026-11-20T12:12:03.000Z"],
    ["2026-11-20 07:12 UTC", "2026-11-20T07:12:00.000Z"],
    // no offset: the person's zone (Berlin: +01:00 in November, +02:00 in July)
    ["2026-11-20 07:12:03", "2026-11-20T06:12:03.000Z"],
    ["2026-11-20 07:12", "2026-11-20T06:12:00.000Z"],
    ["2026-07-20 07:12", "2026-07-20T05:12:00.000Z"],
    ["2026-07-20T07:12:05", "2026-07-20T05:12:05.000Z"],
    ["2026/11/20 7:12 PM", "2026-11-20T18:12:00.000Z"],
    ["2026/11/20 12:05 AM", "2026-11-19T23:05:00.000Z"],
    ["20.11.2026 07:12", "2026-11-20T06:12:00.000Z"],
    ["2026-11-20", "2026-11-19T23:00:00.000Z"],
    ["  2026-11-20 07:12  ", "2026-11-20T06:12:00.000Z"],
    ["1763619123", "2025-11-20T06:12:03.000Z"],
    ["1763619123456", "2025-11-20T06:12:03.456Z"],
    // DST gap in Berlin (02:30 does not exist on 29 March 2026): shifted by the jump
    ["2026-03-29 02:30", "2026-03-29T01:30:00.000Z"],
  ])("%s → %s", (text, iso) => {
    const r = parseTimestamp(text, berlin);
    expect(r.ok ? r.at.toISOString() : r.message).toBe(iso);
  });

  it.each([
    ["", "no date"],
    ["yesterday", 'date "yesterday" is not a date I can read'],
    ["2026-02-30 07:00", 'date "2026-02-30 07:00" does not exist'],
    ["2026-11-20 25:00", "is not valid"],
    ["2026-11-20 07:61", "is not valid"],
    ["2026/11/20 13:00 PM", "is not valid"],
    ["2026-11-20 07:00 +1500", "offset"],
    ["2099-01-01", "is in the future"],
    ["1899-12-31", "too long ago"],
    ["11/20/2026", "is not a date I can read"],
    ["2026-11-20T07:00:00+01:00<script>", "is not a date I can read"],
  ])("%j is refused (%s)", (text, message) => {
    const r = parseTimestamp(text, berlin);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(message);
  });

  it("reads offset-less times in other zones (Kolkata +05:30, New York)", () => {
    const k = parseTimestamp("2026-11-20 07:00", { timeZone: "Asia/Kolkata", now });
    expect(k.ok && k.at.toISOString()).toBe("2026-11-20T01:30:00.000Z");
    const ny = parseTimestamp("2026-11-20 07:00", { timeZone: "America/New_York", now });
    expect(ny.ok && ny.at.toISOString()).toBe("2026-11-20T12:00:00.000Z");
  });
});
