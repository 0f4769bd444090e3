import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { setCoachAlgorithm } from "../../src/app/coach-algorithm.js";
import { todayOf } from "../../src/app/coach-state.js";
import { createInProcessQueue } from "../../src/app/training/in-process-queue.js";
import { type RunEvent, type TrainingQueue, waitForRun } from "../../src/app/training/queue.js";
import {
  type RetrainOrder,
  type RetrainRunner,
  runRetrainJob,
  workerThreadRunner,
} from "../../src/app/training/retrain.js";
import {
  personaFor,
  type RetrainJobRequest,
  type RetrainProgress,
} from "../../src/app/training/retrain-job.js";
import { shouldActivate } from "../../src/app/training/training-policy.js";
import type { BotDeps } from "../../src/bot/context.js";
import { throttledEditor } from "../../src/bot/training-messages.js";
import { addDays } from "../../src/coach/index.js";
import { parseConfig } from "../../src/config.js";
import { toDbDate } from "../../src/db/dates.js";
import { algorithmOf, loadCoachPolicy } from "../../src/rl/coach-policy.js";
import { loadPersonaFile } from "../../src/rl/persona.js";
import { loadPolicy } from "../../src/rl/policy.js";
import { UdrlHabitPolicy } from "../../src/rl/udrl-policy.js";
import { testBotDeps } from "../support/bot-deps.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

let t: TestDatabase;
let deps: BotDeps;
beforeAll(async () => {
  t = await createTestDatabase();
  deps = testBotDeps(t.db, {
    config: parseConfig({ RETRAIN_STEPS: "1000" }),
    now: () => new Date(),
  });
});
afterAll(async () => {
  await t?.dispose();
});

/** Queues one retrain and waits for its outcome. */
async function trained(
  queue: TrainingQueue,
  order: RetrainOrder,
  onEvent?: (event: RunEvent) => void,
) {
  const queued = await queue.enqueue(order);
  return waitForRun(t, queued.runId, { pollMs: 50, onEvent, timeoutMs: 120_000 });
}

const evaluation = (candidate: number, heuristic: number, active: number | null) => ({
  episodes: 8,
  days: 30,
  seed: 1,
  candidate: { meanReward: candidate, ci95: 0, meanRewardLast90: candidate },
  heuristic: { meanReward: heuristic, ci95: 0, meanRewardLast90: heuristic },
  active: active === null ? null : { meanReward: active, ci95: 0, meanRewardLast90: active },
  activeNote: null,
});

/** A person with one habit, run 30 min 5 days a week (the retrain tests' usual person). */
async function personWithRun(telegramId: bigint, displayName: string) {
  const user = await t.db.prisma.user.create({
    data: { telegramId, chatId: telegramId, displayName },
  });
  await t.db.prisma.habit.create({
    data: {
      userId: user.id,
      name: "run",
      nameKey: "run",
      kind: "duration",
      target: 30,
      daysPerWeek: 5,
      levels: [0, 15, 30],
    },
  });
  return user;
}

describe("activation rule", () => {
  it("activates only a policy better than the heuristic and the active policy", () => {
    expect(shouldActivate(evaluation(0.8, 0.7, null))).toBe(true);
    expect(shouldActivate(evaluation(0.8, 0.7, 0.75))).toBe(true);
    expect(shouldActivate(evaluation(0.8, 0.7, 0.85))).toBe(false);
    expect(shouldActivate(evaluation(0.7, 0.7, null))).toBe(false);
    expect(shouldActivate(evaluation(0.6, 0.7, 0.5))).toBe(false);
  });
});

describe("throttled progress edits", () => {
  it("edits at most once per interval, sends the latest text, and always the final one", async () => {
    vi.useFakeTimers();
    try {
      const edits: { text: string; at: number }[] = [];
      const editor = throttledEditor(
        async (text) => void edits.push({ text, at: Date.now() }),
        5000,
      );
      editor.update("1%");
      editor.update("2%");
      await vi.advanceTimersByTimeAsync(1000);
      editor.update("3%");
      expect(edits.map((e) => e.text)).toEqual(["1%"]);
      await vi.advanceTimersByTimeAsync(4000);
      expect(edits.map((e) => e.text)).toEqual(["1%", "3%"]);
      expect(edits[1].at - edits[0].at).toBe(5000);
      await vi.advanceTimersByTimeAsync(1000);
      editor.update("4%");
      await editor.flush("done");
      expect(edits.map((e) => e.text)).toEqual(["1%", "3%", "done"]);
      expect(editor.edits()).toBe(3);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("retrain service", () => {
  it("trains in a worker thread, records the run and its metrics, stores and activates the policy", async () => {
    const user = await t.db.prisma.user.create({
      data: { telegramId: 11n, chatId: 11n, displayName: "Ada" },
    });
    await t.db.prisma.habit.createMany({
      data: [
        {
          userId: user.id,
          name: "run",
          nameKey: "run",
          kind: "duration",
          unit: "min",
          target: 30,
          daysPerWeek: 5,
          levels: [0, 15, 30, 45],
        },
        {
          userId: user.id,
          name: "violin",
          nameKey: "violin",
          kind: "duration",
          unit: "min",
          target: 20,
          daysPerWeek: 7,
          levels: [0, 10, 20, 30],
        },
      ],
    });
    const service = createInProcessQueue(deps);
    await service.work(1);
    const events: RunEvent[] = [];
    // the event loop keeps running while the worker trains
    let ticks = 0;
    const beat = setInterval(() => ticks++, 20);
    const first = await trained(
      service,
      {
        userId: user.id,
        trigger: "admin",
        requestedBy: 11n,
        steps: 1024,
        numEnvs: 8,
        evalEpisodes: 8,
        evalDays: 60,
      },
      (e) => events.push(e),
    );
    clearInterval(beat);
    expect(first.status).toBe("succeeded");
    expect(ticks).toBeGreaterThan(5);
    expect(events.some((e) => e.kind === "started")).toBe(true);
    expect(events.some((e) => e.kind === "progress")).toBe(true);
    expect(first.beforeSource).toBe("heuristic");
    expect(first.before).toBe(first.heuristic);
    expect(first.activated).toBe(first.after! > first.heuristic!);

    const run = await t.db.prisma.trainingRun.findUniqueOrThrow({ where: { id: first.runId! } });
    expect(run.status).toBe("succeeded");
    expect(run.trigger).toBe("admin");
    expect(run.requestedBy).toBe(11n);
    expect(run.startedAt).not.toBeNull();
    expect(run.finishedAt).not.toBeNull();
    // no history yet: the default behaviour, and the run says so
    expect(run.hyperparameters).toMatchObject({ steps: 1024, behaviour: "default" });
    expect(run.summary).toMatchObject({
      behaviour: { source: "default", days: 0, daysWithPlan: 0, fit: null },
    });
    expect(first.behaviour?.source).toBe("default");
    const metricNames = await t.db.prisma.trainingMetric.findMany({
      where: { runId: run.id },
      distinct: ["name"],
      select: { name: true },
    });
    expect(metricNames.map((m) => m.name).sort()).toEqual(
      [
        "approx_kl",
        "clip_fraction",
        "entropy",
        "explained_variance",
        "learning_rate",
        "mean_reward",
        "policy_loss",
        "samples_per_second",
        "value_loss",
      ].sort(),
    );
    const model = await t.db.prisma.policyModel.findUniqueOrThrow({
      where: { id: first.modelId! },
    });
    expect(model.bytes.byteLength).toBeGreaterThan(1000);
    expect(model.active).toBe(first.activated);
    expect(model.trainingRunId).toBe(run.id);

    // a second run is judged against the active policy (if the first was activated)
    const second = await trained(service, {
      userId: user.id,
      trigger: "cli",
      steps: 1024,
      numEnvs: 8,
      evalEpisodes: 8,
      evalDays: 60,
    });
    expect(second.status).toBe("succeeded");
    expect(second.beforeSource).toBe(first.activated ? "active policy" : "heuristic");
    const active = await t.db.prisma.policyModel.count({
      where: { userId: user.id, active: true },
    });
    expect(active).toBe(first.activated || second.activated ? 1 : 0);
    await service.stop();
  });

  it("trains on a behaviour fitted to the person's history once there are enough days", async () => {
    const user = await t.db.prisma.user.create({
      data: { telegramId: 14n, chatId: 14n, displayName: "Di" },
    });
    const [walk, read] = await Promise.all(
      [
        { name: "walk", levels: [0, 15, 30], target: 30 },
        { name: "read", levels: [0, 10, 20], target: 20 },
      ].map((h) =>
        t.db.prisma.habit.create({
          data: {
            userId: user.id,
            name: h.name,
            nameKey: h.name,
            kind: "duration",
            unit: "min",
            target: h.target,
            daysPerWeek: 7,
            levels: h.levels,
          },
        }),
      ),
    );
    // 20 days before today, each with a plan for both habits: walks done every day (40 min for
    // a 30-minute plan), reading never; plus a retracted reading entry that must not count.
    const today = todayOf(user, deps.now());
    const days = Array.from({ length: 20 }, (_, i) => addDays(today, i - 20));
    await t.db.prisma.plan.createMany({
      data: days.map((day) => ({
        userId: user.id,
        day: toDbDate(day),
        items: [
          { habitId: walk.id, level: 2, amount: 30 },
          { habitId: read.id, level: 2, amount: 20 },
        ],
        producedBy: "heuristic",
      })),
    });
    await t.db.prisma.habitEntry.createMany({
      data: [
        ...days.map((day, i) => ({
          userId: user.id,
          habitId: walk.id,
          day: toDbDate(day),
          amount: 40,
          source: "chat" as const,
          idempotencyKey: `fit-test:walk:${i}`,
        })),
        {
          userId: user.id,
          habitId: read.id,
          day: toDbDate(days[3]),
          amount: 20,
          source: "chat" as const,
          idempotencyKey: "fit-test:read:retracted",
          retractedAt: new Date(),
        },
      ],
    });
    const jobs: RetrainJobRequest[] = [];
    const service = createInProcessQueue(deps, {
      runner: async (job) => {
        jobs.push(job);
        return {
          checkpoint: new Uint8Array(16),
          formatVersion: 1,
          spec: {},
          hyperparameters: {},
          training: {},
          evaluation: evaluation(0.5, 0.6, null),
        };
      },
    });
    await service.work(1);
    const outcome = await trained(service, { userId: user.id, trigger: "nightly" });
    expect(outcome.status).toBe("succeeded");
    expect(outcome.behaviour).toMatchObject({ source: "fitted", days: 20, daysWithPlan: 20 });
    const behaviour = jobs[0].behaviour!;
    expect(behaviour).not.toBeNull();
    const [w, r] = [behaviour.habits[String(walk.id)], behaviour.habits[String(read.id)]];
    // 20 of 20 planned walks against a prior of 0.75 worth 10 days; 0 of 20 readings
    expect(w.compliance).toBeCloseTo((20 + 7.5) / 30, 2);
    expect(r.compliance).toBeCloseTo(7.5 / 30, 2);
    expect(w.amountMean).toBeGreaterThan(1.2);
    const run = await t.db.prisma.trainingRun.findUniqueOrThrow({ where: { id: outcome.runId! } });
    expect(run.hyperparameters).toMatchObject({
      behaviour: "fitted",
      historyDays: 20,
      historyDaysWithPlan: 20,
    });
    expect(run.summary).toMatchObject({
      behaviour: {
        source: "fitted",
        days: 20,
        daysWithPlan: 20,
        fit: {
          days: 20,
          daysWithPlan: 20,
          habits: {
            [walk.id]: { plannedDays: 20, plannedDone: 20 },
            [read.id]: { plannedDays: 20, plannedDone: 0 },
          },
        },
      },
    });
    expect((run.summary as { fittedBehaviour: unknown }).fittedBehaviour).toEqual(behaviour);

    // with fewer than 14 planned days the default behaviour is used
    await t.db.prisma.plan.deleteMany({
      where: { userId: user.id, day: { lt: toDbDate(addDays(today, -10)) } },
    });
    const second = await trained(service, { userId: user.id, trigger: "nightly" });
    expect(second.behaviour).toMatchObject({ source: "default", days: 20, daysWithPlan: 10 });
    expect(jobs[1].behaviour).toBeNull();
    await service.stop();
  });

  it("queues one run per key, and skips people without habits", async () => {
    const user = await t.db.prisma.user.create({
      data: { telegramId: 12n, chatId: 12n, displayName: "Bo" },
    });
    const service = createInProcessQueue(deps, {
      runner: () => new Promise(() => {}), // never reached: Bo has no habits
    });
    const key = "nightly:bo:2026-01-16T02:30Z";
    const first = await service.enqueue({ userId: user.id, trigger: "nightly", key });
    expect(first.kind).toBe("queued");
    const again = await service.enqueue({ userId: user.id, trigger: "nightly", key });
    expect(again).toMatchObject({ kind: "duplicate", runId: first.runId, status: "queued" });
    expect(await t.db.prisma.trainingRun.count({ where: { userId: user.id } })).toBe(1);
    await service.work(1);
    const outcome = await waitForRun(t, first.runId, { pollMs: 50 });
    expect(outcome.status).toBe("skipped");
    expect(outcome.reason).toBe("no active habits");
    const run = await t.db.prisma.trainingRun.findUniqueOrThrow({ where: { id: first.runId } });
    expect(run.status).toBe("cancelled");
    // the key stays used once the run has ended: the night is not queued twice
    expect((await service.enqueue({ userId: user.id, trigger: "nightly", key })).kind).toBe(
      "duplicate",
    );
    await service.stop();
  });

  it("retries a failing job twice with backoff, then records the run as failed with the error", async () => {
    const user = await personWithRun(13n, "Cy");
    const attempts: number[] = [];
    const failing = createInProcessQueue(
      { ...deps, config: parseConfig({ RETRAIN_RETRY_DELAY: "1" }) },
      {
        runner: async () => {
          attempts.push(Date.now());
          throw new Error("out of memory");
        },
      },
    );
    await failing.work(1);
    const outcome = await trained(failing, { userId: user.id, trigger: "admin" });
    expect(outcome.status).toBe("failed");
    expect(outcome.reason).toBe("out of memory");
    expect(attempts).toHaveLength(3);
    // backoff: 1 s, then 2 s
    expect(attempts[1] - attempts[0]).toBeGreaterThanOrEqual(900);
    expect(attempts[2] - attempts[1]).toBeGreaterThanOrEqual(1900);
    const run = await t.db.prisma.trainingRun.findUniqueOrThrow({ where: { id: outcome.runId! } });
    expect(run.status).toBe("failed");
    expect(run.error).toBe("out of memory");
    expect(run.hyperparameters).toMatchObject({ attempt: 3 });
    expect(await t.db.prisma.policyModel.count({ where: { userId: user.id } })).toBe(0);
    await failing.stop();

    // a request the RL engine rejects fails inside the worker thread and comes back as an error
    const bad = workerThreadRunner(
      {
        habits: [],
        planCapacityMinutes: null,
        steps: 512,
        seed: 1,
        numEnvs: 2,
        activeCheckpoint: null,
        evaluation: { episodes: 2, days: 10, seed: 1 },
      },
      () => {},
      new AbortController().signal,
    );
    await expect(bad).rejects.toThrow();
  });

  it("is idempotent: a finished run is not trained again, and two attempts store one model", async () => {
    const user = await personWithRun(15n, "Ed");
    let calls = 0;
    const runner: RetrainRunner = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 50));
      return {
        checkpoint: new Uint8Array(16),
        formatVersion: 1,
        spec: {},
        hyperparameters: {},
        training: {},
        evaluation: evaluation(0.9, 0.6, null),
      };
    };
    const queue = createInProcessQueue(deps, { runner });
    const { runId } = await queue.enqueue({ userId: user.id, trigger: "nightly", key: "k:ed" });
    // two attempts of the same job at once (an expired job retried while the first still ran)
    const attempt = { retry: 0, retryLimit: 2 };
    const signal = new AbortController().signal;
    const [a, b] = await Promise.all([
      runRetrainJob(deps, runId, attempt, { runner, signal, instance: "worker-a" }),
      runRetrainJob(deps, runId, attempt, { runner, signal, instance: "worker-b" }),
    ]);
    expect(calls).toBe(2);
    expect(a?.status).toBe("succeeded");
    expect(b?.status).toBe("succeeded");
    expect(a?.modelId).toBe(b?.modelId);
    expect(await t.db.prisma.policyModel.count({ where: { userId: user.id } })).toBe(1);
    expect(await t.db.prisma.policyModel.count({ where: { userId: user.id, active: true } })).toBe(
      1,
    );
    // a retry after success returns the recorded outcome without training
    // the run names the process whose attempt finished it (the one that stored the model)
    const finishedBy = (await t.db.prisma.trainingRun.findUniqueOrThrow({ where: { id: runId } }))
      .trainedBy;
    expect(["worker-a", "worker-b"]).toContain(finishedBy);
    const again = await runRetrainJob(
      deps,
      runId,
      { retry: 1, retryLimit: 2 },
      { runner, signal, instance: "worker-c" },
    );
    expect(calls).toBe(2);
    expect(again).toMatchObject({ status: "succeeded", runId, modelId: a?.modelId });
    await queue.stop();
  });

  it("trains admin requests before the night's jobs, cancels a queued one, and works runs left from before a restart", async () => {
    const people = await Promise.all(
      [21n, 22n, 23n].map((telegramId) => personWithRun(telegramId, `P${telegramId}`)),
    );
    const order: number[] = [];
    const runner: RetrainRunner = async (job) => {
      order.push(job.seed); // the seed is the run id
      return {
        checkpoint: new Uint8Array(16),
        formatVersion: 1,
        spec: {},
        hyperparameters: {},
        training: {},
        evaluation: evaluation(0.5, 0.6, null),
      };
    };
    // queued by a process that stopped before working them (a restart mid-night)
    const before = createInProcessQueue(deps, { runner });
    const night = await before.enqueue({ userId: people[0].id, trigger: "nightly", key: "n:0" });
    const cancelled = await before.enqueue({
      userId: people[1].id,
      trigger: "nightly",
      key: "n:1",
    });
    await before.stop();
    const queue = createInProcessQueue(deps, { runner });
    const admin = await queue.enqueue({ userId: people[2].id, trigger: "admin" });
    expect(await queue.cancel(cancelled.runId)).toBe(true);
    await queue.work(1);
    await waitForRun(t, night.runId, { pollMs: 50 });
    await queue.whenIdle();
    expect(order).toEqual([admin.runId, night.runId]);
    const run = await t.db.prisma.trainingRun.findUniqueOrThrow({ where: { id: cancelled.runId } });
    expect(run.status).toBe("cancelled");
    await queue.stop();
  });
});

describe("worker-thread runner", () => {
  it("trains and evaluates in a worker thread: one progress message per update, a loadable checkpoint", async () => {
    const steady = await loadPersonaFile("personas/steady.json");
    const habits = personaFor(steady.habits, null).habits;
    const progress: RetrainProgress[] = [];
    const result = await workerThreadRunner(
      {
        habits,
        planCapacityMinutes: null,
        steps: 1024,
        seed: 2,
        numEnvs: 8, // 8 people × 64 days = 512 steps per update: two updates
        activeCheckpoint: null,
        evaluation: { episodes: 4, days: 30, seed: 1 },
      },
      (p) => progress.push(p),
      new AbortController().signal,
    );
    expect(progress.map((p) => p.update)).toEqual([1, 2]);
    expect(progress[1].learningRate).toBeLessThan(progress[0].learningRate);
    for (const p of progress) expect(Number.isFinite(p.explainedVariance)).toBe(true);
    expect(result.training).toMatchObject({ steps: 1024, updates: 2 });
    expect(result.evaluation.candidate.meanReward).toBeGreaterThan(0);
    const policy = await loadPolicy(result.checkpoint, { habits });
    try {
      expect(policy.plan(policy.observe([1, 1, 1, 1, 1], 0))).toHaveLength(5);
    } finally {
      policy.dispose();
    }
  }, 60_000);
});

// The nightly retrain with UDRL as a person's algorithm choice: the job carries the person's
// stored choice (PPO by default); the worker thread trains and evaluates a UDRL coach whose
// checkpoint loads as one and plans under the intensity's command.
describe("per-person algorithm choice", () => {
  it("the retrain job trains with the person's stored algorithm, PPO until changed", async () => {
    const user = await personWithRun(1601n, "Uma");
    const seen: RetrainJobRequest[] = [];
    const runner: RetrainRunner = async (job) => {
      seen.push(job);
      return {
        checkpoint: new Uint8Array(16),
        formatVersion: 1,
        spec: {},
        hyperparameters: {},
        training: {},
        evaluation: evaluation(0.5, 0.9, null),
      };
    };
    const queue = createInProcessQueue(deps, { runner });
    const attempt = { retry: 0, retryLimit: 0 };
    const signal = new AbortController().signal;
    const first = await queue.enqueue({ userId: user.id, trigger: "nightly", key: "k:uma:1" });
    await runRetrainJob(deps, first.runId, attempt, { runner, signal, instance: "test" });
    expect(seen[0].algorithm).toBe("ppo");

    await setCoachAlgorithm(deps, [user], "udrl");
    const second = await queue.enqueue({ userId: user.id, trigger: "nightly", key: "k:uma:2" });
    await runRetrainJob(deps, second.runId, attempt, { runner, signal, instance: "test" });
    expect(seen[1].algorithm).toBe("udrl");
    expect(seen[1].initialPolicy).toBeNull(); // UDRL never warm-starts
    const run = await t.db.prisma.trainingRun.findUniqueOrThrow({ where: { id: second.runId } });
    expect(run.hyperparameters).toMatchObject({ algorithm: "udrl" });
    await queue.stop();
  });

  it("trains and evaluates a UDRL coach in a worker thread", async () => {
    const steady = await loadPersonaFile("personas/steady.json");
    const habits = personaFor(steady.habits, null).habits;
    const progress: RetrainProgress[] = [];
    const result = await workerThreadRunner(
      {
        algorithm: "udrl",
        habits,
        planCapacityMinutes: null,
        // 8 people × 28 days: the 128 warm-up stretches take 3,584 steps, then iterations
        steps: 6000,
        seed: 2,
        numEnvs: 8,
        activeCheckpoint: null,
        evaluation: { episodes: 4, days: 30, seed: 1 },
      },
      (p) => progress.push(p),
      new AbortController().signal,
    );
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.map((p) => p.update)).toEqual(progress.map((_, i) => i + 1));
    for (const p of progress) {
      expect(Number.isNaN(p.approxKl)).toBe(true);
      expect(p.policyLoss).toBeGreaterThan(0);
    }
    expect(result.training).toMatchObject({
      steps: expect.any(Number),
      iterations: progress.length,
    });
    expect(result.evaluation.candidate.meanReward).toBeGreaterThan(0);
    const policy = await loadCoachPolicy(result.checkpoint, { habits });
    try {
      expect(algorithmOf(policy)).toBe("udrl");
      if (!(policy instanceof UdrlHabitPolicy)) throw new Error("not a UDRL coach");
      const observation = policy.observe([0.5, 0.5, 0.5, 0.5, 0.5], 0);
      expect(policy.plan(observation, policy.command("push", 5))).toHaveLength(5);
      expect(policy.intensity.easy).toBeLessThan(policy.intensity.push);
    } finally {
      policy.dispose();
    }
  }, 600_000);
});
