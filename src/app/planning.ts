// Today's plan: generated once per person and day by the chosen planner (a trained policy when
// one is active, the heuristic otherwise), massaged by the coach core, stored, and read back.

import {
  type ExplorationSettings,
  explorationSeed,
  explorePlan,
  NO_EXPLORATION,
} from "../coach/exploration.js";
import {
  alphaFromSpan,
  compileHabits,
  createRng,
  DEFAULT_EMA_SPAN_DAYS,
  heuristicPlan,
  INITIAL_EMA,
  type LocalDate,
  planForDay,
} from "../coach/index.js";
import { revisedPlan } from "../coach/plan-steering.js";
import { revisionsOfPlan } from "../db/plan-revisions.js";
import {
  findPlan,
  markPlanSent,
  type PlanExploration,
  type PlanItem,
  planItemsOf,
  storePlanOnce,
} from "../db/plans.js";
import type { Habit, Plan, PlanRevision, User } from "../generated/prisma/client.js";
import { type CoachState, loadCoachState, todayOf } from "./coach-state.js";
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
  return planWithRevisions(plan, await revisionsOfPlan(db, plan.id), habits);
}

/** The same with the plan's revisions loaded already (a plan tap loads them with the state). */
export function planWithRevisions(
  plan: Plan,
  revisions: PlanRevision[],
  habits: Habit[],
): { items: PlanItem[]; original: PlanItem[]; revisions: PlanRevision[] } {
  const original = planItemsOf(plan);
  const levels = new Map(habits.map((h) => [h.id, h.levels]));
  const items = revisedPlan(original, revisions, (id) => levels.get(id) ?? [0]);
  return { items, original, revisions };
}

/**
 * The day's raw levels after controlled exploration (src/coach/exploration.ts): the greedy
 * levels (the policy's, else the heuristic's) with some habits left out on an exploratory day,
 * and the record stored with the plan; undefined levels and a null record when the day does not
 * explore (the plan is made exactly as without exploration). The draw is seeded by the person
 * and the day only.
 */
export function exploredLevels(
  state: Pick<CoachState, "specs" | "emasYesterday">,
  userId: number,
  day: LocalDate,
  greedy: ArrayLike<number> | undefined,
  settings: ExplorationSettings,
): { levels: Int32Array | undefined; exploration: PlanExploration | null } {
  if (!(settings.probability > 0)) return { levels: undefined, exploration: null };
  const compiled = compileHabits(state.specs);
  const emas = Float64Array.from(state.specs, (h) => state.emasYesterday[h.id] ?? INITIAL_EMA);
  const levels = greedy === undefined ? heuristicPlan(compiled, emas) : Int32Array.from(greedy);
  const explored = explorePlan(
    compiled,
    emas,
    levels,
    createRng(explorationSeed(planSeed(userId, day))),
    settings,
    alphaFromSpan(DEFAULT_EMA_SPAN_DAYS),
  );
  if (explored === null) return { levels: undefined, exploration: null };
  return {
    levels,
    exploration: {
      dropped: explored.dropped.map((h) => Number(state.specs[h].id)),
      greedy: state.specs.map((h, i) => ({
        habitId: Number(h.id),
        level: explored.greedyLevels[i],
      })),
      cost: explored.cost,
      probability: settings.probability,
      maxCost: settings.maxCost,
    },
  };
}

/**
 * Today's stored plan, generating and storing it first if there is none; `items` are the plan as
 * the person changed it (`original` as the planner produced it). With exploration configured
 * (deps.config.planExploration) some days plan fewer habits than the greedy plan, recorded in
 * Plan.exploration.
 */
export async function todaysPlan(
  deps: Pick<AppDeps, "db" | "log" | "now" | "loadPolicyPlanner"> & {
    config?: Pick<AppDeps["config"], "planExploration">;
  },
  person: User,
): Promise<TodayPlan> {
  // the state and the stored plan at once (the person's day needs no query)
  const now = deps.now();
  const [state, existing] = await Promise.all([
    loadCoachState(deps.db, person, now),
    findPlan(deps.db, person.id, todayOf(person, now)),
  ]);
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
  const explored = exploredLevels(
    state,
    person.id,
    state.today,
    choice?.policyLevels,
    deps.config?.planExploration ?? NO_EXPLORATION,
  );
  const rng = createRng(planSeed(person.id, state.today));
  const planned = planForDay(state.specs, state.emasYesterday, rng, {
    capacityMinutes: person.capacityMinutes ?? undefined,
    policyLevels: explored.levels ?? choice?.policyLevels,
    // a UDRL coach followed the intensity as its command; any other plan is scaled by it
    intensity: choice !== undefined && planner.followsIntensity ? undefined : intensity.intensity,
  });
  const usedPolicy = choice !== undefined;
  const plan = await storePlanOnce(deps.db, person.id, state.today, {
    items: planned.map((p) => ({ habitId: Number(p.habitId), level: p.level, amount: p.amount })),
    // the policy's log-probability is that of its greedy plan, not of an exploratory one
    logProb: usedPolicy && explored.exploration === null ? choice!.logProb : null,
    producedBy: usedPolicy ? planner.producedBy : heuristicPlanner.producedBy,
    modelId: usedPolicy ? planner.modelId : null,
    intensity: intensity.intensity,
    intensityUntil: intensity.until,
    exploration: explored.exploration,
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
