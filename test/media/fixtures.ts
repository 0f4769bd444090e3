// A person with a row in every table that can hold their data, for export and deletion tests.
import { addDays, type LocalDate } from "../../src/coach/days.js";
import type { Database } from "../../src/db/client.js";
import { toDbDate } from "../../src/db/dates.js";
import type { User } from "../../src/generated/prisma/client.js";

/** The files of an /export ZIP, sorted. */
export const EXPORT_FILES = [
  "README.txt",
  "entries.csv",
  "habits.csv",
  "metrics.csv",
  "outbox_events.csv",
  "plan_revisions.csv",
  "plans.csv",
  "policy_models.csv",
  "samples.csv",
  "training_metrics.csv",
  "training_runs.csv",
  "user.csv",
].sort();

export interface SeededPerson {
  user: User;
  habitIds: number[];
  runId: number;
}

let nextTelegramId = 1000n;

export async function seedPerson(
  db: Database,
  options: { name?: string; today?: LocalDate; days?: number } = {},
): Promise<SeededPerson> {
  const p = db.prisma;
  const telegramId = nextTelegramId++;
  const today = options.today ?? "2026-03-10";
  const days = options.days ?? 20;
  const user = await p.user.create({
    data: {
      telegramId,
      chatId: telegramId,
      displayName: options.name ?? `Person ${telegramId}`,
      timezone: "Europe/Berlin",
      planTime: "07:30",
    },
  });
  const run = await p.habit.create({
    data: {
      userId: user.id,
      name: "run",
      nameKey: "run",
      kind: "duration",
      unit: "min",
      target: 30,
      daysPerWeek: 7,
      levels: [0, 15, 30, 45],
      createdAt: new Date(`${addDays(today, -days - 10)}T08:00:00Z`),
    },
  });
  const violin = await p.habit.create({
    data: {
      userId: user.id,
      name: "violin",
      nameKey: "violin",
      aliases: ["=fiddle"],
      kind: "duration",
      unit: "min",
      target: 20,
      daysPerWeek: 7,
      levels: [0, 10, 20, 30],
      createdAt: new Date(`${addDays(today, -days - 10)}T08:00:00Z`),
    },
  });
  const entries = [];
  for (let i = 0; i < days; i++) {
    const day = addDays(today, -i);
    // violin every day, run every other day
    entries.push({ habitId: violin.id, day, amount: 20 });
    if (i % 2 === 0) entries.push({ habitId: run.id, day, amount: 30 });
  }
  await p.habitEntry.createMany({
    data: entries.map((e, i) => ({
      userId: user.id,
      habitId: e.habitId,
      day: toDbDate(e.day),
      amount: e.amount,
      source: "chat" as const,
      idempotencyKey: `seed:${user.id}:${i}`,
      note: i === 0 ? 'said "hi", then, left' : null,
    })),
  });
  // one retracted entry
  await p.habitEntry.create({
    data: {
      userId: user.id,
      habitId: run.id,
      day: toDbDate(today),
      amount: 99,
      source: "chat",
      idempotencyKey: `seed:${user.id}:retracted`,
      retractedAt: new Date(`${today}T12:00:00Z`),
    },
  });
  const weight = await p.metric.create({
    data: {
      userId: user.id,
      name: "weight",
      nameKey: "weight",
      unit: "kg",
      target: 70,
      tolerance: 1,
    },
  });
  await p.metricSample.createMany({
    data: [72.4, 72.1].map((value, i) => ({
      userId: user.id,
      metricId: weight.id,
      value,
      measuredAt: new Date(`${addDays(today, -i)}T06:00:00Z`),
      source: "chat" as const,
    })),
  });
  const trainingRun = await p.trainingRun.create({
    data: {
      userId: user.id,
      trigger: "admin",
      status: "succeeded",
      hyperparameters: { steps: 1000 },
    },
  });
  await p.trainingMetric.create({
    data: { runId: trainingRun.id, step: 1000, name: "reward", value: 0.5 },
  });
  const model = await p.policyModel.create({
    data: {
      userId: user.id,
      bytes: new Uint8Array([1, 2, 3, 4]),
      formatVersion: 1,
      spec: { habitIds: [String(run.id), String(violin.id)] },
      hyperparameters: {},
      active: true,
      trainingRunId: trainingRun.id,
    },
  });
  const plan = await p.plan.create({
    data: {
      userId: user.id,
      day: toDbDate(today),
      items: [{ habitId: run.id, level: 2, amount: 30 }],
      producedBy: `policy:${model.id}`,
      modelId: model.id,
    },
  });
  await p.planRevision.create({
    data: {
      planId: plan.id,
      userId: user.id,
      habitId: run.id,
      change: "amount",
      fromAmount: 30,
      toAmount: 15,
      changedBy: telegramId,
      via: "chat",
      idempotencyKey: `seed:${user.id}:revision`,
    },
  });
  await p.outboxEvent.create({
    data: { userId: user.id, kind: "notification", payload: { text: "x" } },
  });
  await p.jobRun.create({
    data: { job: "plan-push", key: `${user.id}:${today}`, instance: "test" },
  });
  return { user, habitIds: [run.id, violin.id], runId: trainingRun.id };
}

/** Rows referring to a user, per table (training metrics via the person's runs). */
export async function countRowsOf(db: Database, userId: number, runIds: number[]) {
  const p = db.prisma;
  return {
    users: await p.user.count({ where: { id: userId } }),
    habits: await p.habit.count({ where: { userId } }),
    entries: await p.habitEntry.count({ where: { userId } }),
    metrics: await p.metric.count({ where: { userId } }),
    metricSamples: await p.metricSample.count({ where: { userId } }),
    plans: await p.plan.count({ where: { userId } }),
    planRevisions: await p.planRevision.count({ where: { userId } }),
    policyModels: await p.policyModel.count({ where: { userId } }),
    trainingRuns: await p.trainingRun.count({ where: { userId } }),
    trainingMetrics: await p.trainingMetric.count({ where: { runId: { in: runIds } } }),
    outboxEvents: await p.outboxEvent.count({ where: { userId } }),
    jobRuns: await p.jobRun.count({ where: { key: { startsWith: `${userId}:` } } }),
  };
}
