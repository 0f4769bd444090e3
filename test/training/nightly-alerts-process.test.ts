// The nightly report through the real bot process: a night whose jobs have all ended is reported
// to the admins by the bot's own Telegram client at start-up — once, even with two bot processes
// checking at the same moment (on real Postgres; PGlite is one process).
import { afterAll, describe, expect, it } from "vitest";
import { NIGHTLY_RETRAIN_JOB } from "../../src/app/training/nightly.js";
import { claimJob, finishJob } from "../../src/db/jobs.js";
import { migrate } from "../../src/db/migrate.js";
import {
  type AppProcess,
  freePort,
  PROCESS_DEADLINE_MS,
  processDatabase,
  startApp,
} from "../support/app-process.js";
import { onRealPostgres } from "../support/database.js";
import { startEmulator, type TelegramEmulator } from "../support/telegram-emulator.js";

const apps: AppProcess[] = [];
let emulator: TelegramEmulator | undefined;
let database: Awaited<ReturnType<typeof processDatabase>> | undefined;
afterAll(async () => {
  for (const app of apps) {
    if (app.child.exitCode === null) app.child.kill("SIGTERM");
    await app.exited;
  }
  await emulator?.close();
  await database?.dispose();
});

describe("nightly report from the bot process", () => {
  it(
    "sends one report to each admin for an ended night",
    async () => {
      emulator = await startEmulator({ timeoutMs: PROCESS_DEADLINE_MS });
      database = await processDatabase();
      const db = await database.open();
      await db.withSession((session) => migrate(session, {}));
      const night = "2026-11-30T02:30Z";
      const claim = await claimJob(db, NIGHTLY_RETRAIN_JOB, night, "earlier");
      await finishJob(db, claim!.id);
      for (const [i, status] of (["succeeded", "failed"] as const).entries()) {
        const user = await db.prisma.user.create({
          data: { telegramId: 900n + BigInt(i), chatId: 900n + BigInt(i), displayName: `P${i}` },
        });
        await db.prisma.trainingRun.create({
          data: {
            userId: user.id,
            trigger: "nightly",
            status,
            jobKey: `nightly:${user.id}:${night}`,
            hyperparameters: {},
            error: status === "failed" ? "the training worker exited (code 1)" : null,
            startedAt: new Date(),
            finishedAt: new Date(),
            summary:
              status === "succeeded"
                ? {
                    activated: true,
                    cost: {
                      cpuSeconds: 12,
                      trainingCpuSeconds: 11,
                      clock: "thread-cpu",
                      steps: 1000,
                      stoppedBy: "steps",
                    },
                  }
                : undefined,
          },
        });
      }
      await db.close();
      const instances = onRealPostgres ? 2 : 1;
      for (let i = 0; i < instances; i++) {
        const port = await freePort();
        const app = startApp({
          TELEGRAM_BOT_TOKEN: emulator.token,
          TELEGRAM_API_ROOT: emulator.apiRoot,
          WEBHOOK_URL: "https://coach.example/telegram/hook",
          WEBHOOK_SECRET: "nightly-report-secret",
          HTTP_HOST: "127.0.0.1",
          HTTP_PORT: String(port),
          ADMIN_TELEGRAM_IDS: "111,222",
          COACHRL_WORKERS: "0",
          LOG_LEVEL: "info",
          ...database.env,
        });
        apps.push(app);
      }
      await Promise.all(apps.map((app) => app.waitForLog("bot started (webhook)")));
      await emulator.waitForBotMessages(111, 1);
      await emulator.waitForBotMessages(222, 1);
      // give a second instance (or a second check) the time to send a duplicate
      await new Promise((resolve) => setTimeout(resolve, 2000));
      for (const chat of [111, 222]) {
        const texts = emulator.botMessages(chat).map((m) => m.text);
        expect(texts).toHaveLength(1);
        expect(texts[0]).toContain(`Nightly retrain ${night} finished: 2 jobs.`);
        expect(texts[0]).toContain("Trained: 1 (activated 1, kept the old policy 0).");
        expect(texts[0]).toContain(
          "Failed: 1. Top error (1×): the training worker exited (code 1)",
        );
        expect(texts[0]).toContain("CPU: 12.0 CPU-s in total, 12.0 CPU-s per person");
      }
      for (const app of apps) app.child.kill("SIGTERM");
      expect(await Promise.all(apps.map((app) => app.exited))).toEqual(apps.map(() => 0));
    },
    PROCESS_DEADLINE_MS,
  );
});
