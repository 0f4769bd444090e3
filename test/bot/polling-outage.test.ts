// Long polling through a database outage (src/bot/delivery.ts): an update whose handling fails
// for a transient reason is retried in-process until it can be handled, however long that takes,
// and a stop during the wait leaves it unconfirmed with Telegram, so the next start gets it again.
// Real parts: the bot polls the Bot API emulator over HTTP (telegraf's own polling loop) and
// reaches real Postgres through a TCP proxy the test black-holes.
//
// Needs real Postgres (TEST_DATABASE_URL): PGlite is embedded, there is no network to break.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RETRY_DELAYS_MS } from "../../src/bot/delivery.js";
import { PROCESSING_LATER } from "../../src/bot/middleware/errors.js";
import { openPostgres } from "../../src/db/client.js";
import { createTestDatabase, onRealPostgres, type TestDatabase } from "../support/database.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";
import { onboard, startTestBot, type TestBot } from "../support/telegram-bot.js";
import { startEmulator, type TelegramEmulator } from "../support/telegram-emulator.js";

/** Counts the bot's retry waits; `reached(n)` resolves when the n-th began. */
function waitCounter() {
  const waits: number[] = [];
  const pending: { n: number; resolve(): void }[] = [];
  return {
    waits,
    record(ms: number) {
      waits.push(ms);
      for (const p of pending.filter((p) => waits.length >= p.n)) p.resolve();
    },
    reached(n: number): Promise<void> {
      if (waits.length >= n) return Promise.resolve();
      return new Promise((resolve) => pending.push({ n, resolve }));
    },
  };
}

describe.skipIf(!onRealPostgres)("long polling during a database outage", () => {
  let emulator: TelegramEmulator;
  let database: TestDatabase;
  let proxy: TcpProxy;
  /** the bot's database: the same one, through the proxy, with short timeouts */
  let proxied: TestDatabase;
  let t: TestBot | undefined;

  beforeAll(async () => {
    emulator = await startEmulator();
    database = await createTestDatabase();
    const server = new URL(database.url!);
    proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    const db = openPostgres({
      url: proxy.rewrite(database.url!),
      poolSize: 5,
      acquireTimeoutMs: 1_000,
      // a black-holed query or connection fails in well under a second
      timeouts: { connectMs: 300, statementMs: 500 },
    });
    proxied = { db, url: proxy.rewrite(database.url!), dispose: () => db.close() };
  });
  afterEach(async () => {
    proxy.restore();
    await t?.stop();
    t = undefined;
  });
  afterAll(async () => {
    await proxied.dispose();
    await proxy.close();
    await emulator.close();
    await database.dispose();
  });

  /** The database unreachable: open connections reset, new ones hang until their timeout. */
  function outage(): void {
    proxy.blackHole();
    proxy.resetAll();
  }

  /** True once the bot asked getUpdates for an offset past `updateId` (Telegram forgets it). */
  function confirmed(updateId: number, sinceCall = 0): boolean {
    return emulator.calls
      .slice(sinceCall)
      .some((c) => c.method === "getUpdates" && Number(c.payload.offset) > updateId);
  }

  async function amounts(): Promise<number[]> {
    const entries = await database.db.prisma.habitEntry.findMany({ orderBy: { id: "asc" } });
    return entries.map((e) => Number(e.amount));
  }

  /** Starts the bot with `wait` for its retry waits, which are counted. */
  async function startCountingBot(wait: () => Promise<void>) {
    const counter = waitCounter();
    const bot = await startTestBot({
      emulator,
      database: proxied,
      deps: {
        sleep: (ms) => {
          counter.record(ms);
          return wait();
        },
      },
    });
    return { ...counter, bot };
  }

  const texts = (chatId: number) => emulator.botMessages(chatId).map((m) => m.text ?? "");

  it("keeps retrying an update past the retry schedule and handles it once the database is back", async () => {
    // the waits the bot asked for between attempts, each shortened to 20 ms
    const counter = await startCountingBot(() => new Promise((resolve) => setTimeout(resolve, 20)));
    const { waits } = counter;
    t = counter.bot;
    await onboard(t, 501, { habits: ["run 30min 5/week"] });
    const before = texts(501).length;

    outage();
    const update = emulator.sendText(501, "run 25");
    // well past the schedule's end (the old behaviour gave up on the update there)
    // (a bit more than 5 minutes of waits: 14 waits add up to 300 s)
    const enough = RETRY_DELAYS_MS.length + 7;
    await Promise.race([
      counter.reached(enough),
      emulator.waitFor(() => confirmed(update.update_id), "the update confirmed", 60_000),
    ]);
    expect(confirmed(update.update_id)).toBe(false);
    expect(t.logs.join("")).not.toContain("giving up");
    // the waits grow to a cap and stay there
    expect(waits.slice(0, RETRY_DELAYS_MS.length)).toEqual(RETRY_DELAYS_MS);
    expect(new Set(waits.slice(RETRY_DELAYS_MS.length))).toEqual(new Set([RETRY_DELAYS_MS.at(-1)]));
    expect(await amounts()).toEqual([]);
    // one notice per update, however many attempts
    expect(texts(501).slice(before)).toEqual([PROCESSING_LATER]);

    proxy.restore();
    await emulator.waitForProcessed(update.update_id, 30_000);
    expect(await amounts()).toEqual([25]);
    expect(texts(501).slice(before)).toEqual([
      PROCESSING_LATER,
      expect.stringMatching(/✓ run: 25 min, today/),
    ]);
    // a bounded log rate: one warning at the first failure, one after 5 minutes of waits, not
    // one per attempt; and a line when it finally went through
    const lines = t.logs
      .map((l) => JSON.parse(l) as { level: number; msg: string; update_id?: number })
      .filter((l) => l.update_id === update.update_id && l.level >= 30)
      .map((l) => l.msg);
    expect(lines).toEqual([
      "update failed for a transient reason; it will be handled again",
      "update still cannot be processed; retrying until it can",
      "update handled after transient failures",
    ]);
  }, 120_000);

  it("a stop while an update waits for its retry leaves it unconfirmed; after a restart it is handled once", async () => {
    // a wait lasts until the stop ends it: the stop surely comes during a wait
    const counter = await startCountingBot(() => new Promise<void>(() => {}));
    t = counter.bot;
    await onboard(t, 502, { habits: ["run 30min 5/week"] });
    const before = texts(502).length;
    const stored = await amounts();

    outage();
    const update = emulator.sendText(502, "run 26");
    await counter.reached(1);
    const callsBeforeStop = emulator.calls.length;
    const stopped = t;
    await t.stop();
    t = undefined;
    expect(stopped.logs.join("")).toContain("it will be delivered again after the restart");
    // telegraf confirms its offset when polling stops: not past the unhandled update
    expect(emulator.calls.slice(callsBeforeStop).map((c) => c.method)).toContain("getUpdates");
    expect(confirmed(update.update_id)).toBe(false);
    expect(await amounts()).toEqual(stored);

    proxy.restore();
    const callsBeforeRestart = emulator.calls.length;
    t = await startTestBot({ emulator, database: proxied });
    await emulator.waitForProcessed(update.update_id, 30_000);
    expect(emulator.batches.some((b) => b.includes(update.update_id))).toBe(true);
    expect(confirmed(update.update_id, callsBeforeRestart)).toBe(true);
    expect(await amounts()).toEqual([...stored, 26]);
    expect(texts(502).slice(before)).toEqual([
      PROCESSING_LATER,
      expect.stringMatching(/✓ run: 26 min, today/),
    ]);
    expect(
      await database.db.prisma.processedUpdate.count({
        where: { updateId: BigInt(update.update_id) },
      }),
    ).toBe(1);
  }, 120_000);
});
