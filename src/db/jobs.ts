// Exactly-once claims for scheduled work. Every instance of the app runs the same schedules; a
// job occurrence is identified by (job, key) — e.g. ("plan-push", "17:2026-03-01") or
// ("nightly-retrain", "2026-03-01") — and whoever inserts the JobRun row first does the work.
// The unique index on (job, key) makes the insert the lock: no advisory locks, no leases.
// A claim is never taken over: if the claiming instance dies mid-run, that occurrence is
// skipped (its row stays with finished_at NULL, visible in /status).
// Retried work (plan pushes) uses the same row differently: the row is the occurrence, and each
// attempt is claimed by moving next_attempt_at forward (a lease) in one conditional UPDATE, so
// that only one instance attempts at a time; a failed attempt sets the next attempt's time, a
// successful or abandoned one sets finished_at.
import type { JobRun } from "../generated/prisma/client.js";
import type { Database } from "./client.js";

/** True for Prisma's unique-constraint violation (P2002), whatever the driver adapter. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { code?: unknown; message?: unknown; cause?: unknown };
  if (e.code === "P2002" || e.code === "23505") return true;
  if (typeof e.message === "string" && /Unique constraint failed/i.test(e.message)) return true;
  return e.cause !== undefined && e.cause !== error && isUniqueViolation(e.cause);
}

/** Inserts the claim; returns it, or null when another instance (or an earlier run) has it. */
export async function claimJob(
  db: Database,
  job: string,
  key: string,
  instance: string,
): Promise<JobRun | null> {
  try {
    return await db.prisma.jobRun.create({ data: { job, key, instance } });
  } catch (error) {
    if (isUniqueViolation(error)) return null;
    throw error;
  }
}

/** Marks a claimed run finished, with the error text when it failed. */
export async function finishJob(db: Database, id: number, error?: string): Promise<void> {
  await db.prisma.jobRun.update({
    where: { id },
    data: { finishedAt: new Date(), error: error === undefined ? null : error.slice(0, 2000) },
  });
}

export type ClaimedOutcome<T> = { ran: true; value: T } | { ran: false };

/**
 * Claims (job, key) and runs `work` only if this caller got the claim; records the finish time
 * and any error (the error is re-thrown after it is recorded).
 */
export async function runOnce<T>(
  db: Database,
  job: string,
  key: string,
  instance: string,
  work: () => Promise<T>,
): Promise<ClaimedOutcome<T>> {
  const claim = await claimJob(db, job, key, instance);
  if (claim === null) return { ran: false };
  try {
    const value = await work();
    await finishJob(db, claim.id);
    return { ran: true, value };
  } catch (error) {
    await finishJob(db, claim.id, error instanceof Error ? error.message : String(error)).catch(
      () => {},
    );
    throw error;
  }
}

/** Keys already claimed for a job among `keys` (one query; for skipping work cheaply). */
export async function claimedKeys(db: Database, job: string, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await db.prisma.jobRun.findMany({
    where: { job, key: { in: keys } },
    select: { key: true },
  });
  return new Set(rows.map((r) => r.key));
}

/** The most recent run of a job, finished or not. */
export async function lastJobRun(db: Database, job: string): Promise<JobRun | null> {
  return db.prisma.jobRun.findFirst({ where: { job }, orderBy: { startedAt: "desc" } });
}

/** An occurrence of retried work, as far as attempts go. */
export type JobAttempt = Pick<JobRun, "id" | "key" | "attempts">;

/**
 * The keys among `keys` that may be attempted at `now`: rows not finished whose next attempt is
 * due, and keys without a row yet (inserted here, due from `now`; a row another instance inserted
 * meanwhile is kept). Two queries for the whole list, whatever its length.
 */
export async function dueAttemptKeys(
  db: Database,
  job: string,
  keys: string[],
  instance: string,
  now: Date,
): Promise<string[]> {
  if (keys.length === 0) return [];
  const rows = await db.prisma.jobRun.findMany({
    where: { job, key: { in: keys } },
    select: { key: true, finishedAt: true, nextAttemptAt: true },
  });
  const known = new Set(rows.map((r) => r.key));
  const fresh = keys.filter((key) => !known.has(key));
  if (fresh.length > 0) {
    await db.prisma.jobRun.createMany({
      data: fresh.map((key) => ({ job, key, instance, startedAt: now, nextAttemptAt: now })),
      skipDuplicates: true,
    });
  }
  const due = rows
    .filter((r) => r.finishedAt === null && r.nextAttemptAt !== null && r.nextAttemptAt <= now)
    .map((r) => r.key);
  return [...due, ...fresh];
}

/**
 * Claims the next attempt of (job, key) if it is due at `now` and not finished: counts the
 * attempt and moves the next attempt to `leaseUntil`, so that no other instance attempts it
 * before this one records the outcome (or dies: then it is attempted again after the lease).
 * One conditional UPDATE: of two instances claiming at once, exactly one gets the row.
 */
export async function claimAttempt(
  db: Database,
  job: string,
  key: string,
  instance: string,
  now: Date,
  leaseUntil: Date,
): Promise<JobAttempt | null> {
  const [claimed] = await db.prisma.jobRun.updateManyAndReturn({
    where: { job, key, finishedAt: null, nextAttemptAt: { lte: now } },
    data: { attempts: { increment: 1 }, instance, nextAttemptAt: leaseUntil },
    select: { id: true, key: true, attempts: true },
  });
  return claimed ?? null;
}

/**
 * Records the outcome of a claimed attempt: `nextAttemptAt` schedules the next one (a failure to
 * retry); null finishes the occurrence (done, or given up, with `error` saying why). Returns
 * false when the claim was lost meanwhile (the lease ran out and another instance claimed it).
 */
export async function recordAttempt(
  db: Database,
  attempt: JobAttempt,
  at: Date,
  outcome: { error: string | null; nextAttemptAt: Date | null },
): Promise<boolean> {
  const { count } = await db.prisma.jobRun.updateMany({
    where: { id: attempt.id, attempts: attempt.attempts, finishedAt: null },
    data: {
      error: outcome.error === null ? null : outcome.error.slice(0, 2000),
      nextAttemptAt: outcome.nextAttemptAt,
      finishedAt: outcome.nextAttemptAt === null ? at : null,
    },
  });
  return count === 1;
}
