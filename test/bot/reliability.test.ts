// Behaviour under real conditions: re-delivered updates, restarts, handler errors, 429s, long
// messages, the command menu, and concurrent messages from one person (real Postgres).
import { Telegram } from "telegraf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishCommandMenu } from "../../src/bot/bot.js";
import { RETRY_DELAYS_MS } from "../../src/bot/delivery.js";
import { PROCESSING_LATER } from "../../src/bot/middleware/errors.js";
import { installTelegramPolicies, splitMessage } from "../../src/bot/telegram-policies.js";
import { createLogger } from "../../src/logger.js";
import { createTestDatabase, onRealPostgres, type TestDatabase } from "../support/database.js";
import { onboard, startTestBot, type TestBot } from "../support/telegram-bot.js";
import { startEmulator, type TelegramEmulator } from "../support/telegram-emulator.js";

const silent = createLogger({ level: "silent", pretty: false, secrets: [] });

describe("re-delivery and restarts", () => {
  let emulator: TelegramEmulator;
  let database: TestDatabase;
  let t: TestBot;

  beforeAll(async () => {
    emulator = await startEmulator();
    database = await createTestDatabase();
    t = await startTestBot({ emulator, database });
    await onboard(t, 401, { habits: ["run 30min 5/week"] });
  });
  afterAll(async () => {
    await t.stop();
    await emulator.close();
    await database.dispose();
  });

  it("stores a re-delivered update once and answers it once", async () => {
    const [plan] = await emulator.ask(401, "/plan");
    const update = emulator.sendText(401, "run 25");
    await emulator.waitForProcessed(update.update_id);
    await emulator.waitForBotMessages(401, emulator.botMessages(401).length);
    const repliesBefore = emulator.botMessages(401).length;

    // The process dies before Telegram learns the update was handled: a new instance gets it again.
    await t.stop();
    emulator.redeliver(update);
    const outcomes: string[] = [];
    const callsBefore = emulator.calls.length;
    t = await startTestBot({ emulator, database, deps: { countUpdate: (o) => outcomes.push(o) } });
    // The new instance confirms the re-delivered update by polling past it.
    await emulator.waitFor(
      () =>
        emulator.calls
          .slice(callsBefore)
          .some((c) => c.method === "getUpdates" && Number(c.payload.offset) > update.update_id),
      "the new instance to confirm the re-delivered update",
    );
    expect(emulator.batches.at(-1)).toEqual([update.update_id]);

    const entries = await database.db.prisma.habitEntry.findMany({ where: { amount: 25 } });
    expect(entries).toHaveLength(1);
    expect(entries[0].idempotencyKey).toBe(`tg:${update.update_id}:0`);
    expect(emulator.botMessages(401)).toHaveLength(repliesBefore);
    expect(outcomes).toEqual(["duplicate"]);
    expect(
      await database.db.prisma.processedUpdate.count({
        where: { updateId: BigInt(update.update_id) },
      }),
    ).toBe(1);

    // Buttons sent before the restart still work: 25 of the planned 30 are logged, the button
    // logs the missing 5.
    const { answer } = await emulator.tap(401, plan, /run/);
    expect(answer?.text).toMatch(/Logged run: 5 min, today/);
  });

  it("answers a failing handler with an apology, logs the update id, and keeps running", async () => {
    let broken = true;
    const original = t.deps.now;
    t.deps.now = () => {
      if (broken) throw new Error("clock exploded");
      return original();
    };
    try {
      const update = emulator.sendText(401, "/plan");
      await emulator.waitForProcessed(update.update_id);
      expect(emulator.lastBotMessage(401).text).toMatch(/^Sorry — something went wrong/);
      const line = t.logs.find((l) => l.includes("update handler failed"));
      expect(line).toBeDefined();
      expect(JSON.parse(line!)).toMatchObject({
        update_id: update.update_id,
        err: { message: "clock exploded" },
      });
      // a bug fails the same way every time: the update counts as handled (no endless retries)
      const row = await database.db.prisma.processedUpdate.findUniqueOrThrow({
        where: { updateId: BigInt(update.update_id) },
      });
      expect(row.doneAt).not.toBeNull();
    } finally {
      broken = false;
      t.deps.now = original;
    }
    const [help] = await emulator.ask(401, "/help");
    expect(help.text).toContain("/plan");
  });

  it("retries after a 429 with retry_after", async () => {
    emulator.failNext("sendMessage", {
      code: 429,
      description: "Too Many Requests: retry after 7",
      parameters: { retry_after: 7 },
    });
    const before = emulator.callsOf("sendMessage").length;
    const waits = t.sleeps.length;
    const [help] = await emulator.ask(401, "/help");
    expect(help.text).toContain("/plan");
    expect(emulator.callsOf("sendMessage").length - before).toBe(2);
    // it waited exactly what Telegram asked for before the second attempt
    expect(t.sleeps.slice(waits)).toEqual([7000]);
    expect(t.logs.some((l) => l.includes("telegram rate limit; retrying"))).toBe(true);
    expect(emulator.botMessages(401).filter((m) => m.text === help.text).length).toBeGreaterThan(0);
  });

  it("on a retry_after longer than a minute, handles the update again a minute later (no apology, no notice)", async () => {
    emulator.failNext("sendMessage", {
      code: 429,
      description: "Too Many Requests: retry after 3600",
      parameters: { retry_after: 3600 },
    });
    const waits = t.sleeps.length;
    const before = emulator.botMessages(401).length;
    const update = emulator.sendText(401, "/help");
    await emulator.waitForProcessed(update.update_id);
    // the call gave up at once; the update was retried in-process after at most a minute
    expect(t.sleeps.slice(waits)).toEqual([60_000]);
    const said = emulator.botMessages(401).slice(before);
    expect(said).toHaveLength(1);
    expect(said[0].text).toContain("/plan");
  });

  it("retries a report whose confirmation Telegram failed (500): stored once, confirmed, never asked to re-send", async () => {
    emulator.failNext("sendMessage", { code: 500, description: "Internal Server Error" });
    const before = emulator.botMessages(401).length;
    const waits = t.sleeps.length;
    const update = emulator.sendText(401, "run 33");
    await emulator.waitForProcessed(update.update_id);
    const said = emulator
      .botMessages(401)
      .slice(before)
      .map((m) => m.text ?? "");
    expect(said).toEqual([
      PROCESSING_LATER,
      expect.stringMatching(/^Already stored \(this message was delivered twice\):\n✓ run: 33 min/),
    ]);
    expect(said.join("\n")).not.toMatch(/again|sorry/i);
    expect(t.sleeps.slice(waits)).toEqual([RETRY_DELAYS_MS[0]]);
    const entries = await database.db.prisma.habitEntry.findMany({ where: { amount: 33 } });
    expect(entries.map((e) => e.idempotencyKey)).toEqual([`tg:${update.update_id}:0`]);
    const row = await database.db.prisma.processedUpdate.findUniqueOrThrow({
      where: { updateId: BigInt(update.update_id) },
    });
    expect(row.doneAt).not.toBeNull();
  });

  it("splits the bot's own replies over 4096 characters into several messages", async () => {
    const user = await database.db.prisma.user.findUniqueOrThrow({ where: { telegramId: 401n } });
    // more habits than fit in one message: /habits lists them all
    const names = Array.from({ length: 40 }, (_, i) => `habit number ${i + 1} ${"x".repeat(60)}`);
    for (const [i, name] of names.entries()) {
      await database.db.prisma.habit.create({
        data: {
          userId: user.id,
          name,
          nameKey: name,
          kind: "check",
          unit: "",
          target: 1,
          daysPerWeek: 7,
          levels: [0, 1],
          sortOrder: 100 + i,
          aliases: [`alias ${i + 1} ${"y".repeat(60)}`],
        },
      });
    }
    try {
      const before = emulator.botMessages(401).length;
      const update = emulator.sendText(401, "/habits");
      await emulator.waitForProcessed(update.update_id);
      const parts = emulator.botMessages(401).slice(before);
      expect(parts.length).toBeGreaterThan(1);
      for (const part of parts) expect(part.text!.length).toBeLessThanOrEqual(4096);
      const all = parts.map((p) => p.text).join("\n");
      for (const name of names) expect(all).toContain(name);
      expect(all).toContain("/habits archive run");
    } finally {
      await database.db.prisma.habit.deleteMany({
        where: { userId: user.id, name: { startsWith: "habit number" } },
      });
    }
  });

  it("does not leak the bot token into logs", () => {
    expect(t.logs.join("\n")).not.toContain(emulator.token);
  });
});

describe("Bot API policies against the emulator", () => {
  let emulator: TelegramEmulator;
  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(async () => {
    await emulator.close();
  });

  it("splits messages over 4096 characters, buttons on the last part", async () => {
    const telegram = new Telegram(emulator.token, { apiRoot: emulator.apiRoot });
    installTelegramPolicies(telegram, { log: silent });
    const paragraph = `${"word ".repeat(199)}end\n\n`;
    const text = paragraph.repeat(10);
    expect(text.length).toBeGreaterThan(9000);
    await telegram.sendMessage(77, text, {
      reply_markup: { inline_keyboard: [[{ text: "ok", callback_data: "x" }]] },
    });
    const parts = emulator.botMessages(77);
    expect(parts.length).toBe(3);
    for (const part of parts) expect(part.text!.length).toBeLessThanOrEqual(4096);
    const words = (s: string) => s.split(/\s+/).filter(Boolean);
    expect(parts.flatMap((p) => words(p.text!))).toEqual(words(text));
    expect(parts[2].keyboard).toEqual([[{ text: "ok", callback_data: "x" }]]);
    expect(parts[0].keyboard).toBeUndefined();
  });

  it("splits text without any break points and keeps surrogate pairs whole", () => {
    const text = "😀".repeat(3000); // 6000 UTF-16 units
    const parts = splitMessage(text);
    expect(parts.join("")).toBe(text);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(4096);
      expect(p.charCodeAt(p.length - 1)).not.toBe(0xd83d);
    }
  });

  it("publishes the command menu, and only logs when that fails", async () => {
    const telegram = new Telegram(emulator.token, { apiRoot: emulator.apiRoot });
    emulator.failNext("setMyCommands", {
      code: 400,
      description: "Bad Request: BOT_COMMAND_INVALID",
    });
    expect(await publishCommandMenu(telegram, silent)).toBe(false);
    expect(emulator.commands).toBeUndefined();
    expect(await publishCommandMenu(telegram, silent)).toBe(true);
    expect(emulator.commands?.map((c) => c.command)).toEqual(
      expect.arrayContaining(["plan", "done", "undo", "habits", "settings", "help", "start"]),
    );
  });
});

describe.skipIf(!onRealPostgres)("concurrent messages from one person (real Postgres)", () => {
  let t: TestBot;
  beforeAll(async () => {
    t = await startTestBot();
    await onboard(t, 501, { habits: ["run 30min 5/week", "read 20 pages daily"] });
  });
  afterAll(async () => {
    await t.stop();
  });

  it("stores every entry when many reports arrive in one batch", async () => {
    const count = 12;
    const before = t.emulator.botMessages(501).length;
    // Queued together: telegraf's polling handles one getUpdates batch concurrently.
    const updates = Array.from({ length: count }, (_, i) =>
      t.emulator.sendText(501, `read ${i + 1} pages, run ${i + 1}`),
    );
    await t.emulator.waitForBotMessages(501, before + count, 30_000);
    for (const u of updates) await t.emulator.waitForProcessed(u.update_id);
    const ids = updates.map((u) => u.update_id);
    expect(t.emulator.batches).toContainEqual(ids);
    const user = await t.db.prisma.user.findUniqueOrThrow({ where: { telegramId: 501n } });
    const entries = await t.db.prisma.habitEntry.findMany({ where: { userId: user.id } });
    expect(entries).toHaveLength(2 * count);
    const reads = entries.filter((e) => e.source === "chat").reduce((s, e) => s + e.amount, 0);
    expect(reads).toBe(2 * ((count * (count + 1)) / 2));
  });

  it("registers a new person once when their first updates race", async () => {
    const updates = Array.from({ length: 5 }, () => t.emulator.sendText(502, "/start"));
    for (const u of updates) await t.emulator.waitForProcessed(u.update_id, 30_000);
    expect(await t.db.prisma.user.count({ where: { telegramId: 502n } })).toBe(1);
  });
});

describe("what failed Bot API calls leave in the logs", () => {
  let t: TestBot;
  beforeAll(async () => {
    t = await startTestBot();
    await onboard(t, 451, { habits: ["run 30min 5/week"] });
  });
  afterAll(async () => {
    await t.stop();
  });

  it("logs the failure with the update id but not the message text", async () => {
    t.emulator.failNext("sendMessage", { code: 400, description: "Bad Request: chat not found" });
    const update = t.emulator.sendText(451, "run 30");
    await t.emulator.waitForProcessed(update.update_id);
    const failure = t.logs.map((l) => JSON.parse(l)).find((l) => l.msg === "update handler failed");
    expect(failure).toMatchObject({
      update_id: update.update_id,
      err: { message: "400: Bad Request: chat not found", on: { method: "sendMessage" } },
    });
    expect(t.logs.join("\n")).not.toContain("run: 30 min");
    expect(t.emulator.lastBotMessage(451).text).toMatch(/^Sorry — something went wrong/);
  });
});
