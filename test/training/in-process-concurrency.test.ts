// The in-process training queue (embedded PGlite, `coachrl simulate`) works `concurrency`
// trainings at a time, as TrainingQueue.work promises and COACHRL_WORKERS documents: with 2 the
// second job starts while the first is still training, with 1 never; every job of the batch is
// trained once, and stop() ends every training in progress. Real database (PGlite, or Postgres
// with TEST_DATABASE_URL); the runner is the product's own training, wrapped to watch overlap.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inThreadRunner } from "../../src/app/closed-loop.js";
import { createInProcessQueue } from "../../src/app/training/in-process-queue.js";
import type { RetrainRunner } from "../../src/app/training/retrain.js";
import { parseConfig } from "../../src/config.js";
import type { User } from "../../src/generated/prisma/client.js";
import { createLogger } from "../../src/logger.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { personWithHabits, TINY_RETRAIN_ENV } from "../support/people.js";

const config = parseConfig({ ...TINY_RETRAIN_ENV, RETRAIN_CRON: "off" });
const log = createLogger({ level: "silent", pretty: false, secrets: [] });
/** Upper bound on waiting for a second training to start (an event; this only bounds a failure). */
const OVERLAP_WAIT_MS = 60_000;
let t: TestDatabase;
let people: User[];

beforeAll(async () => {
  t = await createTestDatabase();
  people = [];
  for (const [i, name] of ["Ana", "Ben", "Cy"].entries()) {
    people.push(await personWithHabits(t.db, config, 9401 + i, name));
  }
}, 120_000);
afterAll(async () => {
  await t?.dispose();
});

/**
 * The product's training, counting how many run at once. Each training waits (bounded) for a
 * second one to start before it trains, so overlap is seen whenever the queue allows it.
 */
function watchedRunner() {
  let running = 0;
  let peak = 0;
  let started = 0;
  let secondStarted: () => void = () => {};
  const second = new Promise<void>((resolve) => {
    secondStarted = resolve;
  });
  const runner: RetrainRunner = async (request, onProgress, signal) => {
    running++;
    started++;
    peak = Math.max(peak, running);
    if (started >= 2) secondStarted();
    try {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        second,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, OVERLAP_WAIT_MS);
        }),
      ]);
      clearTimeout(timer);
      return await inThreadRunner(request, onProgress, signal);
    } finally {
      running--;
    }
  };
  return { runner, peak: () => peak, started: () => started };
}

async function trainAll(concurrency: number, runner: RetrainRunner) {
  const queue = createInProcessQueue(
    { config, db: t.db, log, now: () => new Date() },
    { runner, instance: `concurrency-${concurrency}` },
  );
  try {
    const runIds: number[] = [];
    for (const person of people) {
      const queued = await queue.enqueue({ userId: person.id, trigger: "cli", steps: 512 });
      runIds.push(queued.runId);
    }
    await queue.work(concurrency);
    await queue.whenIdle();
    const runs = await t.db.prisma.trainingRun.findMany({ where: { id: { in: runIds } } });
    return runs.map((r) => r.status);
  } finally {
    await queue.stop();
  }
}

describe("the in-process training queue's concurrency", () => {
  it("works two trainings at a time with work(2), each job once", async () => {
    const watched = watchedRunner();
    const statuses = await trainAll(2, watched.runner);
    expect(statuses).toEqual(["succeeded", "succeeded", "succeeded"]);
    expect(watched.started()).toBe(3);
    expect(watched.peak()).toBe(2);
  }, 240_000);

  it("never two at once with work(1)", async () => {
    let running = 0;
    let peak = 0;
    const counting: RetrainRunner = async (request, onProgress, signal) => {
      running++;
      peak = Math.max(peak, running);
      try {
        return await inThreadRunner(request, onProgress, signal);
      } finally {
        running--;
      }
    };
    const statuses = await trainAll(1, counting);
    expect(statuses).toEqual(["succeeded", "succeeded", "succeeded"]);
    expect(peak).toBe(1);
  }, 240_000);

  it("stop() ends every training in progress and waits for them", async () => {
    const queue = createInProcessQueue(
      { config, db: t.db, log, now: () => new Date() },
      {
        instance: "concurrency-stop",
        // trainings that only end when aborted
        runner: (_request, _onProgress, signal) =>
          new Promise((_resolve, reject) => {
            inFlight++;
            if (inFlight === 2) bothRunning();
            signal.addEventListener("abort", () => {
              inFlight--;
              reject(new Error("aborted"));
            });
          }),
      },
    );
    let inFlight = 0;
    let bothRunning: () => void = () => {};
    const running = new Promise<void>((resolve) => {
      bothRunning = resolve;
    });
    for (const person of people.slice(0, 2)) {
      await queue.enqueue({ userId: person.id, trigger: "cli", steps: 512 });
    }
    await queue.work(2);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([running, new Promise((r) => (timer = setTimeout(r, OVERLAP_WAIT_MS)))]);
    clearTimeout(timer);
    expect(inFlight).toBe(2);
    await queue.stop();
    expect(inFlight).toBe(0);
  }, 120_000);
});
