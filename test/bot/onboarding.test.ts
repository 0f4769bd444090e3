import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestBot, type TestBot } from "../support/telegram-bot.js";

describe("onboarding over the Bot API", () => {
  let t: TestBot;
  beforeAll(async () => {
    t = await startTestBot();
  });
  afterAll(async () => {
    await t.stop();
  });

  it("registers, asks time zone and plan time, and offers the starter set", async () => {
    const { emulator } = t;
    const [welcome] = await emulator.ask(101, "/start");
    expect(welcome.text).toMatch(/where are you/i);

    const [unknown] = await emulator.ask(101, "Atlantis");
    expect(unknown.text).toContain('I don\'t know a time zone for "Atlantis"');

    const [askTime] = await emulator.ask(101, "Berlin");
    expect(askTime.text).toContain("Europe/Berlin");
    expect(askTime.keyboard?.flat().map((b) => b.text)).toContain("07:30");

    const { answer, messages } = await emulator.tap(101, askTime, "07:30", 1);
    expect(answer?.text).toContain("07:30");
    expect(messages[0].text).toContain("Starter set");

    const done = await emulator.tap(101, messages[0], "Use the starter set", 1);
    expect(done.messages[0].text).toMatch(/walk — 20 min, 5×\/week/);
    expect(done.messages[0].text).toMatch(/read — 10 pages, daily/);

    const user = await t.db.prisma.user.findUniqueOrThrow({ where: { telegramId: 101n } });
    expect(user.timezone).toBe("Europe/Berlin");
    expect(user.planTime).toBe("07:30");
    expect(user.onboardedAt).not.toBeNull();
    const habits = await t.db.prisma.habit.findMany({ where: { userId: user.id } });
    expect(habits.map((h) => h.name).sort()).toEqual(["read", "stretch", "walk"]);
  });

  it("is idempotent: /start again keeps settings and habits", async () => {
    const [again] = await t.emulator.ask(101, "/start");
    expect(again.text).toMatch(/welcome back/i);
    expect(again.text).toContain("Europe/Berlin");
    const users = await t.db.prisma.user.count({ where: { telegramId: 101n } });
    expect(users).toBe(1);
    const user = await t.db.prisma.user.findUniqueOrThrow({ where: { telegramId: 101n } });
    expect(await t.db.prisma.habit.count({ where: { userId: user.id } })).toBe(3);
  });

  it("accepts a UTC offset and a typed plan time, and a shared location", async () => {
    const { emulator } = t;
    await emulator.ask(102, "/start");
    const [tz] = await emulator.ask(102, "UTC+5:30");
    expect(tz.text).toContain("Asia/Kolkata");
    const [time] = await emulator.ask(102, "6:45");
    expect(time.text).toContain("Plan time: 06:45");
    const user = await t.db.prisma.user.findUniqueOrThrow({ where: { telegramId: 102n } });
    expect(user.planTime).toBe("06:45");

    await emulator.ask(103, "/start");
    const before = emulator.botMessages(103).length;
    const update = emulator.sendLocation(103, 40.4, -3.7);
    await emulator.waitForBotMessages(103, before + 1);
    await emulator.waitForProcessed(update.update_id);
    expect(emulator.lastBotMessage(103).text).toContain("Europe/Madrid");
  });

  it("says where setup stands when someone tries to log before finishing it", async () => {
    const { emulator } = t;
    await emulator.ask(105, "/start");
    await emulator.ask(105, "Lisbon");
    // at the plan-time question: asked again, quoting no plan time the person never chose
    const [askAgain] = await emulator.ask(105, "run 30");
    expect(askAgain.text).toBe(
      "I couldn't read “run 30” as a time. When should I send your daily plan? Tap a time or type one (e.g. 06:45).",
    );
    await emulator.ask(105, "7:30");
    const [reminder] = await emulator.ask(105, "run 30");
    expect(reminder.text).toContain(
      "I couldn't read “run 30” as a place or a time — we're not quite done setting up.",
    );
    expect(reminder.text).toContain("Time zone: Europe/Lisbon (UTC+00:00); plan time: 07:30");
    expect(reminder.text).toContain("Last step: which habits shall we track?");
    const user = await t.db.prisma.user.findUniqueOrThrow({ where: { telegramId: 105n } });
    expect(user.timezone).toBe("Europe/Lisbon");
    const done = await emulator.tap(105, reminder, "I'll add my own", 1);
    expect(done.messages[0].text).toContain("You're set up!");
    const [noHabits] = await emulator.ask(105, "run 30");
    expect(noHabits.text).toBe(
      "You have no habits yet. Add one first, e.g. /habits add run 30min 5/week",
    );
    const [added] = await emulator.ask(105, "/habits add run 30min 5/week");
    expect(added.text).toMatch(/^Added run/);
    const [logged] = await emulator.ask(105, "run 30");
    expect(logged.text).toMatch(/^Stored:\n✓ run: 30 min, today/);
  });

  it("leaves out a starter habit whose name is already one of the person's own", async () => {
    const { emulator } = t;
    await emulator.ask(106, "/start");
    const [askTime] = await emulator.ask(106, "Berlin");
    const { messages } = await emulator.tap(106, askTime, "07:30", 1);
    // a habit of their own after the plan time: set up at once (issue 13)
    const [, setUp] = await emulator.ask(106, "/habits add stroll 20min 5/week", 2);
    expect(setUp.text).toContain("You're set up!");
    const [edited] = await emulator.ask(106, "/habits edit stroll aliases walk");
    expect(edited.text).toContain("Also known as: walk");
    const done = await emulator.tap(106, messages[0], "Use the starter set", 1);
    expect(done.messages[0].text).toContain("You're set up!");
    const user = await t.db.prisma.user.findUniqueOrThrow({ where: { telegramId: 106n } });
    const habits = await t.db.prisma.habit.findMany({ where: { userId: user.id } });
    // “walk” would be ambiguous: a report “walk 20” must mean one habit.
    expect(habits.map((h) => h.name).sort()).toEqual(["read", "stretch", "stroll"]);
    const [logged] = await emulator.ask(106, "walk 20");
    expect(logged.text).toMatch(/^Stored:\n✓ stroll: 20 min, today/);
  });

  it("points unregistered people to /start and publishes nothing for them", async () => {
    const [reply] = await t.emulator.ask(104, "run 30");
    expect(reply.text).toContain("/start");
    expect(await t.db.prisma.user.count({ where: { telegramId: 104n } })).toBe(0);
  });

  it("says what it can read when sent something else (a sticker)", async () => {
    const before = t.emulator.botMessages(101).length;
    const update = t.emulator.enqueue({
      message: {
        message_id: 9999,
        date: Math.floor(Date.now() / 1000),
        chat: { id: 101, type: "private", first_name: "User101" },
        from: { id: 101, is_bot: false, first_name: "User101" },
        sticker: {
          file_id: "s1",
          file_unique_id: "u1",
          type: "regular",
          width: 512,
          height: 512,
          is_animated: false,
          is_video: false,
        },
      },
    });
    await t.emulator.waitForBotMessages(101, before + 1);
    await t.emulator.waitForProcessed(update.update_id);
    expect(t.emulator.lastBotMessage(101).text).toMatch(/^I only read text/);
  });
});
