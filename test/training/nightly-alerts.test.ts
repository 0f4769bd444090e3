// Admin alerts of the nightly retrain (src/app/training/nightly-report.ts): one report per
// night when all its jobs ended — sent once even with two instances checking at the same time —
// the failing-night alert (stalled, or more than 10 % failed), and the CPU budget that ends a
// long training early with the policy trained so far. Real database (PGlite, or Postgres with
// TEST_DATABASE_URL), the Bot API emulator, a real worker thread.
import { Telegram } from "telegraf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerPerson } from "../../src/app/people.js";
import { seedSimulatedPeople } from "../../src/app/simulated-people.js";
import { createInProcessQueue } from "../../src/app/training/in-process-queue.js";
import { enqueueNightly, NIGHTLY_RETRAIN_JOB } from "../../src/app/training/nightly.js";
import { checkNightlyAlerts, type NightAlert } from "../../src/app/training/nightly-report.js";
import { workerThreadRunner } from "../../src/app/training/retrain.js";
import type { RetrainCost } from "../../src/app/training/retrain-job.js";
import { createTrainingAlertSender } from "../../src/bot/training-alerts.js";
import { parseConfig } from "../../src/config.js";
import { claimJob, finishJob } from "../../src/db/jobs.js";
import { createLogger } from "../../src/logger.js";
import { loadPersonaFile } from "../../src/rl/persona.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { startEmulator, type TelegramEmulator } from "../support/telegram-emulator.js";

const config = parseConfig({ LOG_LEVEL: "silent", ADMIN_TELEGRAM_IDS: "111,222" });
const log = createLogger({ level: "silent", pretty: false, secrets: [] });

let t: TestDatabase;
let emulator: TelegramEmulator;
let telegram: Telegram;
beforeAll(async () => {
  t = await createTestDatabase();
  emulator = await startEmulator();
  telegram = new Telegram(emulator.token, { apiRoot: emulator.apiRoot });
});
afterAll(async () => {
  await emulator?.close();
  await t?.dispose();
});

let nextTelegramId = 5000;
async function person(name: string, telegramId = nextTelegramId++) {
  const deps = { db: t.db, config };
  return (
    await registerPerson(deps, {
      telegramId: BigInt(telegramId),
      chatId: BigInt(telegramId),
      displayName: name,
    })
  ).person;
}

/** A night queued at `night` (the enqueue finished) and its runs, as the queue leaves them. */
async function night(
  key: string,
  runs: {
    name: string;
    status: "queued" | "running" | "succeeded" | "failed" | "cancelled";
    error?: string;
    activated?: boolean;
    active?: number | null;
    heuristic?: number;
    cpuSeconds?: number;
    at?: Date;
  }[],
) {
  const claim = await claimJob(t.db, NIGHTLY_RETRAIN_JOB, key, "test");
  await finishJob(t.db, claim!.id);
  for (const r of runs) {
    const p = await person(r.name);
    const ended = r.status !== "queued" && r.status !== "running";
    const heuristic = r.heuristic ?? 0.5;
    await t.db.prisma.trainingRun.create({
      data: {
        userId: p.id,
        trigger: "nightly",
        status: r.status,
        jobKey: `nightly:${p.id}:${key}`,
        hyperparameters: { steps: 1000 },
        error: r.error ?? null,
        startedAt: r.status === "queued" ? null : (r.at ?? new Date()),
        finishedAt: ended ? (r.at ?? new Date()) : null,
        summary:
          r.status === "succeeded"
            ? {
                userId: p.id,
                displayName: r.name,
                status: "succeeded",
                activated: r.activated ?? false,
                cost: {
                  cpuSeconds: r.cpuSeconds ?? 10,
                  trainingCpuSeconds: (r.cpuSeconds ?? 10) * 0.8,
                  clock: "thread-cpu",
                  steps: 1000,
                  stoppedBy: "steps",
                },
                evaluation: {
                  candidate: { meanReward: 0.4, ci95: 0.01, meanRewardLast90: 0.4 },
                  heuristic: { meanReward: heuristic, ci95: 0.01, meanRewardLast90: heuristic },
                  active:
                    r.active === undefined || r.active === null
                      ? null
                      : { meanReward: r.active, ci95: 0.01, meanRewardLast90: r.active },
                },
              }
            : undefined,
      },
    });
  }
}

function checker(instance: string, now = () => new Date()) {
  const send = createTrainingAlertSender(telegram, { db: t.db, config, log });
  return () => checkNightlyAlerts({ db: t.db, log, now }, send, instance);
}

const adminMessages = (chat: number) => emulator.botMessages(chat).map((m) => m.text ?? "");

describe("nightly retrain alerts", () => {
  it("sends one report per admin when the night has ended, once across two instances", async () => {
    await person("Admin Ann", 222); // registered admin (also in ADMIN_TELEGRAM_IDS with 111)
    await night("2026-11-30T02:30Z", [
      { name: "Ada", status: "succeeded", activated: true, cpuSeconds: 12 },
      { name: "Bo", status: "succeeded", activated: true, cpuSeconds: 8 },
      { name: "Cy", status: "succeeded", activated: false, active: 0.6, cpuSeconds: 10 },
      { name: "Dee", status: "succeeded", activated: false, active: 0.3, cpuSeconds: 30 },
      { name: "Eve", status: "succeeded", activated: false, active: null, cpuSeconds: 20 },
      { name: "Fay", status: "failed", error: "the training worker exited (code 1)" },
      { name: "Gus", status: "failed", error: "the training worker exited (code 1)" },
      { name: "Hal", status: "failed", error: "time limit reached" },
      { name: "Ivy", status: "cancelled", error: "no active habits" },
    ]);
    const [a, b] = await Promise.all([checker("instance-a")(), checker("instance-b")()]);
    const sent = [...a, ...b];
    expect(sent).toHaveLength(1);
    const report = (sent[0] as Extract<NightAlert, { kind: "report" }>).report;
    expect(report).toMatchObject({
      night: "2026-11-30T02:30Z",
      jobs: 9,
      trained: 5,
      activated: 2,
      keptOld: 3,
      failed: 3,
      cancelled: 1,
      topError: { message: "the training worker exited (code 1)", count: 2 },
      cpu: { totalSeconds: 80, meanSeconds: 16, most: { displayName: "Dee", seconds: 30 } },
    });
    expect(report.worseThanHeuristic.map((p) => p.displayName)).toEqual(["Dee"]);
    for (const chat of [111, 222]) {
      const texts = adminMessages(chat);
      expect(texts).toHaveLength(1);
      expect(texts[0]).toContain("Nightly retrain 2026-11-30T02:30Z finished: 9 jobs.");
      expect(texts[0]).toContain("Trained: 5 (activated 2, kept the old policy 3).");
      expect(texts[0]).toContain("Failed: 3. Top error (2×): the training worker exited (code 1)");
      expect(texts[0]).toContain("CPU: 1.3 CPU-min in total, 16.0 CPU-s per person; most Dee");
      expect(texts[0]).toContain(
        "Active policy worse than the heuristic: Dee (0.300 < heuristic 0.500)",
      );
    }
    // later checks send nothing more
    expect(await checker("instance-a")()).toEqual([]);
    expect(adminMessages(111)).toHaveLength(1);
    const claims = await t.db.prisma.jobRun.findMany({
      where: { job: "nightly-report", key: "2026-11-30T02:30Z" },
    });
    expect(claims).toHaveLength(1);
    expect(claims[0]!.finishedAt).not.toBeNull();
    expect(claims[0]!.error).toBeNull();
  });

  it("stays quiet while a night is progressing, alerts once when it stalls for an hour", async () => {
    const key = "2026-11-29T02:30Z";
    const before = adminMessages(111).length;
    await night(key, [
      { name: "Jo", status: "succeeded", activated: true },
      { name: "Kim", status: "running" },
      { name: "Lou", status: "queued" },
    ]);
    expect(await checker("a")()).toEqual([]);
    const later = () => new Date(Date.now() + 61 * 60_000);
    const [a, b] = await Promise.all([checker("a", later)(), checker("b", later)()]);
    expect([...a, ...b]).toEqual([
      expect.objectContaining({ kind: "failed-night", night: key, reason: "stalled", left: 2 }),
    ]);
    expect(await checker("a", later)()).toEqual([]);
    const texts = adminMessages(111).slice(before);
    expect(texts).toHaveLength(1);
    expect(texts[0]).toMatch(
      /Nightly retrain 2026-11-29T02:30Z is failing: no training started or ended for 6\d minutes/,
    );
    expect(texts[0]).toContain("2 jobs still waiting or running");
  });

  it("alerts at once when more than 10 % of a night's jobs failed", async () => {
    const key = "2026-11-28T02:30Z";
    const before = adminMessages(222).length;
    // 2 of 20 failed (10 %): not yet
    await night(key, [
      { name: "F1", status: "failed", error: "boom" },
      { name: "F2", status: "failed", error: "boom" },
      ...Array.from({ length: 18 }, (_, i) => ({ name: `Q${i}`, status: "queued" as const })),
    ]);
    expect(await checker("a")()).toEqual([]);
    // a third fails: 15 %
    const run = await t.db.prisma.trainingRun.findFirstOrThrow({
      where: { jobKey: { endsWith: `:${key}` }, status: "queued" },
    });
    await t.db.prisma.trainingRun.update({
      where: { id: run.id },
      data: { status: "failed", error: "boom", finishedAt: new Date() },
    });
    const sent = await checker("a")();
    expect(sent).toEqual([
      expect.objectContaining({ kind: "failed-night", reason: "failures", failed: 3, jobs: 20 }),
    ]);
    expect(await checker("b")()).toEqual([]);
    const texts = adminMessages(222).slice(before);
    expect(texts).toEqual([
      expect.stringContaining("is failing: 3 of 20 jobs failed (more than 10 %)"),
    ]);
  });
});

describe("the CPU budget of a retrain", () => {
  it("stops a long training at the CPU budget with the policy trained so far, then evaluates", async () => {
    const { habits } = await loadPersonaFile("personas/steady.json");
    const budget = 3;
    const started = Date.now();
    const result = await workerThreadRunner(
      {
        habits,
        planCapacityMinutes: null,
        steps: 50_000_000, // hours of training without the budget
        cpuSecondsBudget: budget,
        seed: 7,
        numEnvs: 8,
        activeCheckpoint: null,
        evaluation: { episodes: 2, days: 30, seed: 11 },
      },
      () => {},
      new AbortController().signal,
    );
    expect(Date.now() - started).toBeLessThan(120_000);
    expect(result.cost).toBeDefined();
    const cost = result.cost!;
    expect(cost.stoppedBy).toBe("cpu-budget");
    expect(cost.clock).toBe("thread-cpu");
    expect(cost.steps).toBeGreaterThan(0);
    expect(cost.steps).toBeLessThan(50_000_000);
    expect(cost.trainingCpuSeconds).toBeGreaterThanOrEqual(budget);
    // stopped after the update that crossed the budget: one update is far less than 10 s
    expect(cost.trainingCpuSeconds).toBeLessThan(budget + 10);
    // evaluated as usual
    expect(cost.cpuSeconds).toBeGreaterThan(cost.trainingCpuSeconds);
    expect(Number.isFinite(result.evaluation.candidate.meanReward)).toBe(true);
    expect(result.checkpoint.byteLength).toBeGreaterThan(0);
  }, 150_000);
});

describe("a night retrained for real under a CPU budget", () => {
  it("stops each training at RETRAIN_CPU_SECONDS, records the cost, and reports it", async () => {
    const own = await createTestDatabase();
    try {
      const budgetConfig = parseConfig({
        LOG_LEVEL: "silent",
        RETRAIN_CRON: "off",
        RETRAIN_STEPS: "50000000",
        RETRAIN_CPU_SECONDS: "2",
        RETRAIN_NUM_ENVS: "8",
        RETRAIN_EVAL_EPISODES: "2",
        RETRAIN_EVAL_DAYS: "14",
      });
      const deps = { db: own.db, config: budgetConfig, log, now: () => new Date() };
      const persona = await loadPersonaFile("personas/steady.json");
      await seedSimulatedPeople(deps, persona, { people: 1, days: 3, seed: 3 });
      const queue = createInProcessQueue(deps);
      await queue.work(1);
      const scheduledAt = new Date("2026-11-27T02:30:00Z");
      const queued = await enqueueNightly(deps, queue, scheduledAt, "test");
      expect(queued.queued).toBe(1);
      await queue.whenIdle();
      await queue.stop();
      const [run] = await own.db.prisma.trainingRun.findMany();
      expect(run!.status).toBe("succeeded");
      expect(run!.hyperparameters).toMatchObject({ steps: 50_000_000, cpuSeconds: 2 });
      const cost = (run!.summary as unknown as { cost: RetrainCost }).cost;
      expect(cost.stoppedBy).toBe("cpu-budget");
      expect(cost.steps).toBeLessThan(50_000_000);
      expect(cost.trainingCpuSeconds).toBeGreaterThanOrEqual(2);
      const alerts: NightAlert[] = [];
      await checkNightlyAlerts(deps, async (alert) => void alerts.push(alert), "test");
      expect(alerts).toHaveLength(1);
      const report = (alerts[0] as Extract<NightAlert, { kind: "report" }>).report;
      expect(report).toMatchObject({ jobs: 1, trained: 1, failed: 0 });
      expect(report.cpu.measured).toBe(1);
      expect(report.cpu.totalSeconds).toBeCloseTo(cost.cpuSeconds, 6);
    } finally {
      await own.dispose();
    }
  }, 180_000);
});
