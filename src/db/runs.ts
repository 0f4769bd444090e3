// Reading training runs for tracking (`coachrl runs`, /runs): the list, one run with its person,
// its model and its metric time series.
import type { PolicyModel, TrainingMetric, TrainingRun, User } from "../generated/prisma/client.js";
import type { TrainingStatus } from "../generated/prisma/enums.js";
import type { Database } from "./client.js";

export type RunPerson = Pick<User, "id" | "telegramId" | "displayName">;

export type TrainingRunRow = TrainingRun & { user: RunPerson | null };

const person = { select: { id: true, telegramId: true, displayName: true } } as const;

/** The latest runs first; optionally of one person (by Telegram id) and in one status. */
export async function listTrainingRuns(
  db: Database,
  filter: { telegramId?: bigint; status?: TrainingStatus; limit: number },
): Promise<TrainingRunRow[]> {
  return db.prisma.trainingRun.findMany({
    where: {
      ...(filter.telegramId === undefined ? {} : { user: { telegramId: filter.telegramId } }),
      ...(filter.status === undefined ? {} : { status: filter.status }),
    },
    orderBy: { id: "desc" },
    take: filter.limit,
    include: { user: person },
  });
}

export type TrainingRunDetails = TrainingRunRow & {
  metrics: Pick<TrainingMetric, "name" | "step" | "value">[];
  models: Pick<PolicyModel, "id" | "active" | "createdAt" | "hyperparameters">[];
};

/** One run with its metric rows (by name, then step) and the model it stored; null if none. */
export async function findTrainingRun(
  db: Database,
  runId: number,
): Promise<TrainingRunDetails | null> {
  return db.prisma.trainingRun.findUnique({
    where: { id: runId },
    include: {
      user: person,
      metrics: {
        select: { name: true, step: true, value: true },
        orderBy: [{ name: "asc" }, { step: "asc" }, { id: "asc" }],
      },
      models: { select: { id: true, active: true, createdAt: true, hyperparameters: true } },
    },
  });
}
