// Reads what a person's sheet shows with the loader /export uses (loadPersonData) and turns
// it into the plain data the layout needs: days in the person's zone, habit names and units,
// and the person's training runs as /runs summarises them (listRuns).

import { listRuns } from "../app/runs.js";
import { dayOf, type LocalDate } from "../coach/days.js";
import { revisedPlan } from "../coach/plan-steering.js";
import type { Database } from "../db/client.js";
import { fromDbDate } from "../db/dates.js";
import { habitLifetimesOf } from "../db/habits.js";
import { loadPersonData, type PersonPart } from "../db/person-data.js";
import { revisionsOfPlans } from "../db/plan-revisions.js";
import { planItemsOf } from "../db/plans.js";
import type { Plan, PlanRevision } from "../generated/prisma/client.js";
import type { PersonSheetData, SheetHabit, SheetPlanRevision } from "./layout.js";

/** The plan after each of its revisions, numbered from 1 (who changed it: "you (chat)" …). */
function revisionsOf(
  plan: Plan,
  all: PlanRevision[],
  levels: Map<number, number[]>,
): SheetPlanRevision[] {
  const mine = all.filter((r) => r.planId === plan.id);
  const original = planItemsOf(plan);
  return mine.map((r, i) => ({
    revision: i + 1,
    producedBy: `you (${r.via})`,
    items: revisedPlan(original, mine.slice(0, i + 1), (id) => levels.get(id) ?? [0]).map(
      (item) => ({ habitId: item.habitId, amount: item.amount }),
    ),
  }));
}

/** The Coach tab lists at most this many training runs (the latest). */
export const MAX_COACH_RUNS = 500;

const SHEET_PARTS = [
  "habits",
  "entries",
  "plans",
  "metrics",
  "samples",
] as const satisfies readonly PersonPart[];

/** The person's data for the sheet as of `now`; null when the person no longer exists. */
export async function loadPersonSheetData(
  db: Database,
  userId: number,
  now: Date,
): Promise<PersonSheetData | null> {
  const person = await loadPersonData(db, userId, SHEET_PARTS);
  if (person === null) return null;
  const { user, entries, plans, metrics } = person;
  // the sheet lists habits in the person's order and samples in time order
  const habits = person.habits.toSorted((a, b) => a.sortOrder - b.sortOrder || a.id - b.id);
  const samples = person.samples.toSorted(
    (a, b) => a.measuredAt.getTime() - b.measuredAt.getTime() || Number(a.id - b.id),
  );
  const dayIn = (instant: Date): LocalDate => {
    try {
      return dayOf(instant, user.timezone, user.dayStartHour);
    } catch {
      return instant.toISOString().slice(0, 10);
    }
  };
  const lifetimes = habitLifetimesOf(habits, entries, dayIn);
  const sheetHabits: SheetHabit[] = habits.map((h, i) => ({
    id: h.id,
    name: h.name,
    unit: h.unit,
    createdAt: h.createdAt,
    archivedAt: h.archivedAt,
    ...lifetimes[i]!,
  }));
  const revisions = await revisionsOfPlans(
    db,
    plans.map((p) => p.id),
  );
  const levels = new Map(habits.map((h) => [h.id, h.levels]));
  const runs = await listRuns(
    { db, now: () => now },
    { telegramId: user.telegramId, limit: MAX_COACH_RUNS },
  );
  return {
    today: dayIn(now),
    habits: sheetHabits,
    entries: entries.map((e) => ({
      id: e.id,
      habitId: e.habitId,
      day: fromDbDate(e.day),
      amount: e.amount,
      source: e.source,
      createdAt: e.createdAt,
      retractedAt: e.retractedAt,
    })),
    plans: plans.map((plan) => ({
      id: plan.id,
      day: fromDbDate(plan.day),
      producedBy: plan.producedBy,
      items: planItemsOf(plan).map((i) => ({ habitId: i.habitId, amount: i.amount })),
      revisions: revisionsOf(plan, revisions, levels),
    })),
    metrics: metrics.map((m) => ({ id: m.id, name: m.name, unit: m.unit })),
    samples: samples.map((s) => ({
      id: s.id,
      metricId: s.metricId,
      value: s.value,
      measuredAt: s.measuredAt,
    })),
    runs: runs.map((r) => ({
      id: r.id,
      at: r.createdAt,
      trigger: r.trigger,
      status: r.status,
      behaviour: r.behaviour,
      before: r.before,
      after: r.after,
      activated: r.activated,
    })),
  };
}
