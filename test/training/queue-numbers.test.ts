// The queue's numbers as operators see them: /status and GET /metrics count waiting, active and
// failed retrains, the oldest waiting one's age, jobs finished per minute and per worker,
// whichever queue implementation runs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { statusReport } from "../../src/bot/commands/admin.js";
import type { BotDeps } from "../../src/bot/context.js";
import { MetricsRegistry } from "../../src/http/metrics.js";
import { testBotDeps } from "../support/bot-deps.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

let t: TestDatabase;
let deps: BotDeps;
// the wall clock: /metrics measures ages against it
const NOW = new Date();
beforeAll(async () => {
  t = await createTestDatabase();
  deps = testBotDeps(t.db, { now: () => NOW });
});
afterAll(async () => {
  await deps?.training.stop();
  await t?.dispose();
});

describe("queue numbers", () => {
  it("are idle with an empty queue, then count waiting, training and failed runs", async () => {
    expect(await statusReport(deps)).toContain(
      "Training queue (in-process): idle; 0 failed in the last 24 h",
    );
    expect(await statusReport(deps)).toContain(
      "Training throughput: 0 jobs/min (last 15 min); by worker in the last hour: none",
    );
    const user = await t.db.prisma.user.create({
      data: { telegramId: 1n, chatId: 1n, displayName: "A" },
    });
    const run = (status: "queued" | "running" | "failed", createdAt: Date, finishedAt?: Date) =>
      t.db.prisma.trainingRun.create({
        data: {
          userId: user.id,
          trigger: "nightly",
          status,
          hyperparameters: {},
          createdAt,
          finishedAt: finishedAt ?? null,
        },
      });
    await run("queued", new Date(NOW.getTime() - 5 * 60_000));
    await run("queued", new Date(NOW.getTime() - 60_000));
    await run("running", new Date(NOW.getTime() - 10 * 60_000));
    await run("failed", new Date(NOW.getTime() - 3_600_000), new Date(NOW.getTime() - 1_800_000));
    // failed longer ago than a day: not counted
    await run(
      "failed",
      new Date(NOW.getTime() - 3 * 86_400_000),
      new Date(NOW.getTime() - 2 * 86_400_000),
    );
    expect(await statusReport(deps)).toContain(
      "Training queue (in-process): 2 waiting (oldest waiting 5 min), 1 training, 1 failed in the last 24 h",
    );
    const metrics = await new MetricsRegistry(t.db).render();
    expect(metrics).toMatch(/^coachrl_training_queue_waiting 2$/m);
    expect(metrics).toMatch(/^coachrl_training_queue_active 1$/m);
    expect(metrics).toMatch(/^coachrl_training_queue_failed 1$/m);
    // measured against the wall clock: the oldest was created "5 minutes before NOW"
    const oldest = Number(
      /^coachrl_training_queue_oldest_waiting_seconds (\S+)$/m.exec(metrics)![1],
    );
    expect(oldest).toBeGreaterThanOrEqual((Date.now() - NOW.getTime()) / 1000 + 299);
    expect(metrics).toContain("# TYPE coachrl_training_queue_waiting gauge");
  });

  it("count jobs finished per minute (15 min) and per worker instance (last hour)", async () => {
    const user = await t.db.prisma.user.create({
      data: { telegramId: 2n, chatId: 2n, displayName: "B" },
    });
    const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);
    const finished = (
      status: "succeeded" | "failed" | "cancelled",
      finishedMinutesAgo: number,
      trainedBy: string,
    ) =>
      t.db.prisma.trainingRun.create({
        data: {
          userId: user.id,
          trigger: "nightly",
          status,
          hyperparameters: {},
          createdAt: minutesAgo(finishedMinutesAgo + 1),
          finishedAt: minutesAgo(finishedMinutesAgo),
          trainedBy,
        },
      });
    await finished("succeeded", 2, "worker a:1");
    await finished("succeeded", 3, "worker a:1");
    await finished("failed", 10, "worker b:2");
    // in the hour, not in the last 15 minutes
    await finished("succeeded", 30, "worker b:2");
    // neither: finished too long ago, or cancelled (not trained)
    await finished("succeeded", 120, "worker a:1");
    await finished("cancelled", 1, "worker a:1");
    // (the first test's run that failed 30 min ago has no trainedBy: "unknown")
    expect(await statusReport(deps)).toContain(
      "Training throughput: 0.2 jobs/min (last 15 min); by worker in the last hour: worker a:1 2, worker b:2 2, unknown 1",
    );
    const metrics = await new MetricsRegistry(t.db).render();
    expect(metrics).toMatch(/^coachrl_training_jobs_finished_per_minute 0\.2$/m);
    expect(metrics).toMatch(/^coachrl_training_jobs_finished_by_worker\{worker="worker a:1"\} 2$/m);
    expect(metrics).toMatch(/^coachrl_training_jobs_finished_by_worker\{worker="worker b:2"\} 2$/m);
    expect(metrics).toMatch(/^coachrl_training_jobs_finished_by_worker\{worker="unknown"\} 1$/m);
    expect(metrics).toContain("# TYPE coachrl_training_jobs_finished_by_worker gauge");
  });
});
