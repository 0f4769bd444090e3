// The training queue across processes on real Postgres: two `coachrl worker` processes and one
// bot process drain a queue of retrains (every person trained once, both workers did work); a
// worker killed with SIGKILL mid-job → another worker retries and completes it; SIGTERM releases
// the job in progress; the nightly cron fires once with two instances running.
// Waits are for events with (generous) deadlines: the machine is shared and loaded.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addHabit } from "../../src/app/habits.js";
import { registerPerson } from "../../src/app/people.js";
import { createPgBossQueue, PG_BOSS_SCHEMA } from "../../src/app/training/pg-boss-queue.js";
import { RETRAIN_QUEUE, type TrainingQueue } from "../../src/app/training/queue.js";
import { parseConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { createTestDatabase, onRealPostgres, type TestDatabase } from "../support/database.js";
import { startEmulator, type TelegramEmulator } from "../support/telegram-emulator.js";
import { until as waitUntil } from "../support/until.js";

const DEADLINE_MS = 240_000;
/** Tiny trainings so that the test stays fast; the real worker threads still train. */
const TRAINING_ENV = {
  RETRAIN_STEPS: "1000",
  RETRAIN_NUM_ENVS: "8",
  RETRAIN_EVAL_EPISODES: "4",
  RETRAIN_EVAL_DAYS: "30",
  RETRAIN_RETRY_DELAY: "1",
  // a killed worker's job expires after this; expiry is checked every tenth of it
  RETRAIN_JOB_TIMEOUT: "45",
  RETRAIN_CRON: "off",
  LOG_LEVEL: "info",
  LOG_FORMAT: "json",
};

interface Proc {
  child: ChildProcess;
  name: string;
  output: () => string;
  exited: Promise<number | null>;
}

const procs: Proc[] = [];

function start(name: string, args: string[], env: Record<string, string>): Proc {
  const base = { ...process.env };
  for (const key of Object.keys(base)) {
    if (/^(TELEGRAM_|WEBHOOK_|DATABASE_URL|ADMIN_|HTTP_|RETRAIN_|COACHRL_|npm_)/.test(key))
      delete base[key];
  }
  const child = spawn(process.execPath, ["--import", "tsx", ...args], {
    cwd: process.cwd(),
    env: { ...base, ...TRAINING_ENV, ...env },
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
  const proc = { child, name, output: () => out, exited };
  procs.push(proc);
  return proc;
}

function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = DEADLINE_MS,
): Promise<T> {
  return waitUntil(what, probe, {
    timeoutMs,
    details: () => procs.map((p) => `--- ${p.name}\n${p.output().slice(-4000)}`).join("\n"),
  });
}

const silent = createLogger({ level: "silent", pretty: false, secrets: [] });

describe.skipIf(!onRealPostgres)(
  "training queue across processes (real Postgres; skipped on PGlite: pg-boss and several processes need a Postgres server, set TEST_DATABASE_URL)",
  () => {
    let t: TestDatabase;
    let url: string;
    let emulator: TelegramEmulator;
    let enqueuer: TrainingQueue;
    const config = parseConfig(TRAINING_ENV);
    const deps = () => ({ config, db: t.db, log: silent, now: () => new Date() });

    beforeAll(async () => {
      t = await createTestDatabase({ poolSize: 8 });
      url = t.url!;
      emulator = await startEmulator();
      enqueuer = await createPgBossQueue(deps(), { url, instance: "test" });
    }, DEADLINE_MS);
    afterAll(async () => {
      for (const p of procs) if (p.child.exitCode === null) p.child.kill("SIGKILL");
      await Promise.all(procs.map((p) => p.exited));
      await enqueuer?.stop();
      await emulator?.close();
      await t?.dispose();
    }, DEADLINE_MS);

    /** People registered and given habits through the app's use cases. */
    async function seedPeople(count: number, firstId: number): Promise<number[]> {
      const ids: number[] = [];
      for (let i = 0; i < count; i++) {
        const telegramId = BigInt(firstId + i);
        const { person } = await registerPerson(deps(), {
          telegramId,
          chatId: telegramId,
          displayName: `Sim ${telegramId}`,
        });
        for (const habit of [
          { name: "walk", kind: "duration" as const, unit: "min", target: 30, daysPerWeek: 5 },
          { name: "read", kind: "duration" as const, unit: "min", target: 20, daysPerWeek: 7 },
        ]) {
          const added = await addHabit(deps(), person, habit);
          expect(added.kind).toBe("added");
        }
        ids.push(person.id);
      }
      return ids;
    }

    /**
     * Which process completed each run, from pg-boss's completed jobs' output (`handedBack`:
     * the jobs a stopping worker completed by handing the run back instead).
     */
    async function completedBy(which: "trained" | "handedBack" = "trained") {
      const rows = await t.db.withSession((s) =>
        s.query<{ run_id: number; instance: string }>(
          `SELECT (data->>'runId')::int AS run_id, output->>'instance' AS instance
             FROM ${PG_BOSS_SCHEMA}.job WHERE name = $1 AND state = 'completed'
              AND (output->>'status' = 'handed back') = $2`,
          [RETRAIN_QUEUE, which === "handedBack"],
        ),
      );
      return new Map(rows.map((r) => [r.run_id, r.instance]));
    }

    it(
      "two workers and a bot drain a queue: everyone trained exactly once, both workers worked",
      async () => {
        const people = await seedPeople(20, 7000);
        const runIds: number[] = [];
        for (const userId of people) {
          const queued = await enqueuer.enqueue({ userId, trigger: "admin" });
          expect(queued.kind).toBe("queued");
          runIds.push(queued.runId);
        }
        const workers = [1, 2].map((n) =>
          start(`worker ${n}`, ["src/cli.ts", "worker", "--concurrency", "1"], {
            DATABASE_URL: url,
          }),
        );
        const bot = start("bot", ["src/main.ts"], {
          DATABASE_URL: url,
          TELEGRAM_BOT_TOKEN: emulator.token,
          TELEGRAM_API_ROOT: emulator.apiRoot,
          HTTP_PORT: "0",
          COACHRL_WORKERS: "1",
          DATA_DIR: mkdtempSync(join(tmpdir(), "coachrl-bot-")),
        });
        await until("every run to finish", async () => {
          const open = await t.db.prisma.trainingRun.count({
            where: { id: { in: runIds }, status: { in: ["queued", "running"] } },
          });
          return open === 0;
        });
        const runs = await t.db.prisma.trainingRun.findMany({ where: { id: { in: runIds } } });
        expect(runs.map((r) => r.status)).toEqual(runIds.map(() => "succeeded"));
        // one model per person and run; at most one active per person
        for (const userId of people) {
          const models = await t.db.prisma.policyModel.findMany({ where: { userId } });
          expect(models).toHaveLength(1);
          expect(models[0].trainingRunId).toBe(runs.find((r) => r.userId === userId)!.id);
        }
        expect(await t.db.prisma.trainingRun.count({ where: { userId: { in: people } } })).toBe(
          people.length,
        );
        const by = await completedBy();
        const instances = runIds.map((id) => by.get(id));
        expect(instances.every((i) => i !== undefined)).toBe(true);
        // each run names the process that trained it, as pg-boss recorded it
        expect(runIds.map((id) => runs.find((r) => r.id === id)!.trainedBy)).toEqual(instances);
        const workerPids = workers.map((w) => String(w.child.pid));
        for (const pid of workerPids) {
          expect(instances.some((i) => i!.endsWith(`:${pid}`))).toBe(true);
        }
        // the bot process trains too (unless COACHRL_WORKERS=0); it may or may not have won a job
        for (const p of [...workers, bot]) p.child.kill("SIGTERM");
        const codes = await Promise.all([...workers, bot].map((p) => p.exited));
        expect(codes).toEqual([0, 0, 0]);
        for (const w of workers) expect(w.output()).toContain("training worker stopped");
      },
      2 * DEADLINE_MS,
    );

    it(
      "a worker killed with SIGKILL mid-job: the job expires and another worker completes it",
      async () => {
        const [userId] = await seedPeople(1, 7100);
        const doomed = start("doomed worker", ["src/cli.ts", "worker", "--concurrency", "1"], {
          DATABASE_URL: url,
        });
        // a training of a few seconds: killed as soon as it has started
        const { runId } = await enqueuer.enqueue({ userId, trigger: "admin", steps: 4096 });
        await until(
          "the doomed worker to start training",
          async () =>
            (await t.db.prisma.trainingRun.findUniqueOrThrow({ where: { id: runId } })).status ===
            "running",
          DEADLINE_MS,
        );
        doomed.child.kill("SIGKILL");
        await doomed.exited;
        const rescuer = start("rescuer", ["src/cli.ts", "worker", "--concurrency", "1"], {
          DATABASE_URL: url,
        });
        const run = await until("the job to be retried and finished", async () => {
          const r = await t.db.prisma.trainingRun.findUniqueOrThrow({ where: { id: runId } });
          return r.status === "succeeded" || r.status === "failed" ? r : undefined;
        });
        expect(run.status).toBe("succeeded");
        // the second attempt (the first died with its worker)
        expect(run.hyperparameters).toMatchObject({ attempt: 2 });
        const by = await completedBy();
        expect(by.get(runId)).toMatch(new RegExp(`:${rescuer.child.pid}$`));
        expect(await t.db.prisma.policyModel.count({ where: { trainingRunId: runId } })).toBe(1);
        rescuer.child.kill("SIGTERM");
        expect(await rescuer.exited).toBe(0);
      },
      2 * DEADLINE_MS,
    );

    it(
      "SIGTERM releases the job in progress: the worker exits cleanly and another one completes it",
      async () => {
        const [userId] = await seedPeople(1, 7200);
        const first = start("first worker", ["src/cli.ts", "worker", "--concurrency", "1"], {
          DATABASE_URL: url,
        });
        // long enough (16 PPO updates) to be stopped in the middle
        const { runId } = await enqueuer.enqueue({ userId, trigger: "admin", steps: 8192 });
        await until("the first worker to be training", async () => {
          return (await t.db.prisma.trainingMetric.count({ where: { runId } })) > 0;
        });
        const second = start("second worker", ["src/cli.ts", "worker", "--concurrency", "1"], {
          DATABASE_URL: url,
        });
        first.child.kill("SIGTERM");
        expect(await first.exited).toBe(0);
        expect(first.output()).toContain("retrain released (shutdown)");
        expect(first.output()).toContain("training worker stopped");
        const run = await until(
          "the released job to be finished by the second worker",
          async () => {
            const r = await t.db.prisma.trainingRun.findUniqueOrThrow({ where: { id: runId } });
            return r.status === "succeeded" || r.status === "failed" ? r : undefined;
          },
        );
        expect(run.status).toBe("succeeded");
        const attempts = (run.hyperparameters as { attempt: number }).attempt;
        if (attempts !== 2) {
          // the second attempt failed too (e.g. the time limit on an overloaded machine): why
          console.log(
            second
              .output()
              .split("\n")
              .filter((l) => /attempt|released|retrain|error/i.test(l))
              .join("\n"),
          );
        }
        expect(attempts).toBe(2);
        expect((await completedBy()).get(runId)).toMatch(new RegExp(`:${second.child.pid}$`));
        // the stopping worker completed its job by handing the run back (no retry used)
        expect((await completedBy("handedBack")).get(runId)).toMatch(
          new RegExp(`:${first.child.pid}$`),
        );
        expect(await t.db.prisma.policyModel.count({ where: { trainingRunId: runId } })).toBe(1);
        second.child.kill("SIGTERM");
        expect(await second.exited).toBe(0);
      },
      2 * DEADLINE_MS,
    );

    it(
      "the nightly cron fires once with two instances running: one job per person with habits",
      async () => {
        await seedPeople(3, 7300);
        const a = await createPgBossQueue(deps(), { url, instance: "instance a" });
        const b = await createPgBossQueue(deps(), { url, instance: "instance b" });
        try {
          const before = new Date();
          await Promise.all([a.scheduleNightly("* * * * *"), b.scheduleNightly("* * * * *")]);
          const claim = await until(
            "the nightly cron to fire",
            async () =>
              (await t.db.prisma.jobRun.findFirst({
                where: { job: "nightly-retrain", finishedAt: { not: null } },
              })) ?? undefined,
            150_000,
          );
          expect(claim.startedAt.getTime()).toBeGreaterThanOrEqual(before.getTime() - 60_000);
          expect(["instance a", "instance b"]).toContain(claim.instance);
          const withHabits = await t.db.prisma.user.count({
            where: { habits: { some: { archivedAt: null } } },
          });
          const nightly = await t.db.prisma.trainingRun.findMany({ where: { trigger: "nightly" } });
          expect(withHabits).toBeGreaterThanOrEqual(3);
          expect(nightly).toHaveLength(withHabits);
          expect(new Set(nightly.map((r) => r.userId)).size).toBe(withHabits);
          // one cron job for that minute, worked once
          const cronJobs = await t.db.withSession((s) =>
            s.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM ${PG_BOSS_SCHEMA}.job WHERE name = 'nightly-retrain'`,
            ),
          );
          expect(cronJobs[0].n).toBeGreaterThanOrEqual(1);
          expect(await t.db.prisma.jobRun.count({ where: { job: "nightly-retrain" } })).toBe(
            cronJobs[0].n,
          );
          // RETRAIN_CRON=off at the next start removes the schedule kept in the database
          await a.scheduleNightly("off");
          const schedules = await t.db.withSession((s) =>
            s.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM ${PG_BOSS_SCHEMA}.schedule WHERE name = 'nightly-retrain'`,
            ),
          );
          expect(schedules[0].n).toBe(0);
        } finally {
          await Promise.all([a.stop(), b.stop()]);
        }
      },
      2 * DEADLINE_MS,
    );
  },
);
