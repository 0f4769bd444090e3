// What a person's sheet shows, as plain rows (pure: no I/O). Four tabs, each rewritten in full
// on every sync, header first:
//   Entries  every report, undone ones included, in the order they were stored
//   Daily    one row per day from the first habit day to today: reward and EMA per habit
//   Plans    one row per planned habit per day
//   Metrics  every measurement (body weight and other metrics), oldest first
// Cells are strings or numbers; they are written with valueInputOption RAW, so text such as
// "=1+1" stays text.
import { addDays, type LocalDate } from "../coach/days.js";
import {
  emaSeries,
  type HabitEntryLike,
  type HabitLifetime,
  lifetimeOptions,
} from "../coach/ema.js";

export type Cell = string | number;

export interface Tab {
  title: string;
  /** header row first */
  rows: Cell[][];
}

export interface SheetHabit extends HabitLifetime {
  id: number;
  name: string;
  unit: string;
}

export interface SheetEntry {
  id: bigint;
  habitId: number;
  day: LocalDate;
  amount: number;
  source: string;
  createdAt: Date;
  retractedAt: Date | null;
}

export interface SheetPlan {
  day: LocalDate;
  producedBy: string;
  items: { habitId: number; amount: number }[];
}

export interface SheetMetric {
  id: number;
  name: string;
  unit: string;
}

export interface SheetSample {
  id: bigint;
  metricId: number;
  value: number;
  measuredAt: Date;
}

export interface PersonSheetData {
  today: LocalDate;
  habits: SheetHabit[];
  entries: SheetEntry[];
  plans: SheetPlan[];
  metrics: SheetMetric[];
  samples: SheetSample[];
}

export const TAB_TITLES = ["Entries", "Daily", "Plans", "Metrics"] as const;

export const ENTRY_HEADER = [
  "day",
  "habit",
  "amount",
  "unit",
  "source",
  "reported at (UTC)",
  "undone at (UTC)",
];
export const PLAN_HEADER = ["day", "habit", "planned amount", "unit", "produced by"];
export const METRIC_HEADER = ["measured at (UTC)", "metric", "value", "unit"];

/** At most this many days of Daily rows (ten years); older days are left out. */
export const MAX_DAILY_DAYS = 3660;

const round = (x: number, digits = 4) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

function entriesTab(data: PersonSheetData): Tab {
  const habit = new Map(data.habits.map((h) => [h.id, h]));
  const rows: Cell[][] = [ENTRY_HEADER];
  const ordered = [...data.entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const e of ordered) {
    const h = habit.get(e.habitId);
    rows.push([
      e.day,
      h?.name ?? `habit ${e.habitId}`,
      e.amount,
      h?.unit ?? "",
      e.source,
      e.createdAt.toISOString(),
      e.retractedAt === null ? "" : e.retractedAt.toISOString(),
    ]);
  }
  return { title: "Entries", rows };
}

function dailyTab(data: PersonSheetData): Tab {
  const header: Cell[] = ["day", "reward", ...data.habits.map((h) => `${h.name} EMA`)];
  const rows: Cell[][] = [header];
  if (data.habits.length === 0) return { title: "Daily", rows };
  let from = data.habits.reduce((min, h) => (h.startDay < min ? h.startDay : min), data.today);
  const earliest = addDays(data.today, -(MAX_DAILY_DAYS - 1));
  if (from < earliest) from = earliest;
  const entries: HabitEntryLike[] = data.entries.map((e) => ({
    habitId: String(e.habitId),
    day: e.day,
    amount: e.amount,
    retracted: e.retractedAt !== null,
  }));
  const states = emaSeries(
    data.habits.map((h) => h.spec),
    entries,
    from,
    data.today,
    lifetimeOptions(data.habits),
  );
  for (const s of states) {
    const active = Object.keys(s.emas).length > 0;
    rows.push([
      s.day,
      active ? round(s.reward) : "",
      ...data.habits.map((h) => {
        const ema = s.emas[h.spec.id];
        return ema === undefined ? "" : round(ema);
      }),
    ]);
  }
  return { title: "Daily", rows };
}

function plansTab(data: PersonSheetData): Tab {
  const habit = new Map(data.habits.map((h) => [h.id, h]));
  const rows: Cell[][] = [PLAN_HEADER];
  const ordered = [...data.plans].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  for (const p of ordered) {
    for (const item of p.items) {
      const h = habit.get(item.habitId);
      rows.push([
        p.day,
        h?.name ?? `habit ${item.habitId}`,
        item.amount,
        h?.unit ?? "",
        p.producedBy,
      ]);
    }
  }
  return { title: "Plans", rows };
}

function metricsTab(data: PersonSheetData): Tab {
  const metric = new Map(data.metrics.map((m) => [m.id, m]));
  const rows: Cell[][] = [METRIC_HEADER];
  const ordered = [...data.samples].sort(
    (a, b) =>
      a.measuredAt.getTime() - b.measuredAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  for (const s of ordered) {
    const m = metric.get(s.metricId);
    rows.push([
      s.measuredAt.toISOString(),
      m?.name ?? `metric ${s.metricId}`,
      s.value,
      m?.unit ?? "",
    ]);
  }
  return { title: "Metrics", rows };
}

/** The four tabs of a person's sheet, in TAB_TITLES order. */
export function sheetTabs(data: PersonSheetData): Tab[] {
  return [entriesTab(data), dailyTab(data), plansTab(data), metricsTab(data)];
}
