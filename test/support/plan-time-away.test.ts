// The onboarding tests type planTimeAwayFromNow() as the plan time: it must be accepted (not
// before the day start) and no morning push may fall within the hour after it is set. Between
// 18:00 and 22:00 UTC it used to give 00:00–03:59, which onboarding refuses ("would still be
// yesterday's plan"), so every process test that onboards failed in those hours.
import { describe, expect, it } from "vitest";
import { DEFAULT_DAY_START_HOUR, planTimeAwayFromNow } from "./app-process.js";

const PUSH_WINDOW_MS = 5 * 3_600_000; // pushes from the plan time until five hours after it

describe("planTimeAwayFromNow", () => {
  it.each(Array.from({ length: 96 }, (_, i) => i * 15))(
    "at %i minutes past midnight UTC gives an accepted time with no push in the next hour",
    (minutes) => {
      const now = new Date(Date.UTC(2026, 11, 1, 0, minutes, 7));
      const time = planTimeAwayFromNow(now);
      const [hours, mins] = time.split(":").map(Number) as [number, number];
      expect(hours).toBeGreaterThanOrEqual(DEFAULT_DAY_START_HOUR);
      // the plan-time pushes of yesterday, today and tomorrow all miss [now, now + 1 h]
      for (const day of [-1, 0, 1]) {
        const start = Date.UTC(2026, 11, 1 + day, hours, mins);
        const end = start + PUSH_WINDOW_MS;
        const overlaps = start < now.getTime() + 3_600_000 && end > now.getTime();
        expect(overlaps, `${time} at ${now.toISOString()}`).toBe(false);
      }
    },
  );
});
