// What the nightly-retrain alerts read (src/app/training/nightly-report.ts): the night's
// occurrences, the counts of a night's runs (one grouped query, cheap enough to ask every
// minute), the night's finished runs for its report, and the admins' chats.
import type { TrainingStatus } from "../generated/prisma/enums.js";
import type { Database } from "./client.js";

/** The nightly-retrain occurrences (JobRun rows of `job`) that started since `since`. */
export async function occurrencesSince(
  db: Database,
  job: string,
  since: Date,
): Promise<{ key: string; startedAt: Date; finishedAt: Date | null }[]> {
  return db.prisma.jobRun.findMany({
    where: { job, startedAt: { gte: since } },
    select: { key: true, startedAt: true, finishedAt: true },
    orderBy: { startedAt: "asc" },
  });
}

/** The night's runs: nightly runs created since the occurrence whose job key ends in the night. */
function nightWhere(nightKey: string, since: Date) {
  return {
    // every status, listed so that the (status, created_at) index serves the range on created_at
    status: { in: ["queued", "running", "succeeded", "failed", "cancelled"] as TrainingStatus[] },
    trigger: "nightly" as const,
    createdAt: { gte: since },
    jobKey: { startsWith: "nightly:", endsWith: `:${nightKey}` },
  };
}

export interface NightCounts {
  byStatus: Partial<Record<TrainingStatus, number>>;
  /** the latest start or finish of any of the night's runs (null: none started) */
  lastProgressAt: Date | null;
}

/** How many of the night's runs are in each state, and when one last started or ended. */
export async function nightRunCounts(
  db: Database,
  nightKey: string,
  since: Date,
): Promise<NightCounts> {
  const groups = await db.prisma.trainingRun.groupBy({
    by: ["status"],
    where: nightWhere(nightKey, since),
    _count: { _all: true },
    _max: { startedAt: true, finishedAt: true },
  });
  const byStatus: NightCounts["byStatus"] = {};
  let last: number | null = null;
  for (const g of groups) {
    byStatus[g.status] = g._count._all;
    for (const at of [g._max.startedAt, g._max.finishedAt]) {
      if (at !== null && (last === null || at.getTime() > last)) last = at.getTime();
    }
  }
  return { byStatus, lastProgressAt: last === null ? null : new Date(last) };
}

export interface NightRun {
  id: number;
  userId: number | null;
  displayName: string | null;
  status: TrainingStatus;
  error: string | null;
  summary: unknown;
}

/** The night's runs with what the report needs (read once, when the night has ended). */
export async function nightRuns(db: Database, nightKey: string, since: Date): Promise<NightRun[]> {
  const rows = await db.prisma.trainingRun.findMany({
    where: nightWhere(nightKey, since),
    select: {
      id: true,
      userId: true,
      status: true,
      error: true,
      summary: true,
      user: { select: { displayName: true } },
    },
    orderBy: { id: "asc" },
  });
  return rows.map(({ user, ...run }) => ({ ...run, displayName: user?.displayName ?? null }));
}

/** Chats of the people registered as admins. */
export async function adminChatIds(db: Database): Promise<bigint[]> {
  const rows = await db.prisma.user.findMany({
    where: { isAdmin: true },
    select: { chatId: true },
  });
  return rows.map((r) => r.chatId);
}
