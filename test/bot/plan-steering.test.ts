// Steering the plan, end to end over HTTP against the Bot API emulator and a real database:
// plan buttons that log what is still missing, "not today", changed amounts and swaps (buttons
// and text), the revision history (database and /export), capacity, the evening check-in.
import { strFromU8, unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromDbDate } from "../../src/db/dates.js";
import { onboard, startTestBot, type TestBot } from "../support/telegram-bot.js";
import type { EmulatedMessage } from "../support/telegram-emulator.js";

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

describe("steering today's plan", () => {
  const USER = 1302;
  let t: TestBot;
  let personId: number;
  beforeAll(async () => {
    t = await startTestBot({ now: "2026-11-22T09:00:00Z" });
    await onboard(t, USER, {
      habits: ["run 30min 5/week", "swim 40min 2/week", "read 20 pages daily", "floss 7/week"],
    });
    personId = (await t.db.prisma.user.findUniqueOrThrow({ where: { telegramId: BigInt(USER) } }))
      .id;
  });
  afterAll(async () => {
    await t.stop();
  });

  /** The button in the row of `habit` whose text starts with `label`. */
  function buttonOf(message: EmulatedMessage, habit: string, label: string): string {
    const row = message.keyboard?.find((r) => r[0]?.text.startsWith(`✓ ${habit}`));
    const button = row?.find((b) => b.text.startsWith(label));
    if (!button?.callback_data) throw new Error(`no “${label}” button for ${habit}`);
    return button.callback_data;
  }
  async function press(message: EmulatedMessage, data: string, newMessages = 0) {
    const before = t.emulator.botMessages(USER).length;
    const update = t.emulator.sendCallbackQuery(USER, message, data);
    if (newMessages > 0) await t.emulator.waitForBotMessages(USER, before + newMessages);
    await t.emulator.waitForProcessed(update.update_id);
    const queryId = (update.callback_query as { id: string }).id;
    return {
      answer: t.emulator.callbackAnswers.find((a) => a.queryId === queryId)?.text,
      messages: t.emulator.botMessages(USER).slice(before),
    };
  }
  async function revisions() {
    const rows = await t.db.prisma.planRevision.findMany({
      where: { userId: personId },
      include: { habit: true },
      orderBy: { id: "asc" },
    });
    return rows.map((r) => ({
      habit: r.habit.name,
      change: r.change,
      from: r.fromAmount,
      to: r.toAmount,
      by: r.changedBy,
      via: r.via,
    }));
  }

  it("takes an item off today's plan with its button; the original plan stays as it was", async () => {
    const [plan] = await t.emulator.ask(USER, "/plan");
    expect(plan.text).toContain("▫️ swim — 40 min");
    const stored = await t.db.prisma.plan.findFirstOrThrow({ where: { userId: personId } });
    const swimLog = plan.keyboard!.flat().find((b) => b.text === "✓ swim 40 min")!.callback_data!;
    const { answer } = await press(plan, buttonOf(plan, "swim", "✕ Not today"));
    expect(answer).toBe("swim: not today (was 40 min)");
    const edited = t.emulator.message(USER, plan.message_id)!;
    expect(edited.text).not.toContain("▫️ swim");
    expect(edited.text).toContain("Not today (your choice): swim");
    expect(edited.keyboard?.some((r) => r[0].text.startsWith("✓ swim"))).toBe(false);
    expect(await revisions()).toEqual([
      { habit: "swim", change: "not_today", from: 40, to: 0, by: BigInt(USER), via: "button" },
    ]);
    // the plan the planner produced is untouched
    const after = await t.db.prisma.plan.findFirstOrThrow({ where: { userId: personId } });
    expect(after.items).toEqual(stored.items);
    // its log button, from before the change, now says it was taken off
    const log = await press(plan, swimLog);
    expect(log.answer).toMatch(/You took swim off the plan for Sun 22 Nov/);
    expect(await t.db.prisma.habitEntry.count({ where: { userId: personId } })).toBe(0);
  });

  it("changes an amount and swaps habits by text, and /plan shows the plan as changed", async () => {
    const [amended] = await t.emulator.ask(USER, "run 20 instead");
    expect(amended.text).toMatch(/^Plan changed:\n• run: 20 min today \(was 30 min\)/);
    expect(amended.text).toContain("▫️ run — 20 min (your change: was 30 min)");
    const [swapped] = await t.emulator.ask(USER, "swap read swim");
    expect(swapped.text).toContain(
      "• read: not today (was 20 pages)\n• swim: 40 min today (was a rest day)",
    );
    const [skipped] = await t.emulator.ask(USER, "skip floss!");
    expect(skipped.text).toContain("• floss: not today");
    const [plan] = await t.emulator.ask(USER, "/plan");
    expect(plan.text).toContain("▫️ run — 20 min (your change: was 30 min)");
    expect(plan.text).toContain("▫️ swim — 40 min");
    expect(plan.text).not.toContain("▫️ read");
    expect(plan.text).toContain("Not today (your choice): read, floss");
    expect((await revisions()).slice(1)).toEqual([
      { habit: "run", change: "amount", from: 30, to: 20, by: BigInt(USER), via: "chat" },
      { habit: "read", change: "swap", from: 20, to: 0, by: BigInt(USER), via: "chat" },
      { habit: "swim", change: "swap", from: 0, to: 40, by: BigInt(USER), via: "chat" },
      { habit: "floss", change: "not_today", from: 1, to: 0, by: BigInt(USER), via: "chat" },
    ]);
  });

  it("says why a change cannot be made, and changes nothing", async () => {
    const before = await revisions();
    const [notPlanned] = await t.emulator.ask(USER, "skip floss");
    expect(notPlanned.text).toBe("floss isn't on today's plan, so there is nothing to take off.");
    const [same] = await t.emulator.ask(USER, "run 20 min instead");
    expect(same.text).toBe("run is already planned at 20 min today.");
    const [unknown] = await t.emulator.ask(USER, "skip dance");
    expect(unknown.text).toMatch(
      /^I didn't change your plan:\n• I don't know a habit called "dance"/,
    );
    const [oneHabit] = await t.emulator.ask(USER, "swap run run");
    expect(oneHabit.text).toContain("Swap two different habits");
    expect(await revisions()).toEqual(before);
    // a report is still a report
    const [report] = await t.emulator.ask(USER, "read 5 pages");
    expect(report.text).toMatch(/^Stored:\n✓ read: 5 pages, today/);
  });

  it("changes an amount and swaps through the Change button's choices", async () => {
    const [plan] = await t.emulator.ask(USER, "/plan");
    const choices = (await press(plan, buttonOf(plan, "run", "✎ Change"), 1)).messages[0];
    expect(choices.text).toMatch(/^Change run for Sun 22 Nov \(planned: 20 min\)/);
    const labels = choices.keyboard!.flat().map((b) => b.text);
    expect(labels).toContain("30 min");
    expect(labels).not.toContain("20 min"); // the amount planned now
    expect(labels).toContain("✕ Not today");
    expect(labels).toEqual(expect.arrayContaining(["⇄ read instead", "⇄ floss instead"]));
    const amount = await t.emulator.tap(USER, choices, "30 min");
    expect(amount.answer?.text).toBe("run: 30 min today (was 20 min)");
    // the choices message now shows the plan as changed (back at the planner's 30 min)
    const shown = t.emulator.message(USER, choices.message_id)!;
    expect(shown.text).toContain("▫️ run — 30 min\n");

    const swimChoices = (await press(shown, buttonOf(shown, "swim", "✎ Change"), 1)).messages[0];
    const swap = await t.emulator.tap(USER, swimChoices, "⇄ read instead");
    expect(swap.answer?.text).toBe(
      "swim: not today (was 40 min); read: 20 pages today (was a rest day)",
    );
    const [now] = await t.emulator.ask(USER, "/plan");
    expect(now.text).toContain("▫️ read — 20 pages (5 pages so far)");
    expect(now.text).toContain("Not today (your choice): swim, floss");
    expect((await revisions()).slice(5)).toEqual([
      { habit: "run", change: "amount", from: 20, to: 30, by: BigInt(USER), via: "button" },
      { habit: "swim", change: "swap", from: 40, to: 0, by: BigInt(USER), via: "button" },
      { habit: "read", change: "swap", from: 0, to: 20, by: BigInt(USER), via: "button" },
    ]);
    // the log button logs the plan as changed: read 20 − 5 done = 15 more
    const log = await t.emulator.tap(USER, now, "✓ read +15 pages");
    expect(log.answer?.text).toMatch(/^Logged read: 15 pages, today/);
  });

  it("exports the revision history", async () => {
    const [reply] = await t.emulator.ask(USER, "/export");
    const files = unzipSync(new Uint8Array(reply.document!.bytes!));
    const lines = strFromU8(files["plan_revisions.csv"]).trim().split("\r\n");
    const header = lines[0].split(",");
    expect(header).toEqual(
      expect.arrayContaining([
        "day",
        "habitName",
        "change",
        "fromAmount",
        "toAmount",
        "changedBy",
        "via",
        "createdAt",
      ]),
    );
    const rows = lines
      .slice(1)
      .map((l) => Object.fromEntries(l.split(",").map((v, i) => [header[i], v])));
    expect(
      rows.map(
        (r) =>
          `${r.day} ${r.habitName} ${r.change} ${r.fromAmount}→${r.toAmount} ${r.changedBy} ${r.via}`,
      ),
    ).toEqual([
      `2026-11-22 swim not_today 40→0 ${USER} button`,
      `2026-11-22 run amount 30→20 ${USER} chat`,
      `2026-11-22 read swap 20→0 ${USER} chat`,
      `2026-11-22 swim swap 0→40 ${USER} chat`,
      `2026-11-22 floss not_today 1→0 ${USER} chat`,
      `2026-11-22 run amount 20→30 ${USER} button`,
      `2026-11-22 swim swap 40→0 ${USER} button`,
      `2026-11-22 read swap 0→20 ${USER} button`,
    ]);
    expect(strFromU8(files["README.txt"])).toContain("plan_revisions.csv");
  });

  it("changes only today's plan: an earlier day's buttons say so", async () => {
    const [yesterday] = await t.emulator.ask(USER, "/plan");
    t.clock.set("2026-11-23T09:00:00Z");
    const before = await revisions();
    const { answer } = await press(yesterday, buttonOf(yesterday, "run", "✕ Not today"));
    expect(answer).toBe("That plan is for Sun 22 Nov; only today's plan can be changed.");
    expect(await revisions()).toEqual(before);
    const [today] = await t.emulator.ask(USER, "/plan");
    expect(today.text).toContain("Plan for Mon 23 Nov");
    expect(today.text).not.toContain("your choice");
  });
});
