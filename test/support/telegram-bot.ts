// Runs the real CoachRL bot (createBot, long polling over HTTP) against the Bot API emulator and
// a fresh test database, with a settable clock. For end-to-end tests:
//
//   const t = await startTestBot({ now: "2026-11-22T09:00:00Z" });
//   const [reply] = await t.emulator.ask(42, "/start");
//   t.clock.set("2026-11-23T08:00:00Z");
//   await t.stop();

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { Telegraf } from "telegraf";
import { createInProcessQueue } from "../../src/app/training/in-process-queue.js";
import { createBot } from "../../src/bot/bot.js";
import type { BotDeps, CoachContext } from "../../src/bot/context.js";
import { retryInProcess } from "../../src/bot/delivery.js";
import { type AppConfig, parseConfig } from "../../src/config.js";
import type { Database } from "../../src/db/client.js";
import { createLogger } from "../../src/logger.js";
import { createTestDatabase, type TestDatabase } from "./database.js";
import { startEmulator, type TelegramEmulator } from "./telegram-emulator.js";

export interface TestClock {
  now(): Date;
  set(instant: string | Date): void;
  advance(ms: number): void;
}

export function createClock(start: string | Date): TestClock {
  let current = new Date(start);
  return {
    now: () => new Date(current),
    set(instant) {
      current = new Date(instant);
    },
    advance(ms) {
      current = new Date(current.getTime() + ms);
    },
  };
}

export interface TestBot {
  bot: Telegraf<CoachContext>;
  emulator: TelegramEmulator;
  db: Database;
  clock: TestClock;
  deps: BotDeps;
  config: AppConfig;
  /** every log line the bot wrote (JSON) */
  logs: string[];
  /** every wait (ms) the bot asked for before retrying a Bot API call (a 429's retry_after) */
  sleeps: number[];
  /** Stops polling (waiting for in-flight updates), then closes emulator and database. */
  stop(): Promise<void>;
}

export interface StartTestBotOptions {
  /** the clock's start (default 2026-11-22T09:00:00Z, a Sunday) */
  now?: string | Date;
  /** extra environment for parseConfig (e.g. ADMIN_TELEGRAM_IDS) */
  env?: Record<string, string>;
  /** reuse an emulator / database (they are then not closed by stop()) */
  emulator?: TelegramEmulator;
  database?: TestDatabase;
  /** override or add dependencies (e.g. loadPolicyPlanner, sleep) */
  deps?: Partial<BotDeps>;
  /** do not start polling (e.g. webhook tests) */
  launch?: boolean;
}

export function testConfig(
  emulator: TelegramEmulator,
  env: Record<string, string> = {},
): AppConfig {
  return parseConfig({
    TELEGRAM_BOT_TOKEN: emulator.token,
    TELEGRAM_API_ROOT: emulator.apiRoot,
    LOG_LEVEL: "debug",
    LOG_FORMAT: "json",
    TZ_DEFAULT: "UTC",
    RETRAIN_CRON: "off",
    ...env,
  });
}

export async function startTestBot(options: StartTestBotOptions = {}): Promise<TestBot> {
  const emulator = options.emulator ?? (await startEmulator());
  const database = options.database ?? (await createTestDatabase());
  const config = testConfig(emulator, options.env);
  const logs: string[] = [];
  const log = createLogger({
    level: "debug",
    pretty: false,
    secrets: [emulator.token],
    destination: new Writable({
      write(chunk, _encoding, callback) {
        logs.push(chunk.toString());
        callback();
      },
    }),
  });
  const clock = createClock(options.now ?? "2026-11-22T09:00:00Z");
  const sleeps: number[] = [];
  const base = {
    config,
    db: database.db,
    log,
    now: clock.now,
    chartsDir: mkdtempSync(join(tmpdir(), "coachrl-charts-")),
    // recorded, and shortened so that tests don't really wait for retry_after
    sleep: (ms: number) => {
      sleeps.push(ms);
      return new Promise<void>((resolve) => setTimeout(resolve, Math.min(ms, 50)));
    },
  };
  const deps: BotDeps = {
    ...base,
    // in-process, not working: a test that trains calls deps.training.work() or sets its own
    training: createInProcessQueue(base),
    ...options.deps,
  };
  const bot = createBot(deps);
  let running: Promise<void> | undefined;
  let retries: { stop(): void } | undefined;
  if (options.launch !== false) {
    // as src/main.ts does in polling mode: transient failures are retried in-process
    retries = retryInProcess(bot, { log, sleep: deps.sleep });
    await new Promise<void>((resolve, reject) => {
      running = bot.launch(() => resolve());
      running.catch(reject);
    });
    // launch() resolves onLaunch before deleteWebhook and the first getUpdates: wait for the poll.
    await emulator.waitFor(() => emulator.callsOf("getUpdates").length > 0, "the first getUpdates");
  }
  return {
    bot,
    emulator,
    db: database.db,
    clock,
    deps,
    config,
    logs,
    sleeps,
    async stop() {
      if (running) {
        // as src/main.ts stops polling: the retries end first
        retries?.stop();
        bot.stop("test finished");
        await running.catch(() => {});
      }
      await deps.training.stop();
      if (!options.emulator) await emulator.close();
      if (!options.database) await database.dispose();
    },
  };
}

/** Registers a person through the real onboarding: /start, time zone, plan time, own habits. */
export async function onboard(
  t: TestBot,
  userId: number,
  options: { timezone?: string; habits?: string[] } = {},
): Promise<void> {
  const { emulator } = t;
  await emulator.ask(userId, "/start");
  const [planTimeQuestion] = await emulator.ask(userId, options.timezone ?? "UTC");
  const { messages } = await emulator.tap(userId, planTimeQuestion, "07:30", 1);
  await emulator.tap(userId, messages[0], "I'll add my own", 1);
  for (const habit of options.habits ?? []) {
    await emulator.ask(userId, `/habits add ${habit}`);
  }
}
