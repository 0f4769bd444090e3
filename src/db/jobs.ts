// Exactly-once claims for scheduled work. Every instance of the app runs the same schedules; a
// job occurrence is identified by (job, key) — e.g. ("plan-push", "17:2026-03-01") or
// ("nightly-retrain", "2026-03-01") — and whoever inserts the JobRun row first does the work.
// The unique index on (job, key) makes the insert the lock: no advisory locks, no leases.
// A claim is never taken over: if the claiming instance dies mid-run, that occurrence is
// skipped (its row stays with finished_at NULL, visible in /status).
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
