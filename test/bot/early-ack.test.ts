// A webhook update whose reply has to wait for the outgoing budget is acknowledged (200) before
// the reply is sent (issue 16, item 2): Telegram is not kept waiting by the pacing of sends. The
// reply is stored in the outbox first (a crash after the acknowledgement: at-least-once.test.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSendBudget } from "../../src/app/send-budget.js";
import { createWebhookHandler, webhookPath } from "../../src/bot/webhook.js";
import { createHttpServer, type HttpServer } from "../../src/http/server.js";
import { startTestBot, type TestBot } from "../support/telegram-bot.js";

const SECRET = "s3cret_token_for_early_ack_tests";

describe("acknowledging before queued sends", () => {
  let t: TestBot;
  let http: HttpServer;

  beforeAll(async () => {
    // one message every two seconds for the whole bot: a second reply right away has to wait
    const sendBudget = createSendBudget({ rates: { globalPerSecond: 0.5 } });
    t = await startTestBot({ launch: false, deps: { sendBudget } });
    http = createHttpServer({ log: t.deps.log, db: t.db });
    const path = webhookPath("https://coach.example.com/telegram/hook");
    http.route("POST", path, createWebhookHandler(t.bot, { secret: SECRET, log: t.deps.log }));
    const port = await http.listen("127.0.0.1", 0);
    await t.bot.telegram.setWebhook(`http://127.0.0.1:${port}${path}`, { secret_token: SECRET });
  });
  afterAll(async () => {
    await http?.close();
    await t?.stop();
  });

  it("answers the webhook while the reply waits, then sends the reply", async () => {
    const chat = 4242;
    await t.emulator.ask(chat, "/help");
    const before = t.emulator.botMessages(chat).length;
    const second = t.emulator.sendText(chat, "/help");
    await t.emulator.waitForProcessed(second.update_id);
    expect(t.emulator.webhookResponses.at(-1)).toEqual({ updateId: second.update_id, status: 200 });
    // acknowledged, and the reply is still waiting for the bot's window, stored in the outbox
    expect(t.emulator.botMessages(chat)).toHaveLength(before);
    const stored = () =>
      t.db.prisma.telegramReplyOutbox.findMany({ where: { updateId: BigInt(second.update_id) } });
    expect((await stored()).map((r) => [r.position, r.method, r.sentAt])).toEqual([
      [0, "sendMessage", null],
    ]);
    await t.emulator.waitFor(() => t.emulator.botMessages(chat).length > before, "the reply");
    // and marked sent with Telegram's answer (what a re-delivery of the update finds)
    let [row] = await stored();
    for (const deadline = Date.now() + 30_000; row.sentAt === null && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      [row] = await stored();
    }
    expect(row.sentAt).not.toBeNull();
    expect(row.result).toEqual({ message_id: t.emulator.botMessages(chat).at(-1)?.message_id });
    // a sent row keeps no one's words
    expect(row.payload).toEqual({});
    expect(t.emulator.botMessages(chat)).toHaveLength(before + 1);
  });
});
