// Text from people and from Telegram never carries control characters into the database
// (Postgres refuses NUL in text: error 22021). Names are refused with a clear message; a
// Telegram first name is cleaned, so that the person can always register.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { onboard, startTestBot, type TestBot } from "../support/telegram-bot.js";

const USER = 731;
const NUL = "\u0000";

describe("control characters at the edge", () => {
  let t: TestBot;
  beforeAll(async () => {
    t = await startTestBot();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("registers a person whose Telegram first name contains NUL, with the name cleaned", async () => {
    const before = t.emulator.botMessages(USER).length;
    t.emulator.sendText(USER, "/start", { firstName: `An${NUL}na\u0007` });
    const replies = await t.emulator.waitForBotMessages(USER, before + 1);
    expect(replies.at(-1)?.text).not.toMatch(/something went wrong/i);
    const person = await t.db.prisma.user.findUniqueOrThrow({
      where: { telegramId: BigInt(USER) },
    });
    expect(person.displayName).toBe("Anna");
  });

  it("refuses a habit name or alias with a control character, naming the problem", async () => {
    await onboard(t, USER);
    const [reply] = await t.emulator.ask(USER, `/habits add ru${NUL}n 30min daily`);
    expect(reply.text).toMatch(/must not contain control characters/);
    expect(reply.text).not.toMatch(/something went wrong/i);
    const habits = await t.db.prisma.habit.findMany({ where: { name: { contains: "ru" } } });
    expect(habits).toEqual([]);
  });

  it("refuses a metric name with a control character, naming the problem", async () => {
    const [reply] = await t.emulator.ask(USER, `/metric wa${NUL}ist 81 cm`);
    expect(reply.text).not.toMatch(/something went wrong/i);
    expect(reply.text).toMatch(/control characters/);
    expect(await t.db.prisma.metric.count({ where: { name: { contains: "ist" } } })).toBe(0);
  });
});
