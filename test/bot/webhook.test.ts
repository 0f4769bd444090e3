// Webhook mode: updates POSTed by Telegram to the app's HTTP server, guarded by the secret token.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UPDATE_LEASE_MS } from "../../src/app/updates.js";
import { createWebhookHandler, secretMatches, webhookPath } from "../../src/bot/webhook.js";
import { claimUpdate, finishUpdate } from "../../src/db/updates.js";
import { createHttpServer, type HttpServer } from "../../src/http/server.js";
import { startTestBot, type TestBot } from "../support/telegram-bot.js";

const SECRET = "s3cret_token_for_webhook_tests";

describe("webhook mode", () => {
  let t: TestBot;
  let http: HttpServer;
  let url: string;

  beforeAll(async () => {
    t = await startTestBot({ launch: false });
    http = createHttpServer({ log: t.deps.log, db: t.db });
    const path = webhookPath("https://coach.example.com/telegram/hook");
    http.route("POST", path, createWebhookHandler(t.bot, { secret: SECRET, log: t.deps.log }));
    const port = await http.listen("127.0.0.1", 0);
    url = `http://127.0.0.1:${port}${path}`;
    await t.bot.telegram.setWebhook(url, { secret_token: SECRET });
  });
  afterAll(async () => {
    await http.close();
    await t.stop();
  });

  it("processes updates Telegram delivers with the right secret", async () => {
    expect(t.emulator.webhook).toEqual({ url, secretToken: SECRET });
    const update = t.emulator.sendText(601, "/start");
    await t.emulator.waitForProcessed(update.update_id);
    expect(t.emulator.webhookResponses.at(-1)).toEqual({ updateId: update.update_id, status: 200 });
    expect(t.emulator.lastBotMessage(601).text).toMatch(/where are you/i);
    expect(await t.db.prisma.user.count({ where: { telegramId: 601n } })).toBe(1);
  });

  it("refuses a wrong or missing secret with 403 and processes nothing", async () => {
    const update = {
      update_id: 999_001,
      message: {
        message_id: 1,
        date: 0,
        chat: { id: 602, type: "private" },
        from: { id: 602, is_bot: false, first_name: "Mallory" },
        text: "/start",
        entities: [{ type: "bot_command", offset: 0, length: 6 }],
      },
    };
    const attempts: Record<string, string>[] = [
      { "x-telegram-bot-api-secret-token": "wrong_secret_of_same_len_x" },
      { "x-telegram-bot-api-secret-token": `${SECRET}x` },
      {},
    ];
    for (const headers of attempts) {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(update),
      });
      expect(res.status).toBe(403);
    }
    expect(await t.db.prisma.user.count({ where: { telegramId: 602n } })).toBe(0);
    expect(await t.db.prisma.processedUpdate.count({ where: { updateId: 999_001n } })).toBe(0);
    expect(t.emulator.botMessages(602)).toHaveLength(0);
  });

  it("rejects bodies that are not updates", async () => {
    const headers = {
      "content-type": "application/json",
      "x-telegram-bot-api-secret-token": SECRET,
    };
    expect((await fetch(url, { method: "POST", headers, body: "{not json" })).status).toBe(400);
    expect((await fetch(url, { method: "POST", headers, body: "{}" })).status).toBe(400);
  });

  it("handles Telegram's retry of the same update once", async () => {
    await t.emulator.ask(603, "/start").catch(() => undefined);
    const update = t.emulator.sendText(603, "/help");
    await t.emulator.waitForProcessed(update.update_id);
    const replies = t.emulator.botMessages(603).length;
    t.emulator.redeliver(update);
    await t.emulator.waitFor(
      () => t.emulator.webhookResponses.filter((r) => r.updateId === update.update_id).length === 2,
      "the retry",
    );
    expect(
      t.emulator.webhookResponses
        .filter((r) => r.updateId === update.update_id)
        .map((r) => r.status),
    ).toEqual([200, 200]);
    expect(t.emulator.botMessages(603)).toHaveLength(replies);
  });

  it("answers 503 with Retry-After while another instance holds the update's claim", async () => {
    await t.emulator.ask(604, "/start").catch(() => undefined);
    const update = { ...t.emulator.sendText(604, "/help"), update_id: 999_100 };
    await t.emulator.waitFor(
      () => t.emulator.webhookResponses.length > 0 && t.emulator.botMessages(604).length > 1,
      "the first /help",
    );
    const replies = t.emulator.botMessages(604).length;
    // another instance is handling this update right now (its lease has not run out)
    expect(
      await claimUpdate(t.db, update.update_id, {
        holder: "another-instance",
        leaseMs: UPDATE_LEASE_MS,
      }),
    ).toBe("claimed");
    const post = () =>
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET },
        body: JSON.stringify(update),
      });
    const busy = await post();
    expect(busy.status).toBe(503);
    expect(Number(busy.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(t.emulator.botMessages(604)).toHaveLength(replies); // nothing said: the other one answers
    // it finished: Telegram's next delivery is a duplicate
    await finishUpdate(t.db, update.update_id);
    expect((await post()).status).toBe(200);
    expect(t.emulator.botMessages(604)).toHaveLength(replies);
  });

  it("compares secrets in constant time and exactly", () => {
    expect(secretMatches(SECRET, SECRET)).toBe(true);
    expect(secretMatches(SECRET.toUpperCase(), SECRET)).toBe(false);
    expect(secretMatches(undefined, SECRET)).toBe(false);
    expect(secretMatches([SECRET], SECRET)).toBe(false);
  });
});
