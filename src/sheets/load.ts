// Reads what a person's sheet shows from the database (the same tables /export reads) and turns
// it into the plain data the layout needs: days in the person's zone, habit names and units.
import { dayOf, type LocalDate } from "../coach/days.js";
import type { Database } from "../db/client.js";
import { fromDbDate } from "../db/dates.js";
import { habitLifetimesOf } from "../db/habits.js";
import { planItemsOf } from "../db/plans.js";
import type { PersonSheetData, SheetHabit } from "./layout.js";

/** The person's data for the sheet as of `now`; null when the person no longer exists. */
export async function loadPersonSheetData(
  db: Database,
  userId: number,
  now: Date,
): Promise<PersonSheetData | null> {
  const p = db.prisma;
  const user = await p.user.findUnique({ where: { id: userId } });
  if (user === null) return null;
  const [habits, entries, plans, metrics, samples] = await Promise.all([
    p.habit.findMany({ where: { userId }, orderBy: [{ sortOrder: "asc" }, { id: "asc" }] }),
    p.habitEntry.findMany({ where: { userId }, orderBy: { id: "asc" } }),
    p.plan.findMany({ where: { userId }, orderBy: { day: "asc" } }),
    p.metric.findMany({ where: { userId }, orderBy: { id: "asc" } }),
    p.metricSample.findMany({ where: { userId }, orderBy: [{ measuredAt: "asc" }, { id: "asc" }] }),
  ]);
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
    ...lifetimes[i]!,
  }));
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
      day: fromDbDate(plan.day),
      producedBy: plan.producedBy,
      items: planItemsOf(plan).map((i) => ({ habitId: i.habitId, amount: i.amount })),
    })),
    metrics: metrics.map((m) => ({ id: m.id, name: m.name, unit: m.unit })),
    samples: samples.map((s) => ({
      id: s.id,
      metricId: s.metricId,
      value: s.value,
      measuredAt: s.measuredAt,
    })),
  };
}
