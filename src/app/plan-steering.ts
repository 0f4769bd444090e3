// Steering today's plan: "not today", another amount, one habit instead of another — typed
// ("skip run", "run 20 instead", "swap run swim") or tapped on the plan's buttons. Each change is
// appended as a revision of the day's plan (src/db/plan-revisions.ts); the plan the planner
// produced is never overwritten. The rules live in the coach core (src/coach/plan-steering.ts);
// the Telegram adapter words the outcomes.

import { daysBetween, parseReport } from "../coach/index.js";
import {
  type PlanChangeKind,
  planChange,
  readSteeringPhrase,
  resolveSteering,
  type SteeringRequest,
} from "../coach/plan-steering.js";
import { fromDbDate } from "../db/dates.js";
import { appendRevisions, revisionsWithKeys } from "../db/plan-revisions.js";
import { type PlanSettingsChange, updatePlanSettings } from "../db/plan-settings.js";
import { findPlanById, type PlanItem } from "../db/plans.js";
import type { EntrySource, Habit, Plan, User } from "../generated/prisma/client.js";
import { type CoachState, loadCoachState } from "./coach-state.js";
import type { AppDeps } from "./deps.js";
import { planAsChanged, todaysPlan } from "./planning.js";

/** Who changes the plan, how, and the key that makes a re-delivered update change it once. */
export interface ChangeAuthor {
  /** the Telegram id of who made the change */
  changedBy: bigint;
  via: EntrySource;
  /** idempotency key of the revision at `position` (planRevisionKey of the update) */
  keyOf: (position: number) => string;
}

export interface AppliedChange {
  habit: Habit;
  change: PlanChangeKind;
  fromAmount: number;
  toAmount: number;
}

export type SteeringOutcome =
  /** the text is not about changing the plan: read it as a report */
  | { kind: "not-steering" }
  | { kind: "no-habits" }
  | { kind: "not-understood"; problems: string[]; habits: Habit[] }
  /** a button of another person's plan, or of a plan that does not exist */
  | { kind: "not-this-plan" }
  /** a button of an earlier day's plan: only today's plan can be changed */
  | { kind: "not-today-plan"; day: string; today: string }
  | {
      kind: "refused";
      reason: "not-planned" | "same-amount" | "yes-no-habit" | "not-an-amount";
      habit: Habit;
      amount: number;
    }
  | {
      kind: "changed";
      changes: AppliedChange[];
      /** nothing new was stored (a re-delivered update) */
      duplicate: boolean;
      plan: Plan;
      /** the plan as changed now */
      items: PlanItem[];
      original: PlanItem[];
      state: CoachState;
    };

/**
 * A typed steering message ("skip run", "run 20 instead", "swap run swim") applied to today's
 * plan. Text that is not such a message, or that reads as a report once its habit names fail to
 * match ("skip rope 100" for a habit "skip rope"), comes back as "not-steering".
 */
export async function steerPlanByText(
  deps: Pick<AppDeps, "db" | "log" | "now" | "loadPolicyPlanner">,
  person: User,
  text: string,
  author: ChangeAuthor,
): Promise<SteeringOutcome> {
  const phrase = readSteeringPhrase(text);
  if (!phrase) return { kind: "not-steering" };
  const today = await todaysPlan(deps, person);
  const { state } = today;
  if (state.habits.length === 0 || !today.plan) return { kind: "no-habits" };
  const resolved = resolveSteering(phrase, state.specs, state.today);
  if (!resolved.ok) {
    const asReport = parseReport(text, state.specs, { today: state.today, backfillDays: 7 });
    if (asReport.ok) return { kind: "not-steering" };
    return { kind: "not-understood", problems: resolved.problems, habits: state.habits };
  }
  return applyRequest(deps, person, today.plan, resolved.value, author);
}

/** A tap on a plan button: the habit's amount today becomes `amount` (0 = not today). */
export async function changePlannedAmount(
  deps: Pick<AppDeps, "db" | "now">,
  person: User,
  tap: { planId: number; habitId: number; amount: number },
  author: ChangeAuthor,
): Promise<SteeringOutcome> {
  const plan = await findPlanById(deps.db, tap.planId);
  if (!plan || plan.userId !== person.id) return { kind: "not-this-plan" };
  const request: SteeringRequest =
    tap.amount === 0
      ? { kind: "not-today", habitId: String(tap.habitId) }
      : { kind: "amount", habitId: String(tap.habitId), amount: tap.amount };
  return applyRequest(deps, person, plan, request, author);
}

/** A tap on a swap button: `outId` not today, `inId` instead. */
export async function swapPlannedHabit(
  deps: Pick<AppDeps, "db" | "now">,
  person: User,
  tap: { planId: number; outId: number; inId: number },
  author: ChangeAuthor,
): Promise<SteeringOutcome> {
  const plan = await findPlanById(deps.db, tap.planId);
  if (!plan || plan.userId !== person.id) return { kind: "not-this-plan" };
  const request: SteeringRequest = {
    kind: "swap",
    outId: String(tap.outId),
    inId: String(tap.inId),
  };
  return applyRequest(deps, person, plan, request, author);
}

async function applyRequest(
  deps: Pick<AppDeps, "db" | "now">,
  person: User,
  plan: Plan,
  request: SteeringRequest,
  author: ChangeAuthor,
): Promise<SteeringOutcome> {
  const state = await loadCoachState(deps.db, person, deps.now());
  const day = fromDbDate(plan.day);
  if (daysBetween(day, state.today) !== 0) {
    return { kind: "not-today-plan", day, today: state.today };
  }
  const byId = new Map(state.habits.map((h) => [h.id, h]));
  const named = request.kind === "swap" ? [request.outId, request.inId] : [request.habitId];
  for (const id of named) {
    if (!byId.has(Number(id))) return { kind: "not-this-plan" }; // not theirs, or archived
  }
  // a re-delivered update (its reply failed after the change was stored) answers as before
  const earlier = await revisionsWithKeys(deps.db, [author.keyOf(0), author.keyOf(1)]);
  if (earlier.length > 0) {
    const now = await planAsChanged(deps.db, plan, state.habits);
    return {
      kind: "changed",
      changes: earlier.map((r) => ({
        habit: byId.get(r.habitId)!,
        change: r.change,
        fromAmount: r.fromAmount,
        toAmount: r.toAmount,
      })),
      duplicate: true,
      plan,
      items: now.items,
      original: now.original,
      state,
    };
  }
  const before = await planAsChanged(deps.db, plan, state.habits);
  const outcome = planChange(request, before.items, state.specs);
  if (!outcome.ok) {
    return {
      kind: "refused",
      reason: outcome.reason,
      habit: byId.get(outcome.habitId)!,
      amount: outcome.amount,
    };
  }
  const inserted = await appendRevisions(
    deps.db,
    plan,
    { changedBy: author.changedBy, via: author.via },
    outcome.changes.map((c, position) => ({ ...c, idempotencyKey: author.keyOf(position) })),
  );
  const after = await planAsChanged(deps.db, plan, state.habits);
  return {
    kind: "changed",
    changes: outcome.changes.map((c) => ({ ...c, habit: byId.get(c.habitId)! })),
    duplicate: inserted === 0,
    plan,
    items: after.items,
    original: after.original,
    state,
  };
}

export type PlanItemChoices =
  | { kind: "not-this-plan" }
  | { kind: "not-today-plan"; day: string; today: string }
  | {
      kind: "choices";
      plan: Plan;
      habit: Habit;
      /** the plan as changed now */
      items: PlanItem[];
      state: CoachState;
    };

/** What the “Change” button of a plan item offers: the item in the plan as changed now. */
export async function planItemChoices(
  deps: Pick<AppDeps, "db" | "now">,
  person: User,
  tap: { planId: number; habitId: number },
): Promise<PlanItemChoices> {
  const plan = await findPlanById(deps.db, tap.planId);
  const state = await loadCoachState(deps.db, person, deps.now());
  const habit = state.habits.find((h) => h.id === tap.habitId);
  if (!plan || plan.userId !== person.id || !habit) return { kind: "not-this-plan" };
  const day = fromDbDate(plan.day);
  if (day !== state.today) return { kind: "not-today-plan", day, today: state.today };
  const { items } = await planAsChanged(deps.db, plan, state.habits);
  return { kind: "choices", plan, habit, items, state };
}

/**
 * Changes the person's daily capacity (minutes a day the plan may take; null = no limit) or
 * evening check-in time (local "HH:MM"; null = off). Capacity applies from the next plan on:
 * today's stored plan stays as it is.
 */
export async function changePlanSettings(
  deps: Pick<AppDeps, "db">,
  person: User,
  change: PlanSettingsChange,
): Promise<User> {
  return updatePlanSettings(deps.db, person.id, change);
}
