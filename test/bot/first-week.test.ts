// Issue 13, "a first week that never confuses": the defects found by trying the bot as new
// people would, each reproduced through the real bot over the Bot API emulator.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSchedules } from "../../src/app/scheduling/schedule.js";
import { createPlanSender } from "../../src/bot/commands/plan.js";
import { onboard, startTestBot, type TestBot } from "../support/telegram-bot.js";
import { decodePng } from "../support/telegram-emulator.js";

describe("a first week that never confuses", () => {
  let t: TestBot;
  const person = (id: number) =>
    t.db.prisma.user.findUniqueOrThrow({ where: { telegramId: BigInt(id) } });

  beforeAll(async () => {
    // Sunday 22 Nov 2026, 05:00 UTC
    t = await startTestBot({ now: "2026-11-22T05:00:00Z" });
  });
  afterAll(async () => {
    await t.stop();
  });

  describe("1. onboarded however they got there", () => {
    it("the README path (/start → city → time → /habits add …) gets the morning plan", async () => {
      const { emulator } = t;
      await emulator.ask(1301, "/start");
      await emulator.ask(1301, "Berlin");
      const [habitsQuestion] = await emulator.ask(1301, "07:30");
      expect(habitsQuestion.text).toContain("Last step: which habits shall we track?");
      const [added, setUp] = await emulator.ask(1301, "/habits add run 30min 5/week", 2);
      expect(added.text).toMatch(/^Added run/);
      expect(setUp.text).toContain(
        "You're set up! I'll send your plan each morning at 07:30 (Europe/Berlin).",
      );
      expect((await person(1301)).onboardedAt).not.toBeNull();

      // 07:30 in Berlin is 06:30 UTC: the schedule sends the plan
      const schedules = startSchedules(t.deps, createPlanSender(t.bot.telegram, t.deps), {
        manual: true,
        instance: "first-week",
      });
      const before = emulator.botMessages(1301).length;
      const tick = await schedules.tickPlans(new Date("2026-11-22T06:31:00Z"));
      await schedules.stop();
      expect(tick.sent).toBeGreaterThanOrEqual(1);
      const morning = emulator.botMessages(1301).slice(before);
      expect(morning.map((m) => m.text)).toEqual([
        expect.stringMatching(/^Good morning! Plan for/),
      ]);

      // and /start does not begin again from "where are you?"
      const [again] = await emulator.ask(1301, "/start");
      expect(again.text).toMatch(
        /^Welcome back, User1301! You're all set \(Europe\/Berlin, plan at 07:30\)/,
      );
      expect(again.text).not.toMatch(/where are you/i);
    });

    it("a habit added before the plan time: onboarded at once, the default time said as a default", async () => {
      const { emulator } = t;
      await emulator.ask(1302, "/start");
      await emulator.ask(1302, "Lisbon");
      const [, setUp] = await emulator.ask(1302, "/habits add read 10 pages daily", 2);
      expect(setUp.text).toContain(
        "You're set up! I'll send your plan each morning at 07:30 (Europe/Lisbon) — tap another time",
      );
      expect(setUp.keyboard?.flat().map((b) => b.text)).toContain("06:30");
      expect((await person(1302)).onboardedAt).not.toBeNull();
      const [time] = await emulator.ask(1302, "6:45");
      expect(time.text).toBe("I'll send your plan at 06:45 (Europe/Lisbon).");
    });

    it("a habit before the time zone: asks where they are, then carries on (not from the start)", async () => {
      const { emulator } = t;
      await emulator.ask(1303, "/start");
      const [, where] = await emulator.ask(1303, "/habits add walk 20min 5/week", 2);
      expect(where.text).toContain("One more thing before your morning plans");
      expect((await person(1303)).onboardedAt).toBeNull();
      const [resumed] = await emulator.ask(1303, "/start");
      expect(resumed.text).toMatch(/where are you/i);
      const [setUp] = await emulator.ask(1303, "Madrid");
      expect(setUp.text).toContain(
        "You're set up! I'll send your plan each morning at 07:30 (Europe/Madrid)",
      );
      expect((await person(1303)).onboardedAt).not.toBeNull();
    });

    it("/start part of the way through asks the next question, not the first", async () => {
      const { emulator } = t;
      await emulator.ask(1304, "/start");
      await emulator.ask(1304, "Rome");
      const [resumed] = await emulator.ask(1304, "/start");
      expect(resumed.text).toMatch(/^Welcome back, User1304! Time zone: Europe\/Rome/);
      expect(resumed.text).toContain("When should I send your daily plan?");
    });
  });

  describe("4. time zones", () => {
    it.each([
      ["Kathmandu", "Asia/Kathmandu (UTC+05:45)"],
      ["Kolkata", "Asia/Kolkata (UTC+05:30)"],
      ["Asia/Calcutta", "Asia/Kolkata (UTC+05:30)"],
      ["Kiev", "Europe/Kyiv (UTC+02:00)"],
      ["Nepal", "Asia/Kathmandu (UTC+05:45)"],
      ["Germany", "Europe/Berlin (UTC+01:00)"],
      ["+5:45", "Asia/Kathmandu (UTC+05:45)"],
    ])("%s is understood and shown as %s", async (answer, shown) => {
      const id = 1400 + answer.length * 10 + (answer.charCodeAt(0) % 10);
      await t.emulator.ask(id, "/start");
      const [reply] = await t.emulator.ask(id, answer);
      expect(reply.text).toContain(`Time zone: ${shown}`);
    });

    it("a typo is read as the nearest place and said so", async () => {
      await t.emulator.ask(1410, "/start");
      const [reply] = await t.emulator.ask(1410, "Berln");
      expect(reply.text).toContain("I read that as Berlin. Time zone: Europe/Berlin");
      expect((await person(1410)).timezone).toBe("Europe/Berlin");
    });

    it("a country with several time zones asks which, with buttons", async () => {
      await t.emulator.ask(1411, "/start");
      const [question] = await t.emulator.ask(1411, "Australia");
      expect(question.text).toContain("Australia has more than one time zone — which is yours?");
      const buttons = question.keyboard?.flat().map((b) => b.text) ?? [];
      expect(buttons).toContain("Sydney — Australia/Sydney (UTC+11:00)");
      expect(buttons).toContain("Perth — Australia/Perth (UTC+08:00)");
      const { messages } = await t.emulator.tap(1411, question, /^Perth/, 1);
      expect(messages[0].text).toContain("Time zone: Australia/Perth (UTC+08:00)");
      expect((await person(1411)).timezone).toBe("Australia/Perth");
      // a forged zone button changes nothing
      const forged = t.emulator.sendCallbackQuery(1411, question, "tz:Mars/Olympus_Mons");
      await t.emulator.waitForProcessed(forged.update_id);
      expect(t.emulator.callbackAnswers.at(-1)?.text).toBe("This button is no longer valid.");
      expect((await person(1411)).timezone).toBe("Australia/Perth");
    });

    it("an offset and the city it suggests are both accepted once set up", async () => {
      await onboard(t, 1412, { timezone: "Paris" });
      const [offset] = await t.emulator.ask(1412, "/settings timezone +5");
      expect(offset.text).toContain("send your city instead");
      const [city] = await t.emulator.ask(1412, "/settings timezone Kathmandu");
      expect(city.text).toBe("Time zone set: Asia/Kathmandu (UTC+05:45).");
      const [fraction] = await t.emulator.ask(1412, "/settings timezone +5:45");
      expect(fraction.text).toBe("Time zone set: Asia/Kathmandu (UTC+05:45).");
    });

    it("a failed answer at the plan-time step asks again without quoting an unchosen time", async () => {
      await t.emulator.ask(1413, "/start");
      await t.emulator.ask(1413, "Oslo");
      const [again] = await t.emulator.ask(1413, "whenever");
      expect(again.text).toBe(
        "I couldn't read “whenever” as a time. When should I send your daily plan? Tap a time or type one (e.g. 06:45).",
      );
      expect(again.text).not.toContain("07:30");
      expect(again.keyboard?.flat().map((b) => b.text)).toContain("07:30");
    });

    it("a shared location in a renamed zone is shown by its modern name", async () => {
      await t.emulator.ask(1414, "/start");
      const before = t.emulator.botMessages(1414).length;
      const update = t.emulator.sendLocation(1414, 50.45, 30.52);
      await t.emulator.waitForBotMessages(1414, before + 1);
      await t.emulator.waitForProcessed(update.update_id);
      expect(t.emulator.lastBotMessage(1414).text).toContain("Time zone: Europe/Kyiv");
    });
  });

  describe("3. /stats on day one", () => {
    /** Pixels close to a colour (the chart's own palette, anti-aliasing allowed). */
    function pixelsNear(png: Buffer, hex: string): number {
      const image = decodePng(png);
      const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
      let n = 0;
      for (let i = 0; i < image.pixels.length; i += image.channels) {
        const near =
          Math.abs(image.pixels[i] - r) < 40 &&
          Math.abs(image.pixels[i + 1] - g) < 40 &&
          Math.abs(image.pixels[i + 2] - b) < 40;
        if (near) n++;
      }
      return n;
    }

    it("draws a marker for each habit with one day of data (not only its legend entry)", async () => {
      await onboard(t, 1310, { habits: ["run 30min 5/week", "read 10 pages daily"] });
      // (habits are created at the real time, after the test clock: an entry starts them today)
      await t.emulator.ask(1310, "run 30, read 5 pages");
      const [chart] = await t.emulator.ask(1310, "/stats");
      const png = chart.photo!.bytes!;
      // tableau10's first two colours, in habit order; a legend symbol alone is ~70 pixels
      expect(pixelsNear(png, "#4e79a7")).toBeGreaterThan(300);
      expect(pixelsNear(png, "#f28e2b")).toBeGreaterThan(300);
    });

    it("an undone back-dated report does not move the habit's start (nor lower the average)", async () => {
      await onboard(t, 1311, { habits: ["run 30min 5/week"] });
      await t.emulator.ask(1311, "run 30 2026-11-17");
      const [undone] = await t.emulator.ask(1311, "/undo");
      expect(undone.text).toContain("Undone: run 30 min");
      await t.emulator.ask(1311, "run 30");
      await onboard(t, 1312, { habits: ["run 30min 5/week"] });
      await t.emulator.ask(1312, "run 30");
      const [withUndo] = await t.emulator.ask(1311, "/stats");
      const [without] = await t.emulator.ask(1312, "/stats");
      const reward = (caption?: string) =>
        /Daily reward: (\d\.\d\d) on average/.exec(caption ?? "")?.[1];
      expect(reward(withUndo.caption)).toBeDefined();
      expect(reward(withUndo.caption)).toBe(reward(without.caption));
    });

    it("/stats 7 works, and a year names its years", async () => {
      await onboard(t, 1313, { habits: ["run 30min 5/week"] });
      const [week] = await t.emulator.ask(1313, "/stats 7");
      expect(week.caption).toContain("Last 7 days (Mon 16 Nov – Sun 22 Nov)");
      const [year] = await t.emulator.ask(1313, "/stats 365");
      expect(year.caption).toContain("Last 365 days (Sun 23 Nov 2025 – Sun 22 Nov 2026)");
    });
  });

  describe("5. every question takes its natural answers", () => {
    it("“daily” answers “how many days a week?” without replying to it", async () => {
      await onboard(t, 1501, { habits: ["run 30min 5/week"] });
      const [question] = await t.emulator.ask(1501, "/habits add meditate 10min");
      expect(question.text).toContain("how many days a week?");
      const [added] = await t.emulator.ask(1501, "daily");
      expect(added.text).toMatch(/^Added meditate: 10 min, daily\./);
      // and the question is closed: “daily” again is no second habit
      const [later] = await t.emulator.ask(1501, "daily");
      expect(later.text).not.toMatch(/^Added/);
    });

    it("the guided flow takes typed answers: “minutes”, “25”, “twice a week”", async () => {
      await onboard(t, 1502, { habits: ["run 30min 5/week"] });
      const [askName] = await t.emulator.ask(1502, "/habits add");
      const [askKind] = await t.emulator.ask(1502, "swim", 1, { replyTo: askName });
      expect(askKind.text).toBe("New habit “swim”: how do you measure it?");
      const [askMinutes] = await t.emulator.ask(1502, "minutes");
      expect(askMinutes.text).toBe("New habit “swim”, in minutes: how long is one session?");
      const [askDays] = await t.emulator.ask(1502, "25");
      expect(askDays.text).toContain("New habit “swim”, 25 min per session: how many days a week?");
      const [added] = await t.emulator.ask(1502, "twice a week");
      expect(added.text).toMatch(/^Added swim: 25 min, 2×\/week\./);
    });

    it("“starter set” or “my own” typed answers the last onboarding question", async () => {
      await t.emulator.ask(1505, "/start");
      await t.emulator.ask(1505, "Vienna");
      await t.emulator.ask(1505, "7:00");
      const [done] = await t.emulator.ask(1505, "the starter set");
      expect(done.text).toMatch(/walk — 20 min, 5×\/week[\s\S]*You're set up!/);
      expect((await person(1505)).onboardedAt).not.toBeNull();
      await t.emulator.ask(1506, "/start");
      await t.emulator.ask(1506, "Vienna");
      await t.emulator.ask(1506, "7:00");
      const [own] = await t.emulator.ask(1506, "I'll add my own");
      expect(own.text).toContain("You have no habits yet. Add one: /habits add run 30min 5/week");
    });

    it("“2” answers “which entry shall I undo?”", async () => {
      await onboard(t, 1507, { habits: ["run 30min 5/week", "read 10 pages daily"] });
      await t.emulator.ask(1507, "run 30");
      await t.emulator.ask(1507, "read 12 pages");
      const [picker] = await t.emulator.ask(1507, "/undo pick");
      expect(picker.text).toBe(
        "Which entry shall I undo? (newest first) Tap one, or type its number.",
      );
      const [undone] = await t.emulator.ask(1507, "2");
      expect(undone.text).toMatch(/^Undone: run 30 min, today\./);
      const user = await person(1507);
      const entries = await t.db.prisma.habitEntry.findMany({
        where: { userId: user.id },
        orderBy: { id: "asc" },
      });
      expect(entries.map((e) => [e.amount, e.retractedAt !== null])).toEqual([
        [30, true],
        [12, false],
      ]);
    });

    it("a stored question of an unknown shape is no question (nothing breaks)", async () => {
      await onboard(t, 1504, { habits: ["run 30min 5/week"] });
      await t.db.prisma.user.update({
        where: { telegramId: 1504n },
        data: { openQuestion: { kind: "habit-days" }, openQuestionAt: t.clock.now() },
      });
      const [reply] = await t.emulator.ask(1504, "run 30");
      expect(reply.text).toMatch(/^Stored:\n✓ run: 30 min, today/);
    });

    it("a typed city answers “which of the country's zones?”", async () => {
      await onboard(t, 1503, { habits: ["run 30min 5/week"] });
      const [question] = await t.emulator.ask(1503, "/settings timezone USA");
      expect(question.text).toContain("United States of America has more than one time zone");
      const [set] = await t.emulator.ask(1503, "Denver");
      expect(set.text).toBe("Time zone set: America/Denver (UTC-07:00).");
    });
  });

  describe("6. small but visible", () => {
    it("greets by first name, says “1 glass”, and examples use the person's own units", async () => {
      const [hi] = await t.emulator.ask(1602, "/start");
      expect(hi.text).toMatch(/^Hi User1602!/);
      await t.emulator.ask(1602, "UTC");
      await t.emulator.ask(1602, "07:30");
      const [added] = await t.emulator.ask(1602, "/habits add water 8 glasses daily", 2);
      expect(added.text).toContain("Log it like “water 8 glasses”");
      const [one] = await t.emulator.ask(1602, "water 1");
      expect(one.text).toMatch(/✓ water: 1 glass, today/);
    });

    it("“drank 6 water”, number words and “2 days ago” are understood", async () => {
      await onboard(t, 1603, { habits: ["water 8 glasses daily", "run 30min 5/week"] });
      const [drank] = await t.emulator.ask(1603, "drank 6 water");
      expect(drank.text).toMatch(/✓ water: 6 glasses, today/);
      const [words] = await t.emulator.ask(1603, "ran twenty minutes 2 days ago");
      expect(words.text).toMatch(/✓ run: 20 min, Fri 20 Nov/);
    });

    it("a repeated yes/no report says “already done today” and stores nothing more", async () => {
      await onboard(t, 1604, { habits: ["floss 7/week"] });
      const [first] = await t.emulator.ask(1604, "floss");
      expect(first.text).toMatch(/^Stored:\n✓ floss: done, today/);
      const [again] = await t.emulator.ask(1604, "floss");
      expect(again.text).toMatch(/^Nothing new:\n✓ floss: already done today/);
      const user = await person(1604);
      expect(await t.db.prisma.habitEntry.count({ where: { userId: user.id } })).toBe(1);
    });

    it("asks before storing an implausible amount (“run 30” for a 5 km habit)", async () => {
      await onboard(t, 1605, { habits: ["run 5km 3/week"] });
      const [question] = await t.emulator.ask(1605, "run 30");
      expect(question.text).toBe(
        "30 km of run is 6 times your usual 5 km.\nStore it? (With the unit it's clear, e.g. “run 5 km”.)",
      );
      const user = await person(1605);
      expect(await t.db.prisma.habitEntry.count({ where: { userId: user.id } })).toBe(0);
      const [no] = await t.emulator.ask(1605, "no");
      expect(no.text).toContain("nothing stored");
      const [again] = await t.emulator.ask(1605, "run 30");
      const { messages } = await t.emulator.tap(1605, again, "Yes, store it", 1);
      expect(messages[0].text).toMatch(/^Stored:\n✓ run: 30 km, today/);
      expect(await t.db.prisma.habitEntry.count({ where: { userId: user.id } })).toBe(1);
      const [explicit] = await t.emulator.ask(1605, "run 7 km");
      expect(explicit.text).toMatch(/^Stored:\n✓ run: 7 km/);
    });

    it("answers thanks and “what should I do today?” with the plan or help, not a parser error", async () => {
      await onboard(t, 1606, { habits: ["run 30min 5/week"] });
      const [thanks] = await t.emulator.ask(1606, "thanks!");
      expect(thanks.text).toBe("You're welcome! Tell me what you did any time, e.g. “run 30”.");
      const [today] = await t.emulator.ask(1606, "what should I do today?");
      expect(today.text).toMatch(/^Plan for Sun 22 Nov/);
      const [help] = await t.emulator.ask(1606, "help");
      expect(help.text).toMatch(/^How it works/);
      // the examples are the person's own habit
      expect(help.text).toContain(
        "Log what you did — just write it:\n  run 30   (today)\n  run 30 yesterday\n",
      );
    });

    it("a plan time before the day-start hour is refused with the way out", async () => {
      await onboard(t, 1601, { timezone: "Berlin", habits: ["run 30min 5/week"] });
      const [early] = await t.emulator.ask(1601, "/settings plan 3:00");
      expect(early.text).toBe(
        "Your day starts at 04:00, so a plan at 03:00 would still be yesterday's plan. Pick a time from 04:00 on, or move the start of your day first (/settings daystart 3).",
      );
      expect((await person(1601)).planTime).toBe("07:30");
      const [late] = await t.emulator.ask(1601, "/settings daystart 8");
      expect(late.text).toContain("would make it yesterday's plan");
      expect((await person(1601)).dayStartHour).toBe(4);
    });
  });
});
