// Outgoing messages within Telegram's limits, shared by instances (issue 16, item 2): two bot
// clients (two instances) with their own budgets on one Postgres send a burst of 1,000 messages
// to the Bot API emulator. The budgets together never let more than the configured rate go in any
// second, nor more than its share to one chat; the emulator sees them arrive no faster on
// average. (Arrival times on a loaded machine bunch up when this process is starved of CPU after
// granting, so the per-second check is on the moments the messages were let go.)
import { Telegraf } from "telegraf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSendBudget, type SendBudget } from "../../src/app/send-budget.js";
import { installTelegramPolicies, isMessage } from "../../src/bot/telegram-policies.js";
import { openSendBudgetStore } from "../../src/db/send-budget.js";
import { createLogger } from "../../src/logger.js";
import { createTestDatabase, onRealPostgres, type TestDatabase } from "../support/database.js";
import { startEmulator, type TelegramEmulator } from "../support/telegram-emulator.js";

const RATE = 100; // messages per second, both instances together
const BURST = 1_000;
const CHATS = 50;

/** The most calls in any window of `ms` (sliding, over the call times). */
function busiestWindow(times: number[], ms: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[j] >= ms) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe.runIf(onRealPostgres)("the outgoing budget", { timeout: 120_000 }, () => {
  let t: TestDatabase;
  let emulator: TelegramEmulator;
  const budgets: SendBudget[] = [];
  /** when each message was let go, and to which chat */
  const granted: { at: number; chat: string }[] = [];

  beforeAll(async () => {
    t = await createTestDatabase();
    emulator = await startEmulator();
  });
  afterAll(async () => {
    for (const b of budgets) await b.close();
    await emulator?.close();
    await t?.dispose();
  });

  /** One instance: its own Telegram client, its own budget and connections, the shared table. */
  function instance() {
    const log = createLogger({ level: "silent", pretty: false, secrets: [] });
    const bot = new Telegraf(emulator.token, { telegram: { apiRoot: emulator.apiRoot } });
    const budget = createSendBudget({
      rates: { globalPerSecond: RATE, perChatPerSecond: 10 },
      store: openSendBudgetStore(t.url!),
      log,
    });
    budgets.push(budget);
    const recorded: SendBudget = {
      ...budget,
      async take(chatId, onWait) {
        await budget.take(chatId, onWait);
        granted.push({ at: Date.now(), chat: String(chatId) });
      },
    };
    installTelegramPolicies(bot.telegram, { log, budget: recorded });
    return bot.telegram;
  }

  it("holds a burst of 1,000 sends from two instances to the configured rate", async () => {
    const a = instance();
    const b = instance();
    const started = Date.now();
    await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        (i % 2 === 0 ? a : b).sendMessage(1_000 + (i % CHATS), `message ${i}`),
      ),
    );
    const sends = emulator.calls.filter((c) => c.method === "sendMessage" && c.at >= started);
    expect(sends).toHaveLength(BURST);
    const seconds = (Math.max(...sends.map((c) => c.at)) - started) / 1000;
    // 1,000 at 100 a second take at least nine seconds (the first window starts full)
    expect(seconds).toBeGreaterThanOrEqual(BURST / RATE - 1);
    // in no second more than the rate and one window's share (a fifth of a second)
    expect(
      busiestWindow(
        sends.map((c) => c.at),
        1_000,
      ),
    ).toBeLessThanOrEqual(RATE * 1.2);
    // and per chat, at most its 10 a second (plus one window at the border)
    for (let chat = 1_000; chat < 1_000 + CHATS; chat++) {
      const times = sends.filter((c) => c.payload.chat_id === chat).map((c) => c.at);
      expect(busiestWindow(times, 1_000)).toBeLessThanOrEqual(20);
    }
  });

  it("counts only what sends or edits a message", () => {
    expect(isMessage("sendMessage")).toBe(true);
    expect(isMessage("sendPhoto")).toBe(true);
    expect(isMessage("editMessageText")).toBe(true);
    expect(isMessage("sendChatAction")).toBe(false);
    expect(isMessage("answerCallbackQuery")).toBe(false);
    expect(isMessage("getUpdates")).toBe(false);
  });
});
