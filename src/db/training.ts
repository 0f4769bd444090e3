// Training runs, their metric time series, and policy models with "at most one active per
// user" (a partial unique index; activation swaps inside one transaction).
import type { PolicyModel, Prisma, TrainingRun } from "../generated/prisma/client.js";
import type { TrainingStatus, TrainingTrigger } from "../generated/prisma/enums.js";
import type { Database } from "./client.js";

/** JSON-safe copy (no undefined, no typed arrays) for Json columns. */
export function json(value: unknown): object {
  return JSON.parse(JSON.stringify(value ?? null)) ?? {};
}

export async function createTrainingRun(
  db: Database,
  run: {
    userId: number;
    trigger: TrainingTrigger;
    requestedBy: bigint | null;
    hyperparameters: unknown;
  },
): Promise<TrainingRun> {
  return db.prisma.trainingRun.create({
    data: {
      userId: run.userId,
      trigger: run.trigger,
      requestedBy: run.requestedBy,
      hyperparameters: json(run.hyperparameters),
      status: "queued",
    },
  });
}

/**
 * Marks a run as running in the process named `trainedBy`; `hyperparameters`, when given,
 * replace the ones recorded at queueing.
 */
export async function markRunStarted(
  db: Database,
  runId: number,
  at: Date,
  trainedBy: string,
  hyperparameters?: unknown,
): Promise<void> {
  await db.prisma.trainingRun.update({
    where: { id: runId },
    data: {
      status: "running",
      startedAt: at,
      trainedBy,
      ...(hyperparameters === undefined ? {} : { hyperparameters: json(hyperparameters) }),
    },
  });
}

export async function finishRun(
  db: Database,
  runId: number,
  outcome: { status: TrainingStatus; summary?: unknown; error?: string; at: Date },
): Promise<void> {
  await db.prisma.trainingRun.update({
    where: { id: runId },
    data: {
      status: outcome.status,
      summary: outcome.summary === undefined ? undefined : json(outcome.summary),
      error: outcome.error === undefined ? null : outcome.error.slice(0, 4000),
      finishedAt: outcome.at,
    },
  });
}

/** Appends one step's named metrics (non-finite values are skipped). */
export async function recordTrainingMetrics(
  db: Database,
  runId: number,
  step: number,
  metrics: Record<string, number>,
): Promise<void> {
  const data = Object.entries(metrics)
    .filter(([, value]) => Number.isFinite(value))
    .map(([name, value]) => ({ runId, step, name, value }));
  if (data.length > 0) await db.prisma.trainingMetric.createMany({ data });
}

/** Deactivates the person's active model (the heuristic plans then); true when there was one. */
export async function retireActivePolicyModel(db: Database, userId: number): Promise<boolean> {
  const { count } = await db.prisma.policyModel.updateMany({
    where: { userId, active: true },
    data: { active: false },
  });
  return count > 0;
}

/** Whether the person has ever had a policy model of their own (active or not). */
export async function hasOwnPolicyModel(db: Database, userId: number): Promise<boolean> {
  return (await db.prisma.policyModel.count({ where: { userId } })) > 0;
}

/** A policy model without its checkpoint bytes (~66 KB for 5 habits): what it is, not its weights. */
export type PolicyModelSummary = Omit<PolicyModel, "bytes">;

/** The person's active policy model without its checkpoint (`policyModelBytes` reads that). */
export async function activePolicyModelSummary(
  db: Database,
  userId: number,
): Promise<PolicyModelSummary | null> {
  return db.prisma.policyModel.findFirst({
    where: { userId, active: true },
    omit: { bytes: true },
  });
}

/**
 * The checkpoint of policy model `id`; null when there is no such model. Read as base64 text:
 * the driver adapters decode `bytea`'s hex text one byte at a time in JavaScript, the server's
 * `encode` and Node's base64 decoder are native (Node skips the line breaks `encode` puts in).
 */
export async function policyModelBytes(db: Database, id: number): Promise<Uint8Array | null> {
  const rows = await db.prisma.$queryRaw<{ bytes: string }[]>`
    SELECT encode(bytes, 'base64') AS bytes FROM policy_models WHERE id = ${id}`;
  return rows.length === 0 ? null : new Uint8Array(Buffer.from(rows[0].bytes, "base64"));
}

/**
 * The person's newest policy model from one of their own training runs, active or not (the
 * training line a nightly retrain continues from); null when no run of theirs stored one.
 */
export async function latestTrainedPolicyModel(
  db: Database,
  userId: number,
): Promise<PolicyModelSummary | null> {
  return db.prisma.policyModel.findFirst({
    where: { userId, trainingRunId: { not: null } },
    orderBy: { id: "desc" },
    omit: { bytes: true },
  });
}

export interface NewPolicyModel {
  /** null: a shared model (the population policy of a habit set) */
  userId: number | null;
  /** null: not made by a training run of this person (an adopted population policy) */
  trainingRunId: number | null;
  bytes: Uint8Array;
  formatVersion: number;
  spec: unknown;
  hyperparameters: unknown;
  evaluation: unknown;
}

/**
 * Inserts a trained policy inside a transaction; with `activate`, deactivates the person's
 * current model and activates the new one (readers never see zero or two active).
 */
export async function insertPolicyModel(
  tx: Prisma.TransactionClient,
  model: NewPolicyModel,
  activate: boolean,
): Promise<PolicyModel> {
  // The checkpoint goes in and out as base64 text: the driver adapters encode and decode bytea
  // as hex one byte at a time in JavaScript (~30 ms per 66 KB checkpoint on PGlite), the
  // server's decode is native. The stored row is returned with the caller's bytes.
  const bytes = new Uint8Array(model.bytes);
  const created = await tx.policyModel.create({
    data: {
      userId: model.userId,
      trainingRunId: model.trainingRunId,
      bytes: new Uint8Array(0),
      formatVersion: model.formatVersion,
      spec: json(model.spec),
      hyperparameters: json(model.hyperparameters),
      evaluation: json(model.evaluation),
      active: false,
    },
    omit: { bytes: true },
  });
  await tx.$executeRaw`
    UPDATE policy_models SET bytes = decode(${Buffer.from(bytes).toString("base64")}, 'base64')
    WHERE id = ${created.id}`;
  if (!activate) return { ...created, bytes };
  await tx.policyModel.updateMany({
    where: { userId: model.userId, active: true },
    data: { active: false },
  });
  const activated = await tx.policyModel.update({
    where: { id: created.id },
    data: { active: true },
    omit: { bytes: true },
  });
  return { ...activated, bytes };
}

/** Stores a trained policy in its own transaction (see insertPolicyModel). */
export async function storePolicyModel(
  db: Database,
  model: NewPolicyModel,
  activate: boolean,
): Promise<PolicyModel> {
  return db.prisma.$transaction((tx) => insertPolicyModel(tx, model, activate));
}

export async function lastTrainingRun(
  db: Database,
  where: { trigger?: TrainingTrigger } = {},
): Promise<TrainingRun | null> {
  return db.prisma.trainingRun.findFirst({ where, orderBy: { createdAt: "desc" } });
}

/** Count of runs per status for a trigger since an instant (for the nightly summary). */
export async function runCountsSince(
  db: Database,
  trigger: TrainingTrigger,
  since: Date,
): Promise<Partial<Record<TrainingStatus, number>>> {
  const groups = await db.prisma.trainingRun.groupBy({
    by: ["status"],
    where: { trigger, createdAt: { gte: since } },
    _count: { _all: true },
  });
  return Object.fromEntries(groups.map((g) => [g.status, g._count._all]));
}

/** How many runs since `since` activated their new model (TrainingRun.summary.activated). */
export async function activationsSince(
  db: Database,
  trigger: TrainingTrigger,
  since: Date,
): Promise<number> {
  return db.prisma.trainingRun.count({
    where: { trigger, createdAt: { gte: since }, summary: { path: ["activated"], equals: true } },
  });
}

/** Shared models (no person): the population policies, newest first. */
export async function sharedPolicyModels(db: Database): Promise<PolicyModel[]> {
  return db.prisma.policyModel.findMany({ where: { userId: null }, orderBy: { id: "desc" } });
}
