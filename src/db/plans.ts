// One stored plan per person and day: created once (the first writer wins), then read back so
// that asking again shows the same plan.
import type { LocalDate } from "../coach/index.js";
import type { Plan } from "../generated/prisma/client.js";
import type { Database } from "./client.js";
import { toDbDate } from "./dates.js";

export interface PlanItem {
  habitId: number;
  /** index into the habit's levels */
  level: number;
  amount: number;
}

export interface NewPlan {
  items: PlanItem[];
  logProb: number | null;
  producedBy: string;
  modelId: number | null;
  /** the /intensity the plan followed and its last day (omitted: not recorded) */
  intensity?: string | null;
  intensityUntil?: LocalDate | null;
  /** how the plan explored (src/app/planning.ts); omitted or null: the greedy plan */
  exploration?: PlanExploration | null;
}

/** A stored plan's exploration record (Plan.exploration). */
export interface PlanExploration {
  /** habit ids the greedy plan had and this plan left out */
  dropped: number[];
  /** the greedy plan (raw level per habit, before the coach core's adjustment) */
  greedy: { habitId: number; level: number }[];
  /** the reward-cost bound of leaving them out (reward-days) */
  cost: number;
  /** the settings in force: probability of exploring, largest cost */
  probability: number;
  maxCost: number;
}

export function planItemsOf(plan: Plan): PlanItem[] {
  const items = plan.items as unknown;
  if (!Array.isArray(items)) return [];
  return items.filter(
    (i): i is PlanItem =>
      typeof i === "object" &&
      i !== null &&
      typeof (i as PlanItem).habitId === "number" &&
      typeof (i as PlanItem).amount === "number",
  );
}

export async function findPlan(db: Database, userId: number, day: LocalDate): Promise<Plan | null> {
  return db.prisma.plan.findUnique({ where: { userId_day: { userId, day: toDbDate(day) } } });
}

/** How many plans these people have, and how many of them explored (Plan.exploration set). */
export async function countExploratoryPlans(
  db: Database,
  userIds: number[],
): Promise<{ plans: number; exploratory: number }> {
  const rows = await db.prisma.plan.findMany({
    where: { userId: { in: userIds } },
    select: { exploration: true },
  });
  return { plans: rows.length, exploratory: rows.filter((r) => r.exploration !== null).length };
}

/** Stores the plan unless one exists for that day; returns the stored one either way. */
export async function storePlanOnce(
  db: Database,
  userId: number,
  day: LocalDate,
  plan: NewPlan,
): Promise<Plan> {
  await db.prisma.plan.createMany({
    data: [
      {
        userId,
        day: toDbDate(day),
        items: plan.items as unknown as object,
        logProb: plan.logProb,
        producedBy: plan.producedBy,
        modelId: plan.modelId,
        intensity: plan.intensity ?? null,
        intensityUntil: plan.intensityUntil ? toDbDate(plan.intensityUntil) : null,
        ...(plan.exploration ? { exploration: plan.exploration as unknown as object } : {}),
      },
    ],
    skipDuplicates: true,
  });
  const stored = await findPlan(db, userId, day);
  if (!stored) throw new Error(`plan for user ${userId} on ${day} vanished after insert`);
  return stored;
}

export async function markPlanSent(
  db: Database,
  planId: number,
  messageId: number,
  now: Date,
): Promise<void> {
  await db.prisma.plan.update({
    where: { id: planId },
    data: { sentAt: now, messageId: BigInt(messageId) },
  });
}

/** A stored plan by id, or null. */
export async function findPlanById(db: Database, planId: number): Promise<Plan | null> {
  return db.prisma.plan.findUnique({ where: { id: planId } });
}
