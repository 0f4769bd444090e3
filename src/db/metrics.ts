// Tracked measurements (body weight, waist, resting pulse…) and their samples. A sample is
// unique per (user, metric, measured-at instant), so a re-delivered message that carries the
// same timestamp is stored once.
import { foldName } from "../coach/habits.js";
import type { Metric, MetricSample } from "../generated/prisma/client.js";
import type { EntrySource, MetricDirection } from "../generated/prisma/enums.js";
import type { Database } from "./client.js";
import { isUniqueViolation } from "./jobs.js";

export async function findMetric(
  db: Database,
  userId: number,
  name: string,
): Promise<Metric | null> {
  return db.prisma.metric.findUnique({
    where: { userId_nameKey: { userId, nameKey: foldName(name) } },
  });
}

/** The person's metric of that name, created with `unit` when it does not exist yet. */
export async function ensureMetric(
  db: Database,
  userId: number,
  name: string,
  unit: string,
): Promise<{ metric: Metric; created: boolean }> {
  const existing = await findMetric(db, userId, name);
  if (existing !== null) return { metric: existing, created: false };
  try {
    const metric = await db.prisma.metric.create({
      data: { userId, name: name.trim(), nameKey: foldName(name), unit },
    });
    return { metric, created: true };
  } catch (error) {
    // created concurrently by another message of the same person
    if (!isUniqueViolation(error)) throw error;
    const metric = await findMetric(db, userId, name);
    if (metric === null) throw error;
    return { metric, created: false };
  }
}

export interface NewSample {
  userId: number;
  metricId: number;
  value: number;
  measuredAt: Date;
  source: EntrySource;
}

/** Stores a sample; `stored: false` when the same instant was already recorded (re-delivery). */
export async function recordSample(
  db: Database,
  sample: NewSample,
): Promise<{ stored: boolean; sample: MetricSample }> {
  try {
    return { stored: true, sample: await db.prisma.metricSample.create({ data: sample }) };
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const existing = await db.prisma.metricSample.findUnique({
      where: {
        userId_metricId_measuredAt: {
          userId: sample.userId,
          metricId: sample.metricId,
          measuredAt: sample.measuredAt,
        },
      },
    });
    if (existing === null) throw error;
    return { stored: false, sample: existing };
  }
}

/** Samples of a metric, oldest first, optionally from an instant on. */
export async function metricSamples(
  db: Database,
  metricId: number,
  since?: Date,
): Promise<MetricSample[]> {
  return db.prisma.metricSample.findMany({
    where: { metricId, ...(since === undefined ? {} : { measuredAt: { gte: since } }) },
    orderBy: { measuredAt: "asc" },
  });
}

/** The sample measured most recently before `before` (for "change since last time"). */
export async function previousSample(
  db: Database,
  metricId: number,
  before: Date,
): Promise<MetricSample | null> {
  return db.prisma.metricSample.findFirst({
    where: { metricId, measuredAt: { lt: before } },
    orderBy: { measuredAt: "desc" },
  });
}

export async function setMetricGoal(
  db: Database,
  metricId: number,
  goal: { target: number; tolerance: number; direction: MetricDirection },
): Promise<Metric> {
  return db.prisma.metric.update({ where: { id: metricId }, data: goal });
}

export interface MetricOverview {
  metric: Metric;
  latest: MetricSample | null;
  count: number;
}

/** Every metric of a person with its latest sample and sample count, by name. */
export async function listMetrics(db: Database, userId: number): Promise<MetricOverview[]> {
  const metrics = await db.prisma.metric.findMany({
    where: { userId },
    orderBy: { nameKey: "asc" },
    include: {
      samples: { orderBy: { measuredAt: "desc" }, take: 1 },
      _count: { select: { samples: true } },
    },
  });
  return metrics.map(({ samples, _count, ...metric }) => ({
    metric,
    latest: samples[0] ?? null,
    count: _count.samples,
  }));
}
