// Idempotency keys are stored (habit_entries.idempotency_key, job_runs.key): a changed format
// would let a re-delivery of something stored before the change count twice. These pin them.
import { describe, expect, it } from "vitest";
import {
  chatMeasurementInstant,
  nightlyKey,
  personJobKeyPrefix,
  planButtonEntryKey,
  planButtonKeyPrefix,
  planPushKey,
  reportEntryKey,
  undoKey,
} from "../../src/coach/index.js";

describe("idempotency keys", () => {
  it("keep the stored formats", () => {
    expect(reportEntryKey(812345, 2)).toBe("tg:812345:2");
    expect(planButtonEntryKey(41, 7, 0)).toBe("plan:41:7:0");
    expect(planButtonEntryKey(41, 7, 3).startsWith(planButtonKeyPrefix(41, 7))).toBe(true);
    expect(planPushKey(12, "2026-11-22")).toBe("12:2026-11-22");
    expect(undoKey(345)).toBe("undo:tg:345");
    expect(nightlyKey(new Date("2026-11-22T03:00:59.999Z"))).toBe("2026-11-22T03:00Z");
  });

  it("give two button generations, two positions and two people different keys", () => {
    expect(planButtonEntryKey(41, 7, 0)).not.toBe(planButtonEntryKey(41, 7, 1));
    expect(reportEntryKey(1, 0)).not.toBe(reportEntryKey(1, 1));
    // a plan button key of habit 7 is not mistaken for one of habit 71
    expect(planButtonEntryKey(41, 71, 0).startsWith(planButtonKeyPrefix(41, 7))).toBe(false);
    // deleting person 1 must not delete person 12's jobs
    expect(planPushKey(12, "2026-11-22").startsWith(personJobKeyPrefix(1))).toBe(false);
    expect(planPushKey(1, "2026-11-22").startsWith(personJobKeyPrefix(1))).toBe(true);
  });

  it("time a chat measurement by its message: same message same instant, next message next", () => {
    const first = chatMeasurementInstant(1_790_000_000, 5001);
    expect(first.toISOString()).toBe("2026-09-21T14:13:20.001Z");
    expect(chatMeasurementInstant(1_790_000_000, 5001)).toEqual(first);
    expect(chatMeasurementInstant(1_790_000_000, 5002).getTime()).toBe(first.getTime() + 1);
  });
});
