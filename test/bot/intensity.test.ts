// /intensity end to end over HTTP against the Bot API emulator and a real database: showing and
// setting the intensity (typed and with the buttons under /intensity and under the plan), bad
// input, the plan message's line, expiry after N days, and lighter plans for "easy".
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromDbDate } from "../../src/db/dates.js";
import { onboard, startTestBot, type TestBot } from "../support/telegram-bot.js";
import type { EmulatedMessage } from "../support/telegram-emulator.js";

const HABITS = ["run 30min 5/week", "read 20 pages daily", "violin 20min daily", "floss daily"];

describe("/intensity", () => {
  const USER = 1501;
  const OTHER = 1502;
  let t: TestBot;
  const person = (id = USER) =>
    t.db.prisma.user.findUniqueOrThrow({ where: { telegramId: BigInt(id) } });
  const buttons = (m: EmulatedMessage) => (m.keyboard ?? []).flat().map((b) => b.text);

  beforeAll(async () => {
    t = await startTestBot({ now: "2026-11-22T09:00:00Z" }); // Sunday
    await onboard(t, USER, { habits: HABITS });
    await onboard(t, OTHER, { habits: HABITS });
  });
  afterAll(async () => {
    await t.stop();
  });

  it("alone, shows the current intensity with a button for each", async () => {
    const [shown] = await t.emulator.ask(USER, "/intensity");
    expect(shown.text).toMatch(/^Intensity: normal — /);
    expect(shown.text).toContain("/intensity easy 5");
    expect(buttons(shown)).toEqual(["🌿 Easy", "Normal", "🔥 Push"]);
  });

  it("refuses what it does not understand, changing nothing", async () => {
    const [word] = await t.emulator.ask(USER, "/intensity harder");
    expect(word.text).toMatch(/^Set how hard the coming days should be/);
    const [days] = await t.emulator.ask(USER, "/intensity easy 40");
    expect(days.text).toMatch(/^The number of days must be a whole number from 1 to 28/);
    const [extra] = await t.emulator.ask(USER, "/intensity easy 3 days please");
    expect(extra.text).toMatch(/^The number of days must be/);
    expect(await person()).toMatchObject({ intensity: "normal", intensityUntil: null });
  });

  it("sets an intensity for the next N days; the plan says which and until when", async () => {
    const [set] = await t.emulator.ask(USER, "/intensity push 3");
    expect(set.text).toBe(
      "Intensity: push until Tue 24 Nov (3 days, today included) — harder plans: extra items for the habits furthest behind, from today's plan.",
    );
    const stored = await person();
    expect(stored.intensity).toBe("push");
    expect(fromDbDate(stored.intensityUntil!)).toBe("2026-11-24");

    const [plan] = await t.emulator.ask(USER, "/plan");
    expect(plan.text).toContain("Intensity: push until Tue 24 Nov (/intensity to change).");
    expect(plan.keyboard?.at(-1)?.map((b) => b.text)).toEqual(["🌿 Easy", "Normal", "🔥 Push"]);
    const row = await t.db.prisma.plan.findFirstOrThrow({ where: { userId: stored.id } });
    expect(row.intensity).toBe("push");
    expect(fromDbDate(row.intensityUntil!)).toBe("2026-11-24");
  });

  it("the buttons under the plan change it from the next plan on; today's plan stays", async () => {
    const [plan] = await t.emulator.ask(USER, "/plan");
    const { answer, messages } = await t.emulator.tap(USER, plan, "🌿 Easy", 1);
    expect(answer?.text).toMatch(/^Intensity: easy until you change it/);
    expect(messages[0].text).toBe(
      "Intensity: easy until you change it — lighter plans: fewer and smaller items, from tomorrow's plan.",
    );
    expect(await person()).toMatchObject({ intensity: "easy", intensityUntil: null });
    const [again] = await t.emulator.ask(USER, "/plan");
    expect(again.text).toContain("Intensity: push until Tue 24 Nov");

    t.clock.set("2026-11-23T09:00:00Z");
    const [tomorrow] = await t.emulator.ask(USER, "/plan");
    expect(tomorrow.text).toContain("Intensity: easy until you change it (/intensity to change).");
  });

  it("a setting for N days ends by itself: after its last day the plan is normal again", async () => {
    const [set] = await t.emulator.ask(USER, "/intensity push 1");
    expect(set.text).toContain("push until Mon 23 Nov (1 day, today included)");
    t.clock.set("2026-11-24T09:00:00Z");
    const [shown] = await t.emulator.ask(USER, "/intensity");
    expect(shown.text).toMatch(/^Intensity: normal — /);
    const [plan] = await t.emulator.ask(USER, "/plan");
    expect(plan.text).toContain("Intensity: normal (/intensity to change).");
  });

  it("on the same state, an easy plan is lighter than a push plan", async () => {
    // Two people with the same habits and no history: the same state on the same day.
    const [easySet] = await t.emulator.ask(USER, "/intensity easy");
    const [pushSet] = await t.emulator.ask(OTHER, "/intensity push");
    expect(easySet.text).toContain("from tomorrow's plan");
    expect(pushSet.text).toContain("from today's plan");
    t.clock.set("2026-11-25T09:00:00Z");
    await t.emulator.ask(USER, "/plan");
    const [pushPlan] = await t.emulator.ask(OTHER, "/plan");
    expect(pushPlan.text).toContain("Intensity: push until you change it");
    const load = async (id: number) => {
      const p = await person(id);
      const plan = await t.db.prisma.plan.findFirstOrThrow({
        where: { userId: p.id, day: new Date("2026-11-25T00:00:00Z") },
      });
      const habits = await t.db.prisma.habit.findMany({ where: { userId: p.id } });
      const items = plan.items as { habitId: number; amount: number }[];
      return items.reduce(
        (sum, i) => sum + i.amount / habits.find((h) => h.id === i.habitId)!.target,
        0,
      );
    };
    expect(await load(USER)).toBeLessThan(await load(OTHER));
  });
});
