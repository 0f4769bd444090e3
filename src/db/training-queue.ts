// The training runs as the retrain queue sees them: one run per job key, claimed by the attempt
// that works it, finished exactly once (the policy model of a run is stored at most once even
// when a timed-out attempt and its retry both finish), and counted for /status and /metrics.
import type { PolicyModel, TrainingRun } from "../generated/prisma/client.js";
import type { TrainingStatus, TrainingTrigger } from "../generated/prisma/enums.js";
import type { Database } from "./client.js";
import { isUniqueViolation } from "./jobs.js";
import { insertPolicyModel, json, type NewPolicyModel } from "./training.js";

/** Creates the run of a job key, or returns the run that already has it. */
export async function createKeyedTrainingRun(
  db: Database,
  run: {
    userId: number;
    trigger: TrainingTrigger;
    requestedBy: bigint | null;
    jobKey: string;
    hyperparameters: unknown;
  },
): Promise<{ created: boolean; run: TrainingRun }> {
  try {
    const created = await db.prisma.trainingRun.create({
      data: { ...run, hyperparameters: json(run.hyperparameters), status: "queued" },
    });
    return { created: true, run: created };
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const existing = await db.prisma.trainingRun.findUnique({ where: { jobKey: run.jobKey } });
    if (existing === null) throw error;
    return { created: false, run: existing };
  }
}

export async function trainingRunById(db: Database, id: number): Promise<TrainingRun | null> {
  return db.prisma.trainingRun.findUnique({ where: { id } });
}

/** Puts a run back in the queue (an attempt failed or was released), saying why. */
export async function requeueRun(db: Database, runId: number, why: string): Promise<void> {
  await db.prisma.trainingRun.updateMany({
    where: { id: runId, status: { in: ["queued", "running"] } },
    data: { status: "queued", error: why.slice(0, 4000) },
  });
}

/** Cancels a run that has not finished; false when it had already ended. */
export async function cancelRun(
  db: Database,
  runId: number,
  why: string,
  at: Date,
): Promise<boolean> {
  const { count } = await db.prisma.trainingRun.updateMany({
    where: { id: runId, status: { in: ["queued", "running"] } },
    data: { status: "cancelled", error: why, finishedAt: at },
  });
  return count === 1;
}

/**
 * Marks the run succeeded (trained by the process `trainedBy`) and stores its model (activated
 * or not) in one transaction — only if the run has not succeeded already: the update's row lock
 * makes a second finisher wait and then find it done. Returns null when another attempt finished
 * the run first.
 */
export async function completeRunOnce(
  db: Database,
  runId: number,
  model: NewPolicyModel,
  activate: boolean,
  summary: (model: PolicyModel) => unknown,
  at: Date,
  trainedBy: string,
): Promise<PolicyModel | null> {
  return db.prisma.$transaction(async (tx) => {
    const claimed = await tx.trainingRun.updateMany({
      where: { id: runId, status: { notIn: ["succeeded", "cancelled"] } },
      data: { status: "succeeded", error: null, finishedAt: at, trainedBy },
    });
    if (claimed.count === 0) return null;
    const created = await insertPolicyModel(tx, model, activate);
    await tx.trainingRun.update({
      where: { id: runId },
      data: { summary: json(summary(created)) },
    });
    return created;
  });
}

/** The latest recorded training step of a run with its metrics by name (progress polling). */
export async function latestRunMetrics(
  db: Database,
  runId: number,
): Promise<{ step: number; metrics: Record<string, number> } | null> {
  const last = await db.prisma.trainingMetric.findFirst({
    where: { runId },
    orderBy: { step: "desc" },
    select: { step: true },
  });
  if (last === null) return null;
  const rows = await db.prisma.trainingMetric.findMany({ where: { runId, step: last.step } });
  return { step: last.step, metrics: Object.fromEntries(rows.map((r) => [r.name, r.value])) };
}

/** Windows of the queue's numbers (/status and GET /metrics). */
export const QUEUE_WINDOWS = {
  /** failed runs are counted over the last day */
  failedMs: 24 * 3_600_000,
  /** jobs finished per minute are averaged over the last 15 minutes */
  finishedRateMs: 15 * 60_000,
  /** per-worker throughput counts the last hour */
  workerThroughputMs: 3_600_000,
} as const;

export interface RunQueueCounts {
  waiting: number;
  active: number;
  /** runs that failed (after their retries) in the last QUEUE_WINDOWS.failedMs */
  failed: number;
  oldestWaitingCreatedAt: Date | null;
  /** runs that ended trained (succeeded, or failed after their retries) per minute, averaged over QUEUE_WINDOWS.finishedRateMs */
  finishedPerMinute: number;
  /**
   * Runs that ended trained in the last QUEUE_WINDOWS.workerThroughputMs per process that trained
   * them (TrainingRun.trainedBy; "unknown" for runs recorded before it existed), most first.
   */
  finishedByWorker: { worker: string; runs: number }[];
}

/** Runs that ended trained: succeeded, or failed after their retries (not cancelled). */
const TRAINED: TrainingStatus[] = ["succeeded", "failed"];

/** The queue as the training runs show it at `now`. */
export async function runQueueCounts(db: Database, now: Date): Promise<RunQueueCounts> {
  const ago = (ms: number) => new Date(now.getTime() - ms);
  const byWorker = await db.prisma.trainingRun.groupBy({
    by: ["trainedBy"],
    where: { status: { in: TRAINED }, finishedAt: { gte: ago(QUEUE_WINDOWS.workerThroughputMs) } },
    _count: { _all: true },
  });
  const [waiting, active, failed, oldest, finishedRecently] = await Promise.all([
    db.prisma.trainingRun.count({ where: { status: "queued" } }),
    db.prisma.trainingRun.count({ where: { status: "running" } }),
    db.prisma.trainingRun.count({
      where: { status: "failed", finishedAt: { gte: ago(QUEUE_WINDOWS.failedMs) } },
    }),
    db.prisma.trainingRun.findFirst({
      where: { status: "queued" },
      orderBy: { createdAt: "asc" },
      select: { createdAt: true },
    }),
    db.prisma.trainingRun.count({
      where: { status: { in: TRAINED }, finishedAt: { gte: ago(QUEUE_WINDOWS.finishedRateMs) } },
    }),
  ]);
  return {
    waiting,
    active,
    failed,
    oldestWaitingCreatedAt: oldest?.createdAt ?? null,
    finishedPerMinute: finishedRecently / (QUEUE_WINDOWS.finishedRateMs / 60_000),
    finishedByWorker: byWorker
      .map((g) => ({ worker: g.trainedBy ?? "unknown", runs: g._count._all }))
      .sort((a, b) => b.runs - a.runs || a.worker.localeCompare(b.worker)),
  };
}

/** Runs waiting in the queue, admin requests first, oldest first (the in-process queue's restart). */
export async function queuedRuns(db: Database): Promise<TrainingRun[]> {
  return db.prisma.trainingRun.findMany({
    where: { status: { in: ["queued", "running"] }, jobKey: { not: null } },
    orderBy: { createdAt: "asc" },
  });
}

/**
 * Queued or running runs with a job key created before `before`, oldest first, at most `limit`:
 * the runs a queue checks for a job (pg-boss: a run is stranded when no job of it is waiting).
 */
export async function openRunsCreatedBefore(
  db: Database,
  before: Date,
  limit: number,
): Promise<Pick<TrainingRun, "id" | "trigger" | "jobKey" | "status">[]> {
  return db.prisma.trainingRun.findMany({
    where: {
      status: { in: ["queued", "running"] },
      jobKey: { not: null },
      createdAt: { lt: before },
    },
    orderBy: { createdAt: "asc" },
    take: limit,
    select: { id: true, trigger: true, jobKey: true, status: true },
  });
}

/** The run's status, or null when it no longer exists (cancellation checks). */
export async function runStatus(db: Database, runId: number): Promise<string | null> {
  const run = await db.prisma.trainingRun.findUnique({
    where: { id: runId },
    select: { status: true },
  });
  return run?.status ?? null;
}

/** Which of these people have a run queued or running. */
export async function peopleWithOpenRuns(db: Database, userIds: number[]): Promise<Set<number>> {
  const rows = await db.prisma.trainingRun.findMany({
    where: { userId: { in: userIds }, status: { in: ["queued", "running"] } },
    select: { userId: true },
  });
  return new Set(rows.map((r) => r.userId).filter((id): id is number => id !== null));
}
