// Steering the plan, end to end over HTTP against the Bot API emulator and a real database:
// plan buttons that log what is still missing, "not today", changed amounts and swaps (buttons
// and text), the revision history (database and /export), capacity, the evening check-in.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromDbDate } from "../../src/db/dates.js";
import { onboard, startTestBot, type TestBot } from "../support/telegram-bot.js";

describe("plan buttons after part of a habit is done", () => {
  const USER = 1301;
  let t: TestBot;
  beforeAll(async () => {
    t = await startTestBot({ now: "2026-11-22T09:00:00Z" });
    await onboard(t, USER, { habits: ["water 8 glasses daily"] });
  });
  afterAll(async () => {
    await t.stop();
  });

  it("logs only what is still missing, and the button says so", async () => {
    await t.emulator.ask(USER, "water 6");
    const [plan] = await t.emulator.ask(USER, "/plan");
    expect(plan.text).toContain("water — 8 glasses (6 glasses so far)");
    const button = plan.keyboard?.flat().find((b) => b.text.startsWith("✓ water"));
    expect(button?.text).toBe("✓ water +2 glasses");
    const { answer } = await t.emulator.tap(USER, plan, button!.text);
    expect(answer?.text).toMatch(/^Logged water: 2 glasses, today/);
    const person = await t.db.prisma.user.findUniqueOrThrow({
      where: { telegramId: BigInt(USER) },
    });
    const stored = await t.db.prisma.habitEntry.findMany({
      where: { userId: person.id, retractedAt: null },
      orderBy: { id: "asc" },
    });
    expect(stored.map((e) => [fromDbDate(e.day), e.amount, e.source])).toEqual([
      ["2026-11-22", 6, "chat"],
      ["2026-11-22", 2, "button"],
    ]);
    expect(t.emulator.message(USER, plan.message_id)?.text).toContain("✅ water — 8 glasses");
  });
});
