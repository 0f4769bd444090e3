// Steering the plan, end to end over HTTP against the Bot API emulator and a real database:
// plan buttons that log what is still missing, "not today", changed amounts and swaps (buttons
// and text), the revision history (database and /export), capacity, the evening check-in.
import { strFromU8, unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROCESSING_LATER } from "../../src/bot/middleware/errors.js";
import { fromDbDate } from "../../src/db/dates.js";
import { loadHistory } from "../../src/db/history.js";
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
    const choices = await press(yesterday, buttonOf(yesterday, "run", "✎ Change"));
    expect(choices.answer).toBe("That plan is for Sun 22 Nov; only today's plan can be changed.");
    expect(choices.messages).toEqual([]);
    expect(await revisions()).toEqual(before);
    const [today] = await t.emulator.ask(USER, "/plan");
    expect(today.text).toContain("Plan for Mon 23 Nov");
    expect(today.text).not.toContain("your choice");
  });

  it("hands the changes to the behaviour fit: the planner's plan, what was done, what was chosen", async () => {
    const ids = Object.fromEntries(
      (await t.db.prisma.habit.findMany({ where: { userId: personId } })).map((h) => [
        h.name,
        String(h.id),
      ]),
    );
    const history = await loadHistory(t.db, personId, "2026-11-23", 90);
    expect(history.days).toHaveLength(1);
    const [sunday] = history.days;
    expect(sunday.planned).toEqual({
      [ids.run]: 30,
      [ids.swim]: 40,
      [ids.read]: 20,
      [ids.floss]: 1,
    });
    expect(sunday.done).toEqual({ [ids.read]: 20 });
    // the latest change per habit: run back at 30, swim and floss off, read swapped back in
    expect(sunday.chosen).toEqual({ [ids.run]: 30, [ids.swim]: 0, [ids.read]: 20, [ids.floss]: 0 });
  });
});

describe("capacity in /settings", () => {
  const USER = 1303;
  let t: TestBot;
  beforeAll(async () => {
    t = await startTestBot({ now: "2026-11-22T09:00:00Z" });
    await onboard(t, USER, {
      habits: ["run 30min daily", "violin 20 min daily", "stretch 15 min daily"],
    });
  });
  afterAll(async () => {
    await t.stop();
  });

  /** Minutes of the plan shown for today (every habit here is a time habit). */
  function plannedMinutes(text: string): number {
    return [...text.matchAll(/^▫️ \S+ — (\d+) min/gm)].reduce((s, m) => s + Number(m[1]), 0);
  }

  it("is shown, validated, and changes the next plan (today's stays)", async () => {
    const [today] = await t.emulator.ask(USER, "/plan");
    expect(plannedMinutes(today.text!)).toBe(65);
    const [shown] = await t.emulator.ask(USER, "/settings");
    expect(shown.text).toContain("• Capacity: no limit");
    const [bad] = await t.emulator.ask(USER, "/settings capacity lots");
    expect(bad.text).toContain("How many minutes a day can your plan take?");
    const [tooSmall] = await t.emulator.ask(USER, "/settings capacity 5");
    expect(tooSmall.text).toContain("from 10 to 1440");
    const [set] = await t.emulator.ask(USER, "/settings capacity 45 min");
    expect(set.text).toMatch(/^Capacity set: about 45 min a day\. From tomorrow's plan on/);
    const person = () =>
      t.db.prisma.user.findUniqueOrThrow({ where: { telegramId: BigInt(USER) } });
    expect((await person()).capacityMinutes).toBe(45);
    const [again] = await t.emulator.ask(USER, "/plan");
    expect(again.text).toBe(today.text);

    t.clock.set("2026-11-23T09:00:00Z");
    const [next] = await t.emulator.ask(USER, "/plan");
    expect(next.text).toContain("Plan for Mon 23 Nov");
    expect(plannedMinutes(next.text!)).toBeGreaterThan(0);
    expect(plannedMinutes(next.text!)).toBeLessThanOrEqual(45);
    const [listed] = await t.emulator.ask(USER, "/settings");
    expect(listed.text).toContain("• Capacity: about 45 min a day");

    const [off] = await t.emulator.ask(USER, "/settings capacity off");
    expect(off.text).toContain("Capacity limit removed");
    expect((await person()).capacityMinutes).toBeNull();
    const [hours] = await t.emulator.ask(USER, "/settings capacity 1.5h");
    expect(hours.text).toContain("about 90 min a day");
  });
});

describe("the evening check-in", () => {
  const USER = 1304;
  const QUIET = 1305; // never chose a check-in: off by default
  let t: TestBot;
  beforeAll(async () => {
    t = await startTestBot({ now: "2026-11-22T09:00:00Z" });
    await onboard(t, USER, { habits: ["run 30min daily", "read 20 pages daily", "floss 7/week"] });
    await onboard(t, QUIET, { habits: ["run 30min daily"] });
  });
  afterAll(async () => {
    await t.stop();
  });

  it("lists what is still open at the chosen time, once per day across instances", async () => {
    const [off] = await t.emulator.ask(USER, "/settings");
    expect(off.text).toContain("• Evening check-in: off");
    const [bad] = await t.emulator.ask(USER, "/settings checkin later");
    expect(bad.text).toContain("is not a time of day");
    const [set] = await t.emulator.ask(USER, "/settings checkin 9pm");
    expect(set.text).toMatch(/^Evening check-in at 21:00 \(UTC\)/);
    await t.emulator.ask(USER, "read 20");
    await t.emulator.ask(USER, "skip floss");

    const { startSchedules } = await import("../../src/app/scheduling/schedule.js");
    const { CHECK_IN_JOB } = await import("../../src/app/scheduling/check-in.js");
    const { createCheckInSender } = await import("../../src/bot/commands/check-in.js");
    const noPlanPush = async () => ({ kind: "not-needed" as const, reason: "test" });
    const options = (instance: string) => ({
      manual: true,
      instance,
      sendCheckIn: createCheckInSender(t.bot.telegram, t.deps),
    });
    const a = startSchedules(t.deps, noPlanPush, options("a"));
    const b = startSchedules(t.deps, noPlanPush, options("b"));
    try {
      const before = t.emulator.botMessages(USER).length;
      t.clock.set("2026-11-22T20:59:00Z");
      expect((await a.tickCheckIns(t.clock.now())).due).toBe(0);
      t.clock.set("2026-11-22T21:00:30Z");
      const [ra, rb] = await Promise.all([
        a.tickCheckIns(t.clock.now()),
        b.tickCheckIns(t.clock.now()),
      ]);
      expect(ra.sent + rb.sent).toBe(1);
      expect(ra.skipped + rb.skipped).toBe(1);
      t.clock.set("2026-11-22T21:05:00Z");
      expect(await a.tickCheckIns(t.clock.now())).toEqual({
        due: 1,
        sent: 0,
        skipped: 1,
        failed: 0,
      });
      const sent = t.emulator.botMessages(USER).slice(before);
      expect(sent).toHaveLength(1);
      const checkIn = sent[0];
      // only run is open: read is done, floss was taken off
      expect(checkIn.text).toBe(
        [
          "Evening check-in — still open from today's plan:",
          "▫️ run — 30 min",
          "",
          "Tap what you did, or “Not today” for what you'll leave. (/settings checkin off stops these messages.)",
        ].join("\n"),
      );
      expect(t.emulator.botMessages(QUIET).some((m) => m.text?.startsWith("Evening"))).toBe(false);
      const claims = await t.db.prisma.jobRun.findMany({ where: { job: CHECK_IN_JOB } });
      expect(claims).toHaveLength(1);
      expect(claims[0].finishedAt).not.toBeNull();

      // its buttons steer and log like the plan's
      const { answer } = await t.emulator.tap(USER, checkIn, "✓ run 30 min");
      expect(answer?.text).toMatch(/^Logged run: 30 min, today/);
      expect(t.emulator.message(USER, checkIn.message_id)?.keyboard ?? []).toEqual([]);

      // the next evening with everything done: nothing to say, nothing sent
      t.clock.set("2026-11-23T09:00:00Z");
      await t.emulator.ask(USER, "run 30, read 20, floss");
      const quietBefore = t.emulator.botMessages(USER).length;
      t.clock.set("2026-11-23T21:01:00Z");
      const done = await a.tickCheckIns(t.clock.now());
      expect(done).toMatchObject({ due: 1, sent: 0, skipped: 1 });
      expect(t.emulator.botMessages(USER)).toHaveLength(quietBefore);

      // off again: not due
      await t.emulator.ask(USER, "/settings checkin off");
      t.clock.set("2026-11-24T21:01:00Z");
      expect((await a.tickCheckIns(t.clock.now())).due).toBe(0);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

describe("a change whose answer failed", () => {
  const USER = 1306;
  let t: TestBot;
  beforeAll(async () => {
    t = await startTestBot({ now: "2026-11-22T09:00:00Z" });
    await onboard(t, USER, { habits: ["run 30min daily", "read 20 pages daily"] });
  });
  afterAll(async () => {
    await t.stop();
  });

  it("is stored once when the update is handled again, and answered as already changed", async () => {
    await t.emulator.ask(USER, "/plan");
    // Telegram fails for a while (5xx) after the revision was stored: the update is tried again
    t.emulator.failNext("sendMessage", { code: 502, description: "Bad Gateway" });
    const [notice, answer] = await t.emulator.ask(USER, "skip run", 2);
    expect(notice.text).toBe(PROCESSING_LATER);
    expect(answer.text).toMatch(
      /^Already changed \(this message came twice\):\n• run: not today \(was 30 min\)/,
    );
    expect(answer.text).toContain("Not today (your choice): run");
    const stored = await t.db.prisma.planRevision.findMany();
    expect(stored.map((r) => [r.change, r.fromAmount, r.toAmount])).toEqual([["not_today", 30, 0]]);
  });
});
