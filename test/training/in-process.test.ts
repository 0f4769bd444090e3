// The training queue with embedded PGlite (`npm start` without Postgres): the same job API runs
// in-process. A retrain queued from the shell while the bot is down (`coachrl retrain`) is
// trained by the bot process when it starts — nothing queued is lost across a restart — and
// `coachrl worker` refuses PGlite with a clear message.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { addHabit } from "../../src/app/habits.js";
import { registerPerson } from "../../src/app/people.js";
import { parseConfig } from "../../src/config.js";
import { openPglite } from "../../src/db/client.js";
import { migrate } from "../../src/db/migrate.js";
import { startEmulator, type TelegramEmulator } from "../support/telegram-emulator.js";

const DEADLINE_MS = 240_000;
const ENV = {
  RETRAIN_STEPS: "1000",
  RETRAIN_NUM_ENVS: "8",
  RETRAIN_EVAL_EPISODES: "4",
  RETRAIN_EVAL_DAYS: "30",
  RETRAIN_CRON: "off",
  LOG_LEVEL: "info",
  LOG_FORMAT: "json",
};

function run(args: string[], env: Record<string, string>) {
  const base = { ...process.env };
  for (const key of Object.keys(base)) {
    if (/^(TELEGRAM_|WEBHOOK_|DATABASE_URL|ADMIN_|HTTP_|RETRAIN_|COACHRL_|npm_)/.test(key))
      delete base[key];
  }
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", ...args], {
    cwd: process.cwd(),
    env: { ...base, ...ENV, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (c: Buffer) => {
    out += c.toString();
  });
  child.stderr!.on("data", (c: Buffer) => {
    out += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  return { child, output: () => out, exited };
}

let emulator: TelegramEmulator | undefined;
afterAll(async () => {
  await emulator?.close();
});

describe("training queue on embedded PGlite (in-process)", () => {
  it(
    "a retrain queued from the shell while the bot is down is trained by the bot when it starts",
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), "coachrl-inprocess-"));
      const db = await openPglite(dataDir);
      await db.withSession((s) => migrate(s));
      const deps = { db, config: parseConfig({}) };
      const { person } = await registerPerson(deps, {
        telegramId: 4242n,
        chatId: 4242n,
        displayName: "Lena",
      });
      expect(
        (
          await addHabit(deps, person, {
            name: "walk",
            kind: "duration",
            unit: "min",
            target: 30,
            daysPerWeek: 5,
          })
        ).kind,
      ).toBe("added");
      await db.close();

      const queued = run(["src/cli.ts", "retrain", "--telegram-id", "4242"], { DATA_DIR: dataDir });
      expect(await queued.exited).toBe(0);
      expect(queued.output()).toMatch(/4242 Lena: queued as run #(\d+)/);
      const runId = Number(/run #(\d+)/.exec(queued.output())![1]);

      emulator = await startEmulator();
      const bot = run(["src/main.ts"], {
        DATA_DIR: dataDir,
        TELEGRAM_BOT_TOKEN: emulator.token,
        TELEGRAM_API_ROOT: emulator.apiRoot,
        HTTP_PORT: "0",
      });
      const deadline = Date.now() + DEADLINE_MS;
      while (!bot.output().includes('"msg":"retrain finished"')) {
        if (bot.child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`the bot did not train the queued run:\n${bot.output()}`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      bot.child.kill("SIGTERM");
      expect(await bot.exited).toBe(0);

      const after = await openPglite(dataDir);
      try {
        const stored = await after.prisma.trainingRun.findUniqueOrThrow({ where: { id: runId } });
        expect(stored.status).toBe("succeeded");
        expect(stored.userId).toBe(person.id);
        expect(stored.trainedBy).toMatch(new RegExp(`:${bot.child.pid}$`));
        expect(await after.prisma.policyModel.count({ where: { trainingRunId: runId } })).toBe(1);
      } finally {
        await after.close();
      }

      // a worker process needs Postgres
      const worker = run(["src/cli.ts", "worker"], { DATA_DIR: dataDir });
      expect(await worker.exited).toBe(1);
      expect(worker.output()).toContain("coachrl worker needs Postgres: set DATABASE_URL");
    },
    2 * DEADLINE_MS,
  );
});
