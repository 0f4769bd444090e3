// At-least-once update handling with an exactly-once effect (src/app/updates.ts,
// src/bot/middleware/idempotency.ts, src/bot/webhook.ts): an update counts as processed only
// when its handler finished. Through the real process: a kill -9 while an update is held, a
// database reset during a report, a confirmation that fails after the report was stored. And
// the two rules underneath: which failures are transient, and the claim's lease.
import pg from "pg";
import { TelegramError } from "telegraf";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { UPDATE_LEASE_MS } from "../../src/app/updates.js";
import {
  isTransientFailure,
  PROCESSING_LATER,
  UpdateInProgress,
} from "../../src/bot/middleware/errors.js";
import { openPostgres } from "../../src/db/client.js";
import {
  claimUpdate,
  finishUpdate,
  pruneProcessedUpdates,
  releaseUpdate,
} from "../../src/db/updates.js";
import {
  type AppProcess,
  freePort,
  killHard,
  PROCESS_DEADLINE_MS,
  planTimeAwayFromNow,
  processDatabase,
  startApp,
} from "../support/app-process.js";
import { createTestDatabase, onRealPostgres, type TestDatabase } from "../support/database.js";
import { startEmulator, type TelegramEmulator, type Update } from "../support/telegram-emulator.js";

describe("isTransientFailure: the one rule for 'handle it again later'", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.dispose());

  it("is true for a database nobody answers at (a real Prisma error)", async () => {
    const port = await freePort(); // nothing listens there
    const unreachable = openPostgres({
      url: `postgresql://postgres@127.0.0.1:${port}/none`,
      poolSize: 1,
      acquireTimeoutMs: 5_000,
    });
    try {
      const modelError = await unreachable.prisma.user.count().catch((e: unknown) => e);
      const rawError = await unreachable.prisma.$executeRaw`SELECT 1`.catch((e: unknown) => e);
      expect(modelError).toBeInstanceOf(Error);
      expect(isTransientFailure(modelError)).toBe(true);
      expect(isTransientFailure(rawError)).toBe(true);
    } finally {
      await unreachable.close().catch(() => {});
    }
  });

  it("is false for a constraint violation and for bugs (they fail the same way again)", async () => {
    const data = { telegramId: 5_000_001n, chatId: 5_000_001n, displayName: "Dup" };
    await database.db.prisma.user.create({ data });
    const duplicate = await database.db.prisma.user.create({ data }).catch((e: unknown) => e);
    expect(duplicate).toBeInstanceOf(Error);
    expect(isTransientFailure(duplicate)).toBe(false);
    expect(isTransientFailure(new Error("clock exploded"))).toBe(false);
    expect(isTransientFailure(new TypeError("x is undefined"))).toBe(false);
    expect(isTransientFailure(undefined)).toBe(false);
  });

  it("follows Telegram: 5xx and 429 are transient, other 4xx are not", () => {
    const telegram = (code: number) =>
      new TelegramError({ error_code: code, description: `code ${code}` });
    expect(isTransientFailure(telegram(500))).toBe(true);
    expect(isTransientFailure(telegram(502))).toBe(true);
    expect(isTransientFailure(telegram(429))).toBe(true);
    expect(isTransientFailure(telegram(400))).toBe(false);
    expect(isTransientFailure(telegram(403))).toBe(false);
  });

  it("is true for connection resets, Postgres' 'terminated by administrator' and timeouts", () => {
    const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    expect(isTransientFailure(reset)).toBe(true);
    expect(isTransientFailure(new Error("Connection terminated unexpectedly"))).toBe(true);
    // what Prisma's pg adapter throws when pg_terminate_backend ends the connection
    const terminated = Object.assign(new Error("Database error"), {
      code: "P2039",
      meta: { driverAdapterError: { cause: { kind: "postgres", code: "57P01" } } },
    });
    expect(isTransientFailure(terminated)).toBe(true);
    const statementTimeout = Object.assign(new Error("Database error"), {
      meta: { driverAdapterError: { cause: { kind: "postgres", code: "57014" } } },
    });
    expect(isTransientFailure(statementTimeout)).toBe(true);
    const constraint = Object.assign(new Error("Database error"), {
      meta: { driverAdapterError: { cause: { kind: "postgres", code: "23514" } } },
    });
    expect(isTransientFailure(constraint)).toBe(false);
    expect(isTransientFailure(new UpdateInProgress(1))).toBe(true);
  });
});

describe("update claims with a lease (src/db/updates.ts)", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.dispose());

  const at = (minutes: number) => new Date(Date.UTC(2026, 11, 1, 10, minutes));
  const claimAt = (updateId: number, holder: string, minutes: number) =>
    claimUpdate(database.db, updateId, { holder, leaseMs: UPDATE_LEASE_MS, at: at(minutes) });

  it("leaves a fresh claim to its holder and lets the next one take over a stale claim", async () => {
    expect(await claimAt(1, "first", 0)).toBe("claimed");
    // another delivery while the first holder works on it: not now
    expect(await claimAt(1, "second", 1)).toBe("in-progress");
    // the holder's own retry keeps its claim
    expect(await claimAt(1, "first", 1)).toBe("claimed");
    // the first holder died: once the lease ran out, the next delivery takes the update over
    expect(await claimAt(1, "second", 4)).toBe("resumed");
    expect(await claimAt(1, "first", 4)).toBe("in-progress");
    // the first holder's late release does not free the second holder's claim
    await releaseUpdate(database.db, 1, "first");
    expect(await claimAt(1, "third", 4)).toBe("in-progress");
    await finishUpdate(database.db, 1, at(5));
    // done is done, however old the claim
    expect(await claimAt(1, "third", 30)).toBe("done");
  });

  it("frees a released claim for the next delivery at once", async () => {
    expect(await claimAt(2, "first", 0)).toBe("claimed");
    await releaseUpdate(database.db, 2, "first");
    expect(await claimAt(2, "second", 0)).toBe("claimed");
  });

  it("gives one of two racing deliveries the claim", async () => {
    const results = await Promise.all([claimAt(3, "a", 0), claimAt(3, "b", 0)]);
    expect(results.sort()).toEqual(["claimed", "in-progress"]);
  });

  it("prunes handled updates and abandoned claims older than the retention, nothing else", async () => {
    expect(await claimAt(10, "old-done", 0)).toBe("claimed");
    await finishUpdate(database.db, 10, at(1));
    expect(await claimAt(11, "old-abandoned", 0)).toBe("claimed");
    expect(await claimAt(12, "recent", 50)).toBe("claimed");
    await finishUpdate(database.db, 12, at(51));
    expect(await claimAt(13, "in-flight", 55)).toBe("claimed");
    expect(await pruneProcessedUpdates(database.db, at(20))).toBeGreaterThanOrEqual(2);
    const left = await database.db.prisma.processedUpdate.findMany({
      where: { updateId: { in: [10n, 11n, 12n, 13n] } },
      orderBy: { updateId: "asc" },
    });
    expect(left.map((row) => row.updateId)).toEqual([12n, 13n]);
  });
});

// The real process in webhook mode against the Bot API emulator.
describe("through the real process (webhook mode)", () => {
  const secret = "at_least_once_webhook_secret_012345";
  const webhookUrl = "https://coach.example.com/telegram/hook";
  let emulator: TelegramEmulator | undefined;
  let database: Awaited<ReturnType<typeof processDatabase>> | undefined;
  let app: AppProcess | undefined;
  let env: Record<string, string>;
  let hook: string;

  afterEach(async () => {
    if (app) await killHard(app);
    app = undefined;
    await emulator?.close();
    emulator = undefined;
    await database?.dispose();
    database = undefined;
  });

  async function startWebhookApp(): Promise<AppProcess> {
    const current = startApp(env);
    app = current;
    await current.waitForLog("bot started (webhook)");
    return current;
  }

  async function setUp(userId: number): Promise<void> {
    emulator = await startEmulator({ timeoutMs: PROCESS_DEADLINE_MS });
    database = await processDatabase();
    const port = await freePort();
    env = {
      TELEGRAM_BOT_TOKEN: emulator.token,
      TELEGRAM_API_ROOT: emulator.apiRoot,
      WEBHOOK_URL: webhookUrl,
      WEBHOOK_SECRET: secret,
      HTTP_HOST: "127.0.0.1",
      HTTP_PORT: String(port),
      LOG_LEVEL: "info",
      ...database.env,
    };
    hook = `http://127.0.0.1:${port}/telegram/hook`;
    emulator.forwardWebhookTo(`http://127.0.0.1:${port}`);
    await startWebhookApp();
    await emulator.ask(userId, "/start");
    await emulator.ask(userId, "UTC");
    // typed, away from now: no morning plan is pushed while the test counts replies
    const [habitsQuestion] = await emulator.ask(userId, planTimeAwayFromNow());
    await emulator.tap(userId, habitsQuestion, "I'll add my own", 1);
    const [added] = await emulator.ask(userId, "/habits add walk 30min 5/week");
    expect(added.text).toContain("Added walk");
  }

  /** Telegram's re-delivery of the very same update; the status and Retry-After it got. */
  async function redeliver(update: Update): Promise<{ status: number; retryAfter: string | null }> {
    const res = await fetch(hook, {
      method: "POST",
      headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": secret },
      body: JSON.stringify(update),
    });
    await res.arrayBuffer();
    return { status: res.status, retryAfter: res.headers.get("retry-after") };
  }

  /** A second connection of the test's own that holds habit_entries locked. */
  async function lockEntries(): Promise<{ pid: number; release(): Promise<void> }> {
    const client = new pg.Client({ connectionString: database!.url });
    await client.connect();
    await client.query("BEGIN");
    await client.query("LOCK TABLE habit_entries IN ACCESS EXCLUSIVE MODE");
    const pid = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid;
    return {
      pid,
      async release() {
        await client.query("ROLLBACK").catch(() => {});
        await client.end();
      },
    };
  }

  /** Resolves once one of the app's connections waits for the lock (the update is held). */
  async function appWaitsForLock(admin: pg.Client): Promise<void> {
    const deadline = Date.now() + PROCESS_DEADLINE_MS;
    for (;;) {
      const waiting = await admin.query(
        `SELECT 1 FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      if (waiting.rowCount! > 0) return;
      if (Date.now() > deadline) throw new Error("the app never waited for the lock");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function withAdmin<T>(fn: (admin: pg.Client) => Promise<T>): Promise<T> {
    const admin = new pg.Client({ connectionString: database!.url });
    await admin.connect();
    try {
      return await fn(admin);
    } finally {
      await admin.end();
    }
  }

  /** The dead instance's claim on the update made stale, as its lease running out would. */
  async function expireClaim(updateId: number): Promise<void> {
    await withAdmin((admin) =>
      admin.query(
        `UPDATE processed_updates SET claimed_at = claimed_at - interval '${UPDATE_LEASE_MS + 1000} milliseconds'
          WHERE update_id = $1`,
        [updateId],
      ),
    );
  }

  async function walkEntries(): Promise<number[]> {
    const db = await database!.open();
    try {
      const entries = await db.prisma.habitEntry.findMany({ where: { habit: { name: "walk" } } });
      return entries.map((e) => e.amount);
    } finally {
      await db.close();
    }
  }

  const botTexts = (userId: number) => emulator!.botMessages(userId).map((m) => m.text ?? "");

  it.skipIf(!onRealPostgres)(
    "kill -9 after a plan tap was answered: the re-delivery logs it once and refreshes the plan, with no apology (Telegram refuses a second answer to the tap)",
    async () => {
      await setUp(1103);
      const [plan] = await emulator!.ask(1103, "/plan");
      const repliesBefore = emulator!.botMessages(1103).length;
      // the instance dies after the entry was stored and the tap answered, before the plan's refresh
      const held = emulator!.holdNext("editMessageText");
      const update = emulator!.pressButton(1103, plan!, /^✓ walk/);
      await held.arrived;
      expect(emulator!.callbackAnswers.at(-1)?.text).toMatch(/Logged walk/);
      await killHard(app!);
      await held.release();

      const restarted = await startWebhookApp();
      await expireClaim(update.update_id);
      expect((await redeliver(update)).status).toBe(200);
      expect(await walkEntries()).toEqual([30]);
      expect(botTexts(1103).slice(repliesBefore).join("\n")).not.toMatch(/sorry|again/i);
      expect(emulator!.message(1103, plan!.message_id)?.text).toMatch(/✅ walk/);
      expect(restarted.logLines().filter((line) => line.msg === "update handler failed")).toEqual(
        [],
      );
    },
  );

  it.skipIf(!onRealPostgres)(
    "kill -9 while a report is held: the re-delivery after the lease stores it once and confirms it",
    async () => {
      await setUp(1101);
      const lock = await lockEntries();
      const repliesBefore = emulator!.botMessages(1101).length;
      const update = emulator!.sendText(1101, "walk 20");
      await withAdmin(appWaitsForLock);
      await killHard(app!);
      await lock.release();

      await startWebhookApp();
      // the dead instance's claim is still within its lease: Telegram is asked to come back later
      const early = await redeliver(update);
      expect(early.status).toBe(503);
      expect(Number(early.retryAfter)).toBeGreaterThan(0);
      expect(await walkEntries()).toEqual([]);
      // the lease runs out (as two minutes passing would do)
      await expireClaim(update.update_id);
      expect((await redeliver(update)).status).toBe(200);
      expect(await walkEntries()).toEqual([20]);
      expect(botTexts(1101).slice(repliesBefore)).toEqual([
        expect.stringMatching(/✓ walk: 20 min, today/),
      ]);
      // and a further re-delivery is a duplicate: nothing stored, nothing said
      expect((await redeliver(update)).status).toBe(200);
      expect(await walkEntries()).toEqual([20]);
      expect(emulator!.botMessages(1101)).toHaveLength(repliesBefore + 1);
    },
    4 * PROCESS_DEADLINE_MS,
  );

  it.skipIf(!onRealPostgres)(
    "a database reset during a report: 503 and one notice; the re-delivery stores it once",
    async () => {
      await setUp(1102);
      const lock = await lockEntries();
      const repliesBefore = emulator!.botMessages(1102).length;
      const update = emulator!.sendText(1102, "walk 25");
      await withAdmin(async (admin) => {
        await appWaitsForLock(admin);
        // every connection of the app is reset (as a database restart or failover does)
        await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND pid NOT IN (pg_backend_pid(), $1)`,
          [lock.pid],
        );
      });
      await emulator!.waitFor(
        () => emulator!.webhookResponses.some((r) => r.updateId === update.update_id),
        "the webhook's answer",
      );
      await lock.release();
      expect(emulator!.webhookResponses.filter((r) => r.updateId === update.update_id)).toEqual([
        { updateId: update.update_id, status: 503 },
      ]);
      expect(await walkEntries()).toEqual([]);
      expect(botTexts(1102).slice(repliesBefore)).toEqual([PROCESSING_LATER]);

      // Telegram delivers it again: stored once, confirmed, no second notice
      expect((await redeliver(update)).status).toBe(200);
      expect(await walkEntries()).toEqual([25]);
      const said = botTexts(1102).slice(repliesBefore);
      expect(said).toEqual([PROCESSING_LATER, expect.stringMatching(/✓ walk: 25 min, today/)]);
      expect(said.join("\n")).not.toMatch(/again|sorry/i);
      // a transient failure is a warning, not an apology-worthy error
      const messages = app!.logLines().map((l) => l.msg);
      expect(messages).toContain("update failed for a transient reason; it will be handled again");
      expect(messages).not.toContain("update handler failed");
    },
    4 * PROCESS_DEADLINE_MS,
  );

  /**
   * The bot's global outgoing window (src/app/send-budget.ts: rate-limiter-flexible's row in
   * telegram_send_budget) full for the next `ms` milliseconds; 0: free again.
   */
  async function fillGlobalWindow(ms: number): Promise<void> {
    await withAdmin((admin) =>
      admin.query(
        `INSERT INTO telegram_send_budget (key, points, expire) VALUES ('telegram-all:all', $1, $2)
         ON CONFLICT (key) DO UPDATE SET points = EXCLUDED.points, expire = EXCLUDED.expire`,
        [ms > 0 ? 1_000_000 : 0, Date.now() + ms],
      ),
    );
  }

  /** The reply outbox's claims made stale, as the dead instance's lease running out would. */
  async function expireStoredReplies(): Promise<void> {
    await withAdmin((admin) =>
      admin.query(
        `DO $$ BEGIN
           IF to_regclass('telegram_reply_outbox') IS NOT NULL THEN
             UPDATE telegram_reply_outbox SET claimed_at = claimed_at - interval '1 hour';
           END IF;
         END $$`,
      ),
    );
  }

  it.skipIf(!onRealPostgres)(
    "kill -9 after an update was acknowledged early and before its reply went out: the reply is sent after the restart, once, and a re-delivery sends nothing more",
    async () => {
      await setUp(1104);
      // the bot's global window is full for the next minute (as the morning fan-out fills it)
      await fillGlobalWindow(60_000);
      const repliesBefore = emulator!.botMessages(1104).length;
      const update = emulator!.sendText(1104, "walk 20");
      await emulator!.waitFor(
        () => emulator!.webhookResponses.some((r) => r.updateId === update.update_id),
        "the webhook's answer",
      );
      // acknowledged while its confirmation waits for the window; the instance dies now
      await killHard(app!);
      expect(emulator!.webhookResponses.filter((r) => r.updateId === update.update_id)).toEqual([
        { updateId: update.update_id, status: 200 },
      ]);
      expect(await walkEntries()).toEqual([20]);
      expect(botTexts(1104).slice(repliesBefore)).toEqual([]);

      // Telegram will not deliver the update again (it got 200): the restarted instance sends
      // the stored confirmation once the dead instance's claim on it is stale
      await expireStoredReplies();
      await fillGlobalWindow(0);
      const restarted = await startWebhookApp();
      await emulator!.waitFor(
        () => botTexts(1104).length > repliesBefore,
        "the stored confirmation",
        60_000,
      );
      expect(botTexts(1104).slice(repliesBefore)).toEqual([
        expect.stringMatching(/✓ walk: 20 min, today/),
      ]);
      await restarted.waitForLog("sent replies left unsent by a stopped instance");

      // had the 200 been lost, Telegram would deliver the update again: nothing is stored or
      // said twice
      await expireClaim(update.update_id);
      expect((await redeliver(update)).status).toBe(200);
      expect(await walkEntries()).toEqual([20]);
      expect(botTexts(1104).slice(repliesBefore)).toHaveLength(1);
    },
    6 * PROCESS_DEADLINE_MS,
  );

  it(
    "a confirmation that fails after the store: no request to send it again, one entry after re-delivery",
    async () => {
      await setUp(1103);
      const repliesBefore = emulator!.botMessages(1103).length;
      emulator!.failNext("sendMessage", { code: 500, description: "Internal Server Error" });
      const update = emulator!.sendText(1103, "walk 15");
      await emulator!.waitFor(
        () => emulator!.webhookResponses.some((r) => r.updateId === update.update_id),
        "the webhook's answer",
      );
      expect(emulator!.webhookResponses.at(-1)).toEqual({
        updateId: update.update_id,
        status: 503,
      });
      // the one message that got through says it will be handled, and asks nothing of the person
      expect(botTexts(1103).slice(repliesBefore)).toEqual([PROCESSING_LATER]);

      expect((await redeliver(update)).status).toBe(200);
      const said = botTexts(1103).slice(repliesBefore);
      expect(said).toEqual([PROCESSING_LATER, expect.stringMatching(/✓ walk: 15 min, today/)]);
      expect(said.join("\n")).not.toMatch(/again|sorry/i);
      app!.child.kill("SIGTERM");
      expect(await app!.exited).toBe(0);
      expect(await walkEntries()).toEqual([15]);
    },
    4 * PROCESS_DEADLINE_MS,
  );
});
