// The morning fan-out on /status (issue 16, item 2): 10,000 people's plan times grouped by the
// minute (UTC) they fall on today, the busiest minute's duration at the outgoing rate.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planFanOut } from "../../src/app/plan-fan-out.js";
import { fanOutLine } from "../../src/bot/commands/admin.js";
import { parseConfig } from "../../src/config.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

describe("the morning fan-out", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(() => t.dispose());

  it("predicts how long the busiest minute of 10,000 people takes at the configured rate", async () => {
    // 07:30 in Berlin and 06:30 in London are the same minute in winter (06:30 UTC)
    const groups = [
      { count: 6_000, planTime: "07:30", timezone: "Europe/Berlin" },
      { count: 2_000, planTime: "06:30", timezone: "Europe/London" },
      { count: 2_000, planTime: "07:00", timezone: "America/New_York" },
    ];
    let id = 1;
    for (const g of groups) {
      await t.db.prisma.user.createMany({
        data: Array.from({ length: g.count }, () => {
          const n = BigInt(id++);
          return {
            telegramId: n,
            chatId: n,
            displayName: `P${n}`,
            planTime: g.planTime,
            timezone: g.timezone,
          };
        }),
      });
    }
    const config = parseConfig({ TELEGRAM_MESSAGES_PER_SECOND: "25" });
    const now = () => new Date("2026-12-01T05:00:00Z");
    const fanOut = await planFanOut({ db: t.db, now, config });
    expect(fanOut.people).toBe(10_000);
    expect(fanOut.busiest).toEqual({ at: new Date("2026-12-01T06:30:00Z"), people: 8_000 });
    expect(fanOut.perSecond).toBe(25);
    expect(fanOut.busiestSeconds).toBe(320);
    expect(fanOutLine(fanOut)).toBe(
      "Morning plans: busiest minute 06:30 UTC with 8000 of 10000 people, sent in about 5 min 20 s at 25 messages/s",
    );
  });
});
