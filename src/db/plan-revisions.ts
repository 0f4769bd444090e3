// Plan revisions: a person's changes to a day's plan, append-only (never updated or deleted
// except with the person). The plan as changed is computed from them (src/coach/plan-steering.ts).
import type { PlanChangeKind } from "../coach/plan-steering.js";
import type { EntrySource, PlanRevision } from "../generated/prisma/client.js";
import type { Database } from "./client.js";

export interface NewPlanRevision {
  habitId: number;
  change: PlanChangeKind;
  fromAmount: number;
  toAmount: number;
  idempotencyKey: string;
}

/** The revisions of a plan, in the order they were made. */
export async function revisionsOfPlan(db: Database, planId: number): Promise<PlanRevision[]> {
  return db.prisma.planRevision.findMany({ where: { planId }, orderBy: { id: "asc" } });
}

/** The revisions of several plans (e.g. a person's history), in the order they were made. */
export async function revisionsOfPlans(db: Database, planIds: number[]): Promise<PlanRevision[]> {
  if (planIds.length === 0) return [];
  return db.prisma.planRevision.findMany({
    where: { planId: { in: planIds } },
    orderBy: { id: "asc" },
  });
}

/**
 * Appends revisions of one plan in one transaction; a revision whose idempotency key is already
 * stored (a re-delivered update) is skipped. Returns how many were inserted.
 */
export async function appendRevisions(
  db: Database,
  plan: { id: number; userId: number },
  by: { changedBy: bigint; via: EntrySource },
  revisions: NewPlanRevision[],
): Promise<number> {
  const { count } = await db.prisma.planRevision.createMany({
    data: revisions.map((r) => ({
      planId: plan.id,
      userId: plan.userId,
      habitId: r.habitId,
      change: r.change,
      fromAmount: r.fromAmount,
      toAmount: r.toAmount,
      changedBy: by.changedBy,
      via: by.via,
      idempotencyKey: r.idempotencyKey,
    })),
    skipDuplicates: true,
  });
  return count;
}

/** The revisions stored under these idempotency keys (a re-delivered update's), in order. */
export async function revisionsWithKeys(db: Database, keys: string[]): Promise<PlanRevision[]> {
  return db.prisma.planRevision.findMany({
    where: { idempotencyKey: { in: keys } },
    orderBy: { id: "asc" },
  });
}
