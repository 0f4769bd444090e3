// What a person's sheet shows, as plain rows (pure: no I/O). Six tabs, header row first:
//   Habits   one row per habit: settings, lifetime, EMA today (target, days/week and levels
//            may be edited in the sheet when edits flow back)
//   Entries  every report, undone ones included, in the order they were stored, then empty rows
//            for typing new ones (and rows typed by hand that were not taken, with a note)
//   Daily    one row per day from the first habit day to today: reward, reward per group, and
//            per habit the day's amount, its normalised value and its EMA
//   Plans    one row per planned habit per day (today's planned amount may be edited)
//   Metrics  every measurement (body weight and other metrics), oldest first
//   Coach    the person's training runs: when, on what behaviour, reward before/after, activated
// Days and instants are written as spreadsheet serial numbers with a date format, so the sheet
// sorts and charts them as dates; text is always written as text (never run as a formula).
import { addDays, epochDayOf, type LocalDate } from "../coach/days.js";
import {
  type DayState,
  dayAmount,
  emaSeries,
  type HabitLifetime,
  lifetimeOptions,
  normalisedValue,
} from "../coach/ema.js";

/** A cell: text, a number, or empty (null). */
export type Cell = string | number | null;

/** How a column's numbers are shown. */
export type ColumnFormat = "text" | "date" | "datetime" | "amount" | "ratio" | "integer";

export interface Column {
  header: string;
  format: ColumnFormat;
}

export interface Tab {
  title: TabTitle;
  columns: Column[];
  /** data rows (the header is columns[].header), each as long as columns */
  rows: Cell[][];
  /** notes on cells: key `${row}:${col}` with row an index into rows */
  notes: Record<string, string>;
}

export interface SheetHabit extends HabitLifetime {
  id: number;
  name: string;
  unit: string;
  createdAt: Date;
  archivedAt: Date | null;
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
  id: number;
  day: LocalDate;
  producedBy: string;
  items: { habitId: number; amount: number }[];
  /** revisions of the plan, oldest first (empty until plan revisions exist) */
  revisions: SheetPlanRevision[];
}

/** A revised plan for a day: hook for plan revisions (another table, added separately). */
export interface SheetPlanRevision {
  revision: number;
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

export interface SheetTrainingRun {
  id: number;
  at: Date;
  trigger: string;
  status: string;
  behaviour: string | null;
  before: number | null;
  after: number | null;
  activated: boolean;
}

/** A cell typed into the sheet that was not taken, kept where it is with a note. */
export interface HeldCell {
  tab: "Entries" | "Habits" | "Plans";
  /** entries: `entry:<id>` or `new:<n>` (typed rows, in the order typed); habits: `habit:<id>`;
   * plans: `plan:<day>:<habitId>` */
  row: string;
  col: number;
  value: Cell;
  note: string;
}

/** A row typed into Entries that was not taken, kept below the entries (cells as typed). */
export interface HeldRow {
  cells: Cell[];
  /** column → note */
  notes: Record<number, string>;
}

export interface PersonSheetData {
  today: LocalDate;
  habits: SheetHabit[];
  entries: SheetEntry[];
  plans: SheetPlan[];
  metrics: SheetMetric[];
  samples: SheetSample[];
  runs: SheetTrainingRun[];
}

export interface HeldEdits {
  cells: HeldCell[];
  rows: HeldRow[];
}

export const TAB_TITLES = ["Habits", "Entries", "Daily", "Plans", "Metrics", "Coach"] as const;
export type TabTitle = (typeof TAB_TITLES)[number];

const col = (header: string, format: ColumnFormat): Column => ({ header, format });

export const HABIT_COLUMNS: Column[] = [
  col("id", "integer"),
  col("habit", "text"),
  col("unit", "text"),
  col("kind", "text"),
  col("target", "amount"),
  col("days/week", "integer"),
  col("levels", "text"),
  col("exclusive group", "text"),
  col("created (UTC)", "datetime"),
  col("archived (UTC)", "datetime"),
  col("EMA today", "ratio"),
];
/** Habits columns a person may change in the sheet. */
export const HABIT_EDITABLE = { target: 4, daysPerWeek: 5, levels: 6 } as const;

export const ENTRY_COLUMNS: Column[] = [
  col("id", "integer"),
  col("day", "date"),
  col("habit", "text"),
  col("amount", "amount"),
  col("unit", "text"),
  col("source", "text"),
  col("reported at (UTC)", "datetime"),
  col("undone at (UTC)", "datetime"),
];
export const ENTRY_COL = { id: 0, day: 1, habit: 2, amount: 3 } as const;
/** Empty rows below the entries, for typing new ones. */
export const ENTRY_SPARE_ROWS = 20;

export const PLAN_COLUMNS: Column[] = [
  col("day", "date"),
  col("habit", "text"),
  col("planned amount", "amount"),
  col("unit", "text"),
  col("produced by", "text"),
  col("revision", "integer"),
];
export const PLAN_COL = { day: 0, habit: 1, amount: 2 } as const;

export const METRIC_COLUMNS: Column[] = [
  col("measured at (UTC)", "datetime"),
  col("metric", "text"),
  col("value", "amount"),
  col("unit", "text"),
];

export const COACH_COLUMNS: Column[] = [
  col("trained at (UTC)", "datetime"),
  col("run", "integer"),
  col("trigger", "text"),
  col("status", "text"),
  col("behaviour", "text"),
  col("reward before", "ratio"),
  col("reward after", "ratio"),
  col("activated", "text"),
];

/** At most this many days of Daily rows (ten years); older days are left out. */
export const MAX_DAILY_DAYS = 3660;

/** Days between the spreadsheet epoch (1899-12-30) and 1970-01-01. */
const SERIAL_EPOCH_OFFSET = 25569;

/** A calendar day as a spreadsheet date serial. */
export function daySerial(day: LocalDate): number {
  return epochDayOf(day) + SERIAL_EPOCH_OFFSET;
}

/** An instant as a spreadsheet date-time serial (UTC), to the millisecond. */
export function instantSerial(at: Date): number {
  return at.getTime() / 86_400_000 + SERIAL_EPOCH_OFFSET;
}

/** The calendar day of a date serial (whole days; a time part is dropped). */
export function serialDay(serial: number): LocalDate {
  const ms = (Math.floor(serial) - SERIAL_EPOCH_OFFSET) * 86_400_000;
  return new Date(ms).toISOString().slice(0, 10);
}

const round = (x: number, digits = 4) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

export function levelsText(levels: readonly number[]): string {
  return levels.join(", ");
}

function tab(title: TabTitle, columns: Column[], rows: Cell[][]): Tab {
  return { title, columns, rows, notes: {} };
}

/** Applies held cells (values typed that were not taken) to a tab, by row key. */
function holdCells(t: Tab, keys: string[], held: HeldCell[]): void {
  const index = new Map(keys.map((k, i) => [k, i]));
  for (const h of held) {
    if (h.tab !== t.title) continue;
    const row = index.get(h.row);
    if (row === undefined || h.col >= t.columns.length) continue;
    t.rows[row]![h.col] = h.value;
    t.notes[`${row}:${h.col}`] = h.note;
  }
}

function habitsTab(data: PersonSheetData, held: HeldEdits, today: DayState | undefined): Tab {
  const rows: Cell[][] = data.habits.map((h) => {
    const ema = today?.day === data.today ? today.emas[h.spec.id] : undefined;
    return [
      h.id,
      h.name,
      h.unit,
      h.spec.kind,
      h.spec.target,
      h.spec.daysPerWeek,
      levelsText(h.spec.levels),
      h.spec.exclusiveGroup ?? null,
      instantSerial(h.createdAt),
      h.archivedAt === null ? null : instantSerial(h.archivedAt),
      ema === undefined ? null : round(ema),
    ];
  });
  const t = tab("Habits", HABIT_COLUMNS, rows);
  holdCells(
    t,
    data.habits.map((h) => `habit:${h.id}`),
    held.cells,
  );
  return t;
}

function entriesTab(data: PersonSheetData, held: HeldEdits): Tab {
  const habit = new Map(data.habits.map((h) => [h.id, h]));
  const ordered = [...data.entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const rows: Cell[][] = ordered.map((e) => {
    const h = habit.get(e.habitId);
    return [
      Number(e.id),
      daySerial(e.day),
      h?.name ?? `habit ${e.habitId}`,
      e.amount,
      h?.unit ?? "",
      e.source,
      instantSerial(e.createdAt),
      e.retractedAt === null ? null : instantSerial(e.retractedAt),
    ];
  });
  const t = tab("Entries", ENTRY_COLUMNS, rows);
  holdCells(
    t,
    ordered.map((e) => `entry:${e.id}`),
    held.cells,
  );
  for (const r of held.rows) {
    const cells = ENTRY_COLUMNS.map((_, i) => r.cells[i] ?? null);
    t.rows.push(cells);
    for (const [c, note] of Object.entries(r.notes)) t.notes[`${t.rows.length - 1}:${c}`] = note;
  }
  for (let i = 0; i < ENTRY_SPARE_ROWS; i++) t.rows.push(ENTRY_COLUMNS.map(() => null));
  return t;
}

/** Daily's columns: day, reward, reward per actor group, then amount/normalised/EMA per habit. */
function dailyColumns(data: PersonSheetData, groups: number[]): Column[] {
  return [
    col("day", "date"),
    col("reward", "ratio"),
    ...groups.map((g) => col(`reward group ${g + 1}`, "ratio")),
    ...data.habits.flatMap((h) => [
      col(`${h.name} amount`, "amount"),
      col(`${h.name} normalised`, "ratio"),
      col(`${h.name} EMA`, "ratio"),
    ]),
  ];
}

/** Actor groups that have habits, in order (per-group rewards only when there are several). */
function actorGroups(data: PersonSheetData): number[] {
  const groups = [...new Set(data.habits.map((h) => h.spec.actorGroup))].sort((a, b) => a - b);
  return groups.length > 1 ? groups : [];
}

/** Every day's state (EMAs, reward, group rewards) from the first habit day to today. */
function dailyStates(data: PersonSheetData): DayState[] {
  if (data.habits.length === 0) return [];
  let from = data.habits.reduce((min, h) => (h.startDay < min ? h.startDay : min), data.today);
  const earliest = addDays(data.today, -(MAX_DAILY_DAYS - 1));
  if (from < earliest) from = earliest;
  return emaSeries(
    data.habits.map((h) => h.spec),
    data.entries.map((e) => ({
      habitId: String(e.habitId),
      day: e.day,
      amount: e.amount,
      retracted: e.retractedAt !== null,
    })),
    from,
    data.today,
    lifetimeOptions(data.habits),
  );
}

function dailyTab(data: PersonSheetData, states: DayState[]): Tab {
  const groups = actorGroups(data);
  const columns = dailyColumns(data, groups);
  const t = tab("Daily", columns, []);
  const amounts = new Map<string, number>();
  for (const e of data.entries) {
    if (e.retractedAt !== null || !Number.isFinite(e.amount)) continue;
    const key = `${e.day}|${e.habitId}`;
    amounts.set(key, (amounts.get(key) ?? 0) + e.amount);
  }
  for (const s of states) {
    const active = Object.keys(s.emas).length > 0;
    t.rows.push([
      daySerial(s.day),
      active ? round(s.reward) : null,
      ...groups.map((g) => (active ? round(s.groupRewards[g] ?? 0) : null)),
      ...data.habits.flatMap((h) => {
        const ema = s.emas[h.spec.id];
        if (ema === undefined) return [null, null, null];
        const amount = amounts.get(`${s.day}|${h.spec.id}`) ?? 0;
        const normalised = normalisedValue(h.spec, dayAmount(h.spec, amount));
        return [round(amount), round(normalised), round(ema)];
      }),
    ]);
  }
  return t;
}

function plansTab(data: PersonSheetData, held: HeldEdits): Tab {
  const habit = new Map(data.habits.map((h) => [h.id, h]));
  const rows: Cell[][] = [];
  const keys: string[] = [];
  const ordered = [...data.plans].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  for (const p of ordered) {
    const versions = [
      { revision: 0, producedBy: p.producedBy, items: p.items },
      ...p.revisions.filter((r) => r.revision > 0),
    ];
    for (const v of versions) {
      for (const item of v.items) {
        const h = habit.get(item.habitId);
        rows.push([
          daySerial(p.day),
          h?.name ?? `habit ${item.habitId}`,
          item.amount,
          h?.unit ?? "",
          v.producedBy,
          v.revision,
        ]);
        // the latest version's rows carry the key an edit is held under
        keys.push(v === versions.at(-1) ? `plan:${p.day}:${item.habitId}` : "");
      }
    }
  }
  const t = tab("Plans", PLAN_COLUMNS, rows);
  holdCells(t, keys, held.cells);
  return t;
}

function metricsTab(data: PersonSheetData): Tab {
  const metric = new Map(data.metrics.map((m) => [m.id, m]));
  const ordered = [...data.samples].sort(
    (a, b) =>
      a.measuredAt.getTime() - b.measuredAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return tab(
    "Metrics",
    METRIC_COLUMNS,
    ordered.map((s) => {
      const m = metric.get(s.metricId);
      return [
        instantSerial(s.measuredAt),
        m?.name ?? `metric ${s.metricId}`,
        s.value,
        m?.unit ?? "",
      ];
    }),
  );
}

function coachTab(data: PersonSheetData): Tab {
  const ordered = [...data.runs].sort((a, b) => a.id - b.id);
  return tab(
    "Coach",
    COACH_COLUMNS,
    ordered.map((r) => [
      instantSerial(r.at),
      r.id,
      r.trigger,
      r.status,
      r.behaviour,
      r.before === null ? null : round(r.before),
      r.after === null ? null : round(r.after),
      r.activated ? "yes" : "no",
    ]),
  );
}

const NO_HELD: HeldEdits = { cells: [], rows: [] };

/** The six tabs of a person's sheet, in TAB_TITLES order. */
export function sheetTabs(data: PersonSheetData, held: HeldEdits = NO_HELD): Tab[] {
  const states = dailyStates(data);
  return [
    habitsTab(data, held, states.at(-1)),
    entriesTab(data, held),
    dailyTab(data, states),
    plansTab(data, held),
    metricsTab(data),
    coachTab(data),
  ];
}

/** The Daily columns the chart shows: reward and every habit's EMA (column indexes). */
export function chartColumns(daily: Tab): { domain: number; series: number[] } {
  const series = daily.columns
    .map((c, i) => ({ c, i }))
    .filter(({ c, i }) => i === 1 || c.header.endsWith(" EMA"))
    .map(({ i }) => i);
  return { domain: 0, series };
}
