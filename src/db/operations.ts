// What an operator asks about the service as a whole (/status, admin /retrain targets): counts
// of people, the Sheets outbox backlog, people by Telegram id or name. Read-only.
import type { OutboxEvent, User } from "../generated/prisma/client.js";
import type { Database } from "./client.js";

/** Round-trip time of a trivial query, in ms; throws when the database cannot be reached. */
export async function pingDatabase(db: Database): Promise<number> {
  const t0 = performance.now();
  await db.prisma.$queryRaw`SELECT 1`;
  return performance.now() - t0;
}

export async function countPeople(db: Database): Promise<{ all: number; withHabits: number }> {
  const [all, withHabits] = await Promise.all([
    db.prisma.user.count(),
    db.prisma.user.count({ where: { habits: { some: { archivedAt: null } } } }),
  ]);
  return { all, withHabits };
}

/** Everyone with at least one active habit, oldest registration first. */
export async function peopleWithActiveHabits(db: Database): Promise<User[]> {
  return db.prisma.user.findMany({
    where: { habits: { some: { archivedAt: null } } },
    orderBy: { id: "asc" },
  });
}

export async function findPersonById(db: Database, id: number): Promise<User | null> {
  return db.prisma.user.findUnique({ where: { id } });
}

/** People whose display name is `name` (case-insensitive), at most `limit`. */
export async function peopleNamed(db: Database, name: string, limit = 5): Promise<User[]> {
  return db.prisma.user.findMany({
    where: { displayName: { equals: name, mode: "insensitive" } },
    take: limit,
  });
}

export interface OutboxHealth {
  pending: number;
  /** pending events that failed at least once */
  retrying: number;
  oldestPending: OutboxEvent | null;
  /** the retrying event due next (its lastError says why it failed) */
  nextRetry: OutboxEvent | null;
  /** events closed after their last attempt since `gaveUpSince` */
  gaveUp: number;
  latestGaveUp: OutboxEvent | null;
}

export async function outboxHealth(db: Database, gaveUpSince: Date): Promise<OutboxHealth> {
  const retryingWhere = { doneAt: null, attempts: { gt: 0 } };
  const gaveUpWhere = { doneAt: { gte: gaveUpSince }, lastError: { startsWith: "gave up" } };
  const [pending, retrying, oldestPending, nextRetry, gaveUp, latestGaveUp] = await Promise.all([
    db.prisma.outboxEvent.count({ where: { doneAt: null } }),
    db.prisma.outboxEvent.count({ where: retryingWhere }),
    db.prisma.outboxEvent.findFirst({ where: { doneAt: null }, orderBy: { createdAt: "asc" } }),
    db.prisma.outboxEvent.findFirst({ where: retryingWhere, orderBy: { nextAttemptAt: "asc" } }),
    db.prisma.outboxEvent.count({ where: gaveUpWhere }),
    db.prisma.outboxEvent.findFirst({ where: gaveUpWhere, orderBy: { doneAt: "desc" } }),
  ]);
  return { pending, retrying, oldestPending, nextRetry, gaveUp, latestGaveUp };
}
