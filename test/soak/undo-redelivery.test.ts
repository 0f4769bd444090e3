// Found by the soak (`npm run soak`, docs/operations.md "Soak with faults"): an /undo whose reply
// fails after the retraction (a Bot API 500) is handled again on Telegram's re-delivery and takes
// back a second entry. Retractions carry no idempotency key, unlike every stored entry.
//
// Fixed: an /undo carries an idempotency key (undoKey), recorded on the entry it retracted.
import { afterEach, expect, it } from "vitest";
import {
  type AppProcess,
  freePort,
  killHard,
  PROCESS_DEADLINE_MS,
  planTimeAwayFromNow,
  processDatabase,
  startApp,
} from "../support/app-process.js";
import { startEmulator, type TelegramEmulator } from "../support/telegram-emulator.js";

const USER = 1201;
let emulator: TelegramEmulator | undefined;
let database: Awaited<ReturnType<typeof processDatabase>> | undefined;
let app: AppProcess | undefined;

afterEach(async () => {
  if (app) await killHard(app);
  app = undefined;
  await emulator?.close();
  emulator = undefined;
  await database?.dispose();
  database = undefined;
});

it(
  "an /undo re-delivered after its reply failed takes back one entry, not two",
  async () => {
    emulator = await startEmulator({ timeoutMs: PROCESS_DEADLINE_MS });
    database = await processDatabase();
    const port = await freePort();
    emulator.forwardWebhookTo(`http://127.0.0.1:${port}`);
    app = startApp({
      TELEGRAM_BOT_TOKEN: emulator.token,
      TELEGRAM_API_ROOT: emulator.apiRoot,
      WEBHOOK_URL: "https://coach.example.com/telegram/hook",
      WEBHOOK_SECRET: "undo_redelivery_webhook_secret_0123",
      HTTP_HOST: "127.0.0.1",
      HTTP_PORT: String(port),
      LOG_LEVEL: "info",
      ...database.env,
    });
    await app.waitForLog("bot started (webhook)");
    await emulator.ask(USER, "/start");
    await emulator.ask(USER, "UTC");
    // typed, away from now: no morning plan is pushed while the test counts replies
    const [habitsQuestion] = await emulator.ask(USER, planTimeAwayFromNow());
    await emulator.tap(USER, habitsQuestion, "I'll add my own", 1);
    await emulator.ask(USER, "/habits add walk 30min 5/week");
    await emulator.ask(USER, "walk 10");
    await emulator.ask(USER, "walk 20");

    emulator.webhookRetryDelayMs = 100; // Telegram re-delivers what was not accepted
    emulator.failNext("sendMessage", { code: 500, description: "Internal Server Error" });
    const undo = emulator.sendText(USER, "/undo");
    await emulator.waitFor(
      () =>
        emulator!.webhookResponses.some((r) => r.updateId === undo.update_id && r.status === 200),
      "the /undo to be accepted",
    );
    app.child.kill("SIGTERM");
    await app.exited;
    app = undefined;

    const db = await database.open();
    try {
      const entries = await db.prisma.habitEntry.findMany({ orderBy: { id: "asc" } });
      expect(entries.map((e) => [e.amount, e.retractedAt !== null])).toEqual([
        [10, false],
        [20, true],
      ]);
    } finally {
      await db.close();
    }
  },
  4 * PROCESS_DEADLINE_MS,
);
