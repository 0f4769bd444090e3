// A person's recent history for fitting a behaviour model (src/rl/fit-behaviour.ts): per day,
// the planned amount per habit (or no plan) as the planner produced it, the amount done
// (non-retracted entries), and the person's own changes to the plan (plan revisions).
import { addDays, daysBetween, type LocalDate, weekdayOf } from "../coach/index.js";
import type { Database } from "./client.js";
import { fromDbDate, toDbDate } from "./dates.js";
import { revisionsOfPlans } from "./plan-revisions.js";
import { planItemsOf } from "./plans.js";

/**
 * One calendar day of a person's history, as stored: the shape `fitBehaviour` (src/rl) reads,
 * declared here because src/db does not import src/rl (the compiler checks that they agree where
 * src/app passes one to the other).
 */
export interface StoredDay {
  day: LocalDate;
  /** 0 = Monday … 6 = Sunday */
  weekday: number;
  /** planned amount per habit id; null when no plan was stored that day */
  planned: Record<string, number> | null;
  /** amount done per habit id (sum of non-retracted entries; missing = 0) */
  done: Record<string, number>;
  /** the amount the person chose by changing that day's plan (latest revision), per habit id */
  chosen?: Record<string, number>;
}

export interface PersonHistory {
  /** First and last day used (null when there is no history in the window). */
  from: LocalDate | null;
  to: LocalDate | null;
  /** One entry per day from `from` to `to`, keyed by habit id as text (HabitSpec.id). */
  days: StoredDay[];
}

/**
 * The `windowDays` complete days before `today` (today itself is not over yet), starting at the
 * first day in that window with a plan or an entry: days before someone started using the bot
 * are not "did nothing" days.
 */
export async function loadHistory(
  db: Database,
  userId: number,
  today: LocalDate,
  windowDays: number,
): Promise<PersonHistory> {
  const last = addDays(today, -1);
  const first = addDays(today, -windowDays);
  const range = { gte: toDbDate(first), lte: toDbDate(last) };
  const [plans, entries] = await Promise.all([
    db.prisma.plan.findMany({ where: { userId, day: range } }),
    db.prisma.habitEntry.findMany({
      where: { userId, retractedAt: null, day: range },
      select: { habitId: true, day: true, amount: true },
    }),
  ]);
  const planned = new Map<LocalDate, Record<string, number>>();
  for (const plan of plans) {
    const items: Record<string, number> = {};
    for (const item of planItemsOf(plan)) items[String(item.habitId)] = item.amount;
    planned.set(fromDbDate(plan.day), items);
  }
  // the person's changes to those plans: the latest revision per habit and day
  const dayOfPlan = new Map(plans.map((p) => [p.id, fromDbDate(p.day)]));
  const chosen = new Map<LocalDate, Record<string, number>>();
  for (const revision of await revisionsOfPlans(db, [...dayOfPlan.keys()])) {
    const day = dayOfPlan.get(revision.planId)!;
    const amounts = chosen.get(day) ?? {};
    amounts[String(revision.habitId)] = revision.toAmount;
    chosen.set(day, amounts);
  }
  const done = new Map<LocalDate, Record<string, number>>();
  for (const entry of entries) {
    const day = fromDbDate(entry.day);
    const amounts = done.get(day) ?? {};
    const id = String(entry.habitId);
    amounts[id] = (amounts[id] ?? 0) + entry.amount;
    done.set(day, amounts);
  }
  const active = [...planned.keys(), ...done.keys()].sort();
  if (active.length === 0) return { from: null, to: null, days: [] };
  const from = active[0];
  const days: PersonHistory["days"] = [];
  for (let i = 0; i <= daysBetween(from, last); i++) {
    const day = addDays(from, i);
    days.push({
      day,
      weekday: weekdayOf(day),
      planned: planned.get(day) ?? null,
      done: done.get(day) ?? {},
      ...(chosen.has(day) ? { chosen: chosen.get(day) } : {}),
    });
  }
  return { from, to: last, days };
}
