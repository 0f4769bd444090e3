// The pg-boss training queue never strands a run (real Postgres, real pg-boss, real trainings in
// worker threads): a worker that shuts down hands its training back without using up the job's
// retries, however often it happens; a run whose job never reached pg-boss (the process died
// between the run row and the job) is queued by the next worker; a run whose job pg-boss gave up
// on (every attempt's worker died) is recorded as failed instead of waiting for ever.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addHabit } from "../../src/app/habits.js";
import { registerPerson } from "../../src/app/people.js";
import { createPgBossQueue, PG_BOSS_SCHEMA } from "../../src/app/training/pg-boss-queue.js";
import { RETRAIN_QUEUE, RETRAIN_RETRY_LIMIT } from "../../src/app/training/queue.js";
import { retrainSizes } from "../../src/app/training/retrain.js";
import { parseConfig } from "../../src/config.js";
import { createKeyedTrainingRun } from "../../src/db/training-queue.js";
import { createLogger } from "../../src/logger.js";
import { createTestDatabase, onRealPostgres, type TestDatabase } from "../support/database.js";
import { until as waitUntil } from "../support/until.js";

const DEADLINE_MS = 240_000;
const config = parseConfig({
  RETRAIN_STEPS: "1000",
  RETRAIN_NUM_ENVS: "8",
  RETRAIN_EVAL_EPISODES: "4",
  RETRAIN_EVAL_DAYS: "30",
  RETRAIN_RETRY_DELAY: "1",
  RETRAIN_JOB_TIMEOUT: "120",
  RETRAIN_CRON: "off",
});
const silent = createLogger({ level: "silent", pretty: false, secrets: [] });

const until = <T>(what: string, probe: () => Promise<T | undefined | false>) =>
  waitUntil(what, probe, { timeoutMs: DEADLINE_MS, intervalMs: 100 });

describe.skipIf(!onRealPostgres)(
  "pg-boss queue: no run is stranded (real Postgres; skipped on PGlite: pg-boss needs a Postgres server)",
  () => {
    let t: TestDatabase;
    let url: string;
    const deps = () => ({ config, db: t.db, log: silent, now: () => new Date() });

    beforeAll(async () => {
      t = await createTestDatabase({ poolSize: 8 });
      url = t.url!;
    }, DEADLINE_MS);
    afterAll(async () => {
      await t?.dispose();
    }, DEADLINE_MS);

    async function personWithHabits(telegramId: number): Promise<number> {
      const { person } = await registerPerson(deps(), {
        telegramId: BigInt(telegramId),
        chatId: BigInt(telegramId),
        displayName: `Sim ${telegramId}`,
      });
      for (const habit of [
        { name: "walk", kind: "duration" as const, unit: "min", target: 30, daysPerWeek: 5 },
        { name: "read", kind: "duration" as const, unit: "min", target: 20, daysPerWeek: 7 },
      ]) {
        expect((await addHabit(deps(), person, habit)).kind).toBe("added");
      }
      return person.id;
    }

    /** pg-boss's jobs of a run (in its queue table and its archive): their states. */
    async function jobStates(runId: number): Promise<string[]> {
      const rows = await t.db.sql<{ state: string }>(
        `SELECT state FROM ${PG_BOSS_SCHEMA}.job WHERE name = $1 AND (data->>'runId')::int = $2
         UNION ALL
         SELECT state FROM ${PG_BOSS_SCHEMA}.archive WHERE name = $1 AND (data->>'runId')::int = $2`,
        [RETRAIN_QUEUE, runId],
      );
      return rows.map((r) => r.state);
    }
    const live = (states: string[]) =>
      states.some((s) => s === "created" || s === "retry" || s === "active");
    /** A queue that works one training at a time, checking for stranded runs at once. */
    async function startWorker(instance: string) {
      const queue = await createPgBossQueue(deps(), {
        url,
        instance,
        pollingIntervalSeconds: 0.5,
        strandedRunGraceSeconds: 0,
      });
      await queue.work(1);
      return queue;
    }
    const ended = (runId: number) =>
      until(`run #${runId} to end`, async () => {
        const run = await t.db.prisma.trainingRun.findUniqueOrThrow({ where: { id: runId } });
        return run.status === "queued" || run.status === "running" ? undefined : run;
      });

    it(
      "a training handed back by more shutdowns than the job has retries is still trained by the next worker",
      async () => {
        const userId = await personWithHabits(9100);
        const enqueuer = await createPgBossQueue(deps(), { url, instance: "enqueuer" });
        // a long training (stopped by its CPU budget when it is finally left to finish)
        const { runId } = await enqueuer.enqueue({
          userId,
          trigger: "admin",
          steps: 2_000_000,
          cpuSeconds: 2,
        });
        await enqueuer.stop();
        const shutdowns = RETRAIN_RETRY_LIMIT + 2;
        for (let i = 1; i <= shutdowns; i++) {
          const worker = await startWorker(`worker ${i}`);
          await until(`worker ${i} to be training`, async () => {
            const run = await t.db.prisma.trainingRun.findUniqueOrThrow({ where: { id: runId } });
            return run.status === "running" && run.trainedBy === `worker ${i}`;
          });
          await worker.stop();
          const run = await t.db.prisma.trainingRun.findUniqueOrThrow({ where: { id: runId } });
          expect(run.status).toBe("queued");
          expect(run.hyperparameters).toMatchObject({ attempt: i });
          // handed back: a job is waiting for the next worker (not failed with its retries used up)
          expect(live(await jobStates(runId))).toBe(true);
        }
        const last = await startWorker("last worker");
        try {
          const run = await ended(runId);
          expect(run.status).toBe("succeeded");
          expect(run.trainedBy).toBe("last worker");
          expect(run.hyperparameters).toMatchObject({ attempt: shutdowns + 1 });
          expect(await t.db.prisma.policyModel.count({ where: { trainingRunId: runId } })).toBe(1);
        } finally {
          await last.stop();
        }
      },
      4 * DEADLINE_MS,
    );

    it(
      "a run whose job never reached pg-boss (the process died in between) is queued by the next worker and trained",
      async () => {
        const userId = await personWithHabits(9200);
        // what enqueue leaves when the process dies after creating the run, before sending its job
        const { run } = await createKeyedTrainingRun(t.db, {
          userId,
          trigger: "nightly",
          requestedBy: null,
          jobKey: `nightly:${userId}:2026-12-01`,
          hyperparameters: { ...retrainSizes(config, {}), behaviour: "pending" },
        });
        expect(await jobStates(run.id)).toEqual([]);
        const worker = await startWorker("worker");
        try {
          const done = await ended(run.id);
          expect(done.status).toBe("succeeded");
          expect(await t.db.prisma.policyModel.count({ where: { trainingRunId: run.id } })).toBe(1);
          // one job was sent for it, however often the check ran
          expect(await jobStates(run.id)).toHaveLength(1);
        } finally {
          await worker.stop();
        }
      },
      DEADLINE_MS,
    );

    it(
      "a run whose job pg-boss gave up on (its workers died on every attempt) is recorded as failed",
      async () => {
        const userId = await personWithHabits(9300);
        const enqueuer = await createPgBossQueue(deps(), { url, instance: "enqueuer" });
        const { runId } = await enqueuer.enqueue({ userId, trigger: "admin" });
        // what pg-boss does when the last attempt's worker died: the job expires into `failed`,
        // while the run row still says what the dead worker left
        await t.db.sql(
          `UPDATE ${PG_BOSS_SCHEMA}.job SET state = 'failed', retry_count = retry_limit,
             completed_on = now() WHERE name = $1 AND (data->>'runId')::int = $2`,
          [RETRAIN_QUEUE, runId],
        );
        await t.db.prisma.trainingRun.update({ where: { id: runId }, data: { status: "running" } });
        await enqueuer.stop();
        const worker = await startWorker("worker");
        try {
          const run = await ended(runId);
          expect(run.status).toBe("failed");
          expect(run.error).toMatch(/gave up/);
          expect(await t.db.prisma.policyModel.count({ where: { trainingRunId: runId } })).toBe(0);
        } finally {
          await worker.stop();
        }
      },
      DEADLINE_MS,
    );
  },
);
