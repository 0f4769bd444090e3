// Plans, logging (text, buttons, backdated), parser errors and /undo, end to end over HTTP.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseReport } from "../../src/coach/parse.js";
import { fromDbDate } from "../../src/db/dates.js";
import { habitSpecOf, listHabits } from "../../src/db/habits.js";
import { onboard, startTestBot, type TestBot } from "../support/telegram-bot.js";

const ALICE = 201;
const BOB = 202;

describe("plan, logging and undo", () => {
  let t: TestBot;
  let aliceId: number;

  async function entries(userId = aliceId) {
    const rows = await t.db.prisma.habitEntry.findMany({
      where: { userId },
      include: { habit: true },
      orderBy: { id: "asc" },
    });
    return rows.map((e) => ({
      habit: e.habit.name,
      day: fromDbDate(e.day),
      amount: e.amount,
      source: e.source,
      retracted: e.retractedAt !== null,
    }));
  }

  beforeAll(async () => {
    // Sunday 22 Nov 2026, 09:00 UTC
    t = await startTestBot({ now: "2026-11-22T09:00:00Z" });
    await onboard(t, ALICE, {
      habits: ["run 30min 5/week", "violin 15 min daily", "read 20 pages daily", "floss 7/week"],
    });
    await onboard(t, BOB, { habits: ["run 20min 3/week"] });
    aliceId = (await t.db.prisma.user.findUniqueOrThrow({ where: { telegramId: BigInt(ALICE) } }))
      .id;
  });
  afterAll(async () => {
    await t.stop();
  });

  it("generates today's plan once and shows the same plan again", async () => {
    const [first] = await t.emulator.ask(ALICE, "/plan");
    expect(first.text).toContain("Plan for Sun 22 Nov");
    expect(first.text).toContain("run — 30 min");
    const buttons = first.keyboard?.flat() ?? [];
    expect(buttons.length).toBeGreaterThan(0);
    for (const b of buttons)
      expect(Buffer.byteLength(b.callback_data ?? "")).toBeLessThanOrEqual(64);

    t.clock.advance(3 * 3600_000);
    const [second] = await t.emulator.ask(ALICE, "/plan");
    expect(second.text).toBe(first.text);
    expect(await t.db.prisma.plan.count({ where: { userId: aliceId } })).toBe(1);
  });

  it("logs plain text and confirms amount, day and the new EMA", async () => {
    const [today] = await t.emulator.ask(ALICE, "run 30");
    expect(today.text).toMatch(/^Stored:\n✓ run: 30 min, today \(Sun 22 Nov\) → EMA 0\.\d\d$/);
    const [backdated] = await t.emulator.ask(ALICE, "violin 15 yesterday");
    expect(backdated.text).toMatch(/violin: 15 min, yesterday \(Sat 21 Nov\) → EMA 0\.\d\d/);
    expect(await entries()).toEqual([
      { habit: "run", day: "2026-11-22", amount: 30, source: "chat", retracted: false },
      { habit: "violin", day: "2026-11-21", amount: 15, source: "chat", retracted: false },
    ]);
  });

  it("ticks done items in the same plan when asked again", async () => {
    const [plan] = await t.emulator.ask(ALICE, "/plan");
    expect(plan.text).toContain("✅ run — 30 min");
    expect(plan.keyboard?.flat().some((b) => b.text.includes("run"))).toBe(false);
  });

  it("logs by /done with an explicit date and by /done buttons", async () => {
    const [dated] = await t.emulator.ask(ALICE, "/done read 12 pages 2026-11-20");
    expect(dated.text).toContain("read: 12 pages, Fri 20 Nov");

    const [prompt] = await t.emulator.ask(ALICE, "/done");
    expect(prompt.text).toMatch(/What did you do/);
    // only what is planned and not yet done today: run (30 of 30 min logged) has no button
    const plan = await t.db.prisma.plan.findFirstOrThrow({ where: { userId: aliceId } });
    const planned = (plan.items as { habitId: number; amount: number }[]).filter(
      (i) => i.amount > 0,
    );
    const labels = prompt.keyboard?.flat().map((b) => b.text) ?? [];
    expect(labels.some((l) => l.includes("run"))).toBe(false);
    expect(labels).toHaveLength(planned.length - 1);
    const violinButton = prompt.keyboard?.flat().find((b) => b.text.includes("violin"));
    expect(violinButton).toBeDefined();
    const { answer } = await t.emulator.tap(ALICE, prompt, violinButton!.text);
    expect(answer?.text).toMatch(/Logged violin: 15 min, today → EMA 0\.\d\d/);
    const after = t.emulator.message(ALICE, prompt.message_id);
    expect(after?.keyboard?.flat().some((b) => b.text.includes("violin")) ?? false).toBe(false);
    const violinToday = (await entries()).filter(
      (e) => e.habit === "violin" && e.day === "2026-11-22",
    );
    expect(violinToday).toEqual([
      { habit: "violin", day: "2026-11-22", amount: 15, source: "button", retracted: false },
    ]);
  });

  it("logs by the plan's button once, even when tapped twice, and ticks the plan", async () => {
    const [plan] = await t.emulator.ask(ALICE, "/plan");
    const readButton = plan.keyboard?.flat().find((b) => b.text.startsWith("✓ read"));
    expect(readButton).toBeDefined();
    const first = await t.emulator.tap(ALICE, plan, readButton!.text);
    expect(first.answer?.text).toMatch(/Logged read: 20 pages, today/);
    expect(t.emulator.message(ALICE, plan.message_id)?.text).toContain("✅ read — 20 pages");

    // The same button pressed again (e.g. from a stale copy of the keyboard).
    const second = t.emulator.sendCallbackQuery(ALICE, plan, readButton!.callback_data!);
    await t.emulator.waitForProcessed(second.update_id);
    expect(t.emulator.callbackAnswers.at(-1)?.text).toMatch(/already logged/);
    const reads = (await entries()).filter((e) => e.habit === "read" && e.day === "2026-11-22");
    expect(reads).toHaveLength(1);
  });

  it("refuses forged or foreign plan buttons", async () => {
    const plan = await t.db.prisma.plan.findFirstOrThrow({ where: { userId: aliceId } });
    const run = (await listHabits(t.db, aliceId)).find((h) => h.name === "run")!;
    const [bobPlan] = await t.emulator.ask(BOB, "/plan");
    const before = await t.db.prisma.habitEntry.count();
    // Bob presses a button carrying Alice's plan id.
    const forged = t.emulator.sendCallbackQuery(BOB, bobPlan, `p:${plan.id}:${run.id}`);
    await t.emulator.waitForProcessed(forged.update_id);
    expect(t.emulator.callbackAnswers.at(-1)?.text).toMatch(/doesn't match your plan/);
    const garbage = t.emulator.sendCallbackQuery(BOB, bobPlan, "p:notanumber");
    await t.emulator.waitForProcessed(garbage.update_id);
    expect(t.emulator.callbackAnswers.at(-1)?.text).toMatch(/no longer valid/);
    expect(await t.db.prisma.habitEntry.count()).toBe(before);
  });

  it("names every parser problem and stores nothing", async () => {
    const habits = (await listHabits(t.db, aliceId)).map(habitSpecOf);
    const cases: [string, RegExp][] = [
      [
        "swim 30",
        /I don't know a habit called "swim"\. Your habits are: run, violin, read and floss\./,
      ],
      ["vilon 15", /I don't know a habit called "vilon" — did you mean "violin"\?/],
      ["rn 30", /did you mean "run"\?/],
      ["run 3h75", /I can't read "3h75" as an amount/],
      ["run 30 40", /I can't read "30 40" as one amount for "run"/],
      ["run 30 yesterday 2026-11-20", /names 2026-11-21 and 2026-11-20 — which day was it\?/],
      ["run", /How much "run"\?/],
      ["floss 3", /yes\/no habit/],
      ["read 20 min", /in pages, not/],
      ["run 0", /Zero minutes/],
      ["run 2000", /more than a day/],
      ["read 5000 pages", /more than 50 times/],
      ["read 2.5 pages", /counted in whole pages/],
      ["run -5", /can't be negative/],
      ["30", /Which habit is "30" for\?/],
      ["run 30 2026-11-25", /is in the future/],
      ["run 30 2026-11-01", /more than 7 days ago/],
      ["run 30 2026-02-30", /is not a real date/],
      ["yesterday", /Tell me what you did/],
      [`run ${"30 ".repeat(400)}`, /too long to read/],
      [Array.from({ length: 31 }, () => "run 1").join(", "), /at most 30 at a time/],
    ];
    const before = await t.db.prisma.habitEntry.count();
    for (const [text, expected] of cases) {
      const parsed = parseReport(text, habits, { today: "2026-11-22" });
      expect(parsed.ok, text).toBe(false);
      const [reply] = await t.emulator.ask(ALICE, text);
      expect(reply.text, text).toMatch(/^I didn't store anything:/);
      expect(reply.text, text).toMatch(expected);
      if (!parsed.ok) for (const problem of parsed.problems) expect(reply.text).toContain(problem);
      expect(reply.text).toContain(
        "Write it like “run 30, violin 15” (add “yesterday” or a date for another day).",
      );
      // the habits are listed once: by the problem, or else at the end
      expect(reply.text!.match(/Your habits/g), text).toHaveLength(1);
    }
    expect(await t.db.prisma.habitEntry.count()).toBe(before);
  });

  it("names the problem when two habits fit the words, and stores nothing", async () => {
    const CAROL = 203;
    await onboard(t, CAROL, { habits: ["piano scales 10min daily", "piano pieces 20min daily"] });
    const [reply] = await t.emulator.ask(CAROL, "piano 10");
    expect(reply.text).toBe(
      [
        "I didn't store anything:",
        '• "piano" could be "piano scales" or "piano pieces" — which one? Write more of the name.',
        "",
        "Write it like “piano scales 10, piano pieces 20” (add “yesterday” or a date for another day). Your habits: piano scales, piano pieces.",
      ].join("\n"),
    );
    const carol = await t.db.prisma.user.findUniqueOrThrow({ where: { telegramId: 203n } });
    expect(await t.db.prisma.habitEntry.count({ where: { userId: carol.id } })).toBe(0);
    const [scales] = await t.emulator.ask(CAROL, "piano sc 10");
    expect(scales.text).toMatch(
      /✓ piano scales: 10 min, today .*\(I read “piano sc” as piano scales\)$/,
    );
  });

  it("answers hostile input with a specific problem, stores nothing and breaks nothing", async () => {
    const before = await t.db.prisma.habitEntry.count();
    const users = await t.db.prisma.user.count();
    const hostile: [string, RegExp][] = [
      ["'; DROP TABLE habit_entries; --", /I don't know a habit called "DROP TABLE habit entries"/],
      ["<script>alert(1)</script>", /I don't know a habit called "alert"/],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a template placeholder typed as text
      ["run 30 ${process.env} %s%n", /I don't know a habit called "process env/],
      ["../../etc/passwd", /I don't know a habit called "etc passwd"/],
      ["run 1e9", /I can't read "1e9" as an amount/],
      ["run 0x1F", /I can't read "0x1F" as an amount/],
      ["run 99999999999999999999999", /more than a day/],
      ["\u0000\u0007 run -5 \u202e", /Amounts can't be negative: "-5" for "run"/],
      ["🏃 30", /Which habit is "30" for\?/],
      ["x".repeat(4000), /too long to read/],
    ];
    for (const [text, expected] of hostile) {
      const [reply] = await t.emulator.ask(ALICE, text);
      expect(reply.text, text).toMatch(/^I didn't store anything:\n• /);
      expect(reply.text, text).toMatch(expected);
      expect(reply.text!.length, text).toBeLessThan(1000);
    }
    expect(await t.db.prisma.habitEntry.count()).toBe(before);
    expect(await t.db.prisma.user.count()).toBe(users);
    // and the bot still works for the same person
    const [plan] = await t.emulator.ask(ALICE, "/plan");
    expect(plan.text).toContain("Plan for Sun 22 Nov");
  });

  it("undoes the latest entry, the latest of a habit, and a picked one", async () => {
    await t.emulator.ask(ALICE, "floss");
    const [undone] = await t.emulator.ask(ALICE, "/undo");
    expect(undone.text).toMatch(/^Undone: floss done, today\. floss EMA now 0\.\d\d\./);

    const [byHabit] = await t.emulator.ask(ALICE, "/undo run");
    expect(byHabit.text).toMatch(/^Undone: run 30 min, today\./);

    const [picker] = await t.emulator.ask(ALICE, "/undo pick");
    const labels = picker.keyboard?.flat().map((b) => b.text) ?? [];
    expect(labels[0]).toContain("read 20 pages, today");
    const target = labels.find((l) => l.includes("read 12 pages"))!;
    expect(target).toBeDefined();
    const { answer, messages } = await t.emulator.tap(ALICE, picker, target, 1);
    expect(answer?.text).toMatch(/Undone: read 12 pages, Fri 20 Nov/);
    expect(messages[0].text).toMatch(/Undone: read 12 pages/);
    expect(
      t.emulator
        .message(ALICE, picker.message_id)
        ?.keyboard?.flat()
        .map((b) => b.text),
    ).not.toContain(target);

    const rows = await entries();
    expect(
      rows
        .filter((e) => e.retracted)
        .map((e) => `${e.habit} ${e.amount} ${e.day}`)
        .sort(),
    ).toEqual(["floss 1 2026-11-22", "read 12 2026-11-20", "run 30 2026-11-22"]);
    expect(rows.every((e) => e.amount > 0)).toBe(true); // retracted, never deleted
    const [nothing] = await t.emulator.ask(BOB, "/undo");
    expect(nothing.text).toBe("There is nothing to undo.");
  });

  it("plans a new day the next morning, and old buttons log for their own day", async () => {
    const [oldPlan] = await t.emulator.ask(BOB, "/plan");
    t.clock.set("2026-11-23T08:00:00Z");
    const [newPlan] = await t.emulator.ask(BOB, "/plan");
    expect(newPlan.text).toContain("Plan for Mon 23 Nov");
    const bob = await t.db.prisma.user.findUniqueOrThrow({ where: { telegramId: BigInt(BOB) } });
    expect(await t.db.prisma.plan.count({ where: { userId: bob.id } })).toBe(2);
    const oldButton = oldPlan.keyboard?.flat()[0];
    if (oldButton) {
      const { answer } = await t.emulator.tap(BOB, oldPlan, oldButton.text);
      expect(answer?.text).toMatch(/Logged run: 20 min, yesterday/);
      const stored = await entries(bob.id);
      expect(stored.at(-1)).toMatchObject({ habit: "run", day: "2026-11-22", source: "button" });
    }
  });
});

describe("morning plan push", () => {
  it("sends today's stored plan, records it as sent, and its buttons log", async () => {
    const { createPlanSender } = await import("../../src/bot/commands/plan.js");
    const t = await startTestBot({ now: "2026-11-22T07:30:00Z" });
    try {
      await onboard(t, 801, { habits: ["run 30min 5/week"] });
      const person = await t.db.prisma.user.findUniqueOrThrow({ where: { telegramId: 801n } });
      const send = createPlanSender(t.bot.telegram, t.deps);
      await send(person, "2026-11-21"); // a day that has passed: nothing sent
      const before = t.emulator.botMessages(801).length;
      await send(person, "2026-11-22");
      const pushed = t.emulator.botMessages(801);
      expect(pushed).toHaveLength(before + 1);
      const message = pushed.at(-1)!;
      expect(message.text).toMatch(/^Good morning! Plan for Sun 22 Nov:/);
      const plan = await t.db.prisma.plan.findFirstOrThrow({ where: { userId: person.id } });
      expect(plan.sentAt).not.toBeNull();
      expect(plan.messageId).toBe(BigInt(message.message_id));
      const { answer } = await t.emulator.tap(801, message, /run/);
      expect(answer?.text).toMatch(/Logged run: 30 min, today/);
      expect(t.emulator.message(801, message.message_id)?.text).toContain("✅ run — 30 min");
    } finally {
      await t.stop();
    }
  });
});
