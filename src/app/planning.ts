// Today's plan: generated once per person and day by the chosen planner (a trained policy when
// one is active, the heuristic otherwise), massaged by the coach core, stored, and read back.
import { createRng, type LocalDate, planForDay } from "../coach/index.js";
import { revisedPlan } from "../coach/plan-steering.js";
import { revisionsOfPlan } from "../db/plan-revisions.js";
import { findPlan, markPlanSent, type PlanItem, planItemsOf, storePlanOnce } from "../db/plans.js";
import type { Habit, Plan, PlanRevision, User } from "../generated/prisma/client.js";
import { type CoachState, loadCoachState } from "./coach-state.js";
import type { AppDeps } from "./deps.js";
import { intensityOn } from "./intensity.js";
import type { DayPlanner, PolicyChoice } from "./policy-planner.js";

export const heuristicPlanner: DayPlanner = {
  producedBy: "heuristic",
  modelId: null,
  followsIntensity: false,
  choose: async () => undefined,
};

/**
 * The planner for a person: their active policy model when the RL engine provides one (via
 * deps.loadPolicyPlanner), the heuristic otherwise — also when loading the policy fails.
 */
export async function choosePlanner(
  deps: Pick<AppDeps, "log" | "loadPolicyPlanner">,
  person: User,
): Promise<DayPlanner> {
  if (!deps.loadPolicyPlanner) return heuristicPlanner;
  try {
    return (await deps.loadPolicyPlanner(person)) ?? heuristicPlanner;
  } catch (error) {
    deps.log.warn(
      { err: error, userId: person.id },
      "policy planner failed to load; using heuristic",
    );
    return heuristicPlanner;
  }
}

/** A seed that is the same for one person and day, so a regenerated plan would be identical. */
export function planSeed(userId: number, day: LocalDate): number {
  let h = 2166136261 ^ userId;
  for (const ch of day) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return h >>> 0;
}

export interface TodayPlan {
  /** undefined when the person has no active habits (nothing is stored then) */
  plan: Plan | undefined;
  /** the plan as changed by the person (the original with their revisions applied) */
  items: PlanItem[];
  /** the plan as the planner produced it */
  original: PlanItem[];
  /** the person's changes to it, in the order they were made */
  revisions: PlanRevision[];
  state: CoachState;
}

/** A stored plan as the person changed it: its items with the revisions applied. */
export async function planAsChanged(
  db: AppDeps["db"],
  plan: Plan,
  habits: Habit[],
): Promise<{ items: PlanItem[]; original: PlanItem[]; revisions: PlanRevision[] }> {
  const original = planItemsOf(plan);
  const revisions = await revisionsOfPlan(db, plan.id);
  const levels = new Map(habits.map((h) => [h.id, h.levels]));
  const items = revisedPlan(original, revisions, (id) => levels.get(id) ?? [0]);
  return { items, original, revisions };
}

/**
 * Today's stored plan, generating and storing it first if there is none; `items` are the plan as
 * the person changed it (`original` as the planner produced it).
 */
export async function todaysPlan(
  deps: Pick<AppDeps, "db" | "log" | "now" | "loadPolicyPlanner">,
  person: User,
): Promise<TodayPlan> {
  const state = await loadCoachState(deps.db, person, deps.now());
  const existing = await findPlan(deps.db, person.id, state.today);
  if (existing)
    return { plan: existing, ...(await planAsChanged(deps.db, existing, state.habits)), state };
  if (state.specs.length === 0)
    return { plan: undefined, items: [], original: [], revisions: [], state };
  const planner = await choosePlanner(deps, person);
  const intensity = intensityOn(person, state.today);
  let choice: PolicyChoice | undefined;
  try {
    choice = await planner.choose({
      habits: state.specs,
      emas: state.emasYesterday,
      day: state.today,
      intensity,
    });
  } catch (error) {
    deps.log.warn({ err: error, userId: person.id }, "policy planner failed; using heuristic");
    choice = undefined;
  }
  const rng = createRng(planSeed(person.id, state.today));
  const planned = planForDay(state.specs, state.emasYesterday, rng, {
    capacityMinutes: person.capacityMinutes ?? undefined,
    policyLevels: choice?.policyLevels,
    // a UDRL coach followed the intensity as its command; any other plan is scaled by it
    intensity: choice !== undefined && planner.followsIntensity ? undefined : intensity.intensity,
  });
  const usedPolicy = choice !== undefined;
  const plan = await storePlanOnce(deps.db, person.id, state.today, {
    items: planned.map((p) => ({ habitId: Number(p.habitId), level: p.level, amount: p.amount })),
    logProb: usedPolicy ? choice!.logProb : null,
    producedBy: usedPolicy ? planner.producedBy : heuristicPlanner.producedBy,
    modelId: usedPolicy ? planner.modelId : null,
    intensity: intensity.intensity,
    intensityUntil: intensity.until,
  });
  return { plan, ...(await planAsChanged(deps.db, plan, state.habits)), state };
}

/** Records that today's plan went out (the morning push) and as which message. */
export async function recordPlanSent(
  deps: Pick<AppDeps, "db" | "now">,
  planId: number,
  messageId: number,
): Promise<void> {
  await markPlanSent(deps.db, planId, messageId, deps.now());
}
