// Reads what a person changed in their sheet (pure): the Entries, Habits and Plans tabs as read
// (unformatted values, dates as serial numbers) compared with the database and with what the
// mirror last wrote, giving
//   - the edits to apply (src/app/sheet-edits.ts applies them through the use cases), and
//   - the cells that cannot be taken (text where a number belongs, a future day, an unknown
//     habit), which stay in the sheet with a note and are reported in the chat once.
// Only these cells are read: Entries amount (rows with an id) and whole rows without an id (new
// entries: day, habit, amount); Habits target, days/week and levels; today's planned amounts.
// Everything else in the mirrored tabs is the mirror's and is rewritten.

import type { SheetCellRef, SheetEdit } from "../app/sheet-edits.js";
import { foldName } from "../coach/habits.js";
import type { LocalDate } from "../coach/index.js";
import {
  type Cell,
  daySerial,
  ENTRY_COL,
  ENTRY_COLUMNS,
  HABIT_EDITABLE,
  type HeldCell,
  type HeldEdits,
  type HeldRow,
  levelsText,
  type PersonSheetData,
  PLAN_COL,
  serialDay,
} from "./layout.js";
import type { MirrorState } from "./sync.js";

/** The tabs read back (in this order, in one values.batchGet). */
export const EDITABLE_TABS = ["Habits", "Entries", "Plans"] as const;

/** Largest amount taken from a sheet cell (anything larger is a typo). */
export const MAX_SHEET_AMOUNT = 100_000;

export interface ReadBack {
  edits: SheetEdit[];
  /** invalid cells and typed rows, to keep in the sheet with a note */
  held: HeldEdits;
  /** held cells and rows not reported before (to tell the person once) */
  newlyHeld: { where: string; value: Cell; note: string }[];
  /** keys of every held cell or row now (replaces MirrorState.reported) */
  reported: string[];
}

/** A cell as read: a number, text (trimmed), or null when empty. */
function cellOf(value: unknown): Cell {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (typeof value === "string") {
    const t = value.trim();
    return t === "" ? null : t;
  }
  return null;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; note: string };

function amountOf(cell: Cell): Parsed<number> {
  const n =
    typeof cell === "number" ? cell : cell === null ? Number.NaN : Number(cell.replace(",", "."));
  if (cell === null) return { ok: false, note: "Type an amount (0 takes the entry back)." };
  if (!Number.isFinite(n)) return { ok: false, note: `“${cell}” is not a number.` };
  if (n < 0) return { ok: false, note: "An amount cannot be negative." };
  if (n > MAX_SHEET_AMOUNT) return { ok: false, note: `${n} is more than ${MAX_SHEET_AMOUNT}.` };
  return { ok: true, value: n };
}

function dayOf(cell: Cell, today: LocalDate): Parsed<LocalDate> {
  let day: LocalDate | undefined;
  if (typeof cell === "number" && cell > 0 && cell < 2_958_466) day = serialDay(cell);
  else if (typeof cell === "string" && /^\d{4}-\d{2}-\d{2}$/.test(cell)) {
    const d = new Date(`${cell}T00:00:00Z`);
    if (!Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === cell) day = cell;
  }
  if (day === undefined) {
    return {
      ok: false,
      note: cell === null ? "Type the day (yyyy-mm-dd)." : `“${cell}” is not a day (yyyy-mm-dd).`,
    };
  }
  if (day > today) return { ok: false, note: `${day} is in the future.` };
  return { ok: true, value: day };
}

function integerOf(cell: Cell, min: number, max: number, what: string): Parsed<number> {
  const n = typeof cell === "number" ? cell : cell === null ? Number.NaN : Number(cell);
  if (!Number.isInteger(n) || n < min || n > max) {
    return { ok: false, note: `${what} must be a whole number from ${min} to ${max}.` };
  }
  return { ok: true, value: n };
}

function levelsOf(cell: Cell): Parsed<number[]> {
  const text = typeof cell === "number" ? String(cell) : (cell ?? "");
  const parts = text.split(/[,;\s]+/).filter((p) => p !== "");
  const levels = parts.map(Number);
  if (parts.length === 0 || levels.some((l) => !Number.isFinite(l))) {
    return { ok: false, note: "Levels are numbers separated by commas, e.g. 0, 15, 30." };
  }
  return { ok: true, value: levels };
}

const same = (a: Cell, b: Cell) => a === b || (a !== null && b !== null && String(a) === String(b));

export interface ReadBackInput {
  userId: number;
  data: PersonSheetData;
  /** per plan day, the plan's id (for revisions of today's plan) */
  planIds: Record<LocalDate, number>;
  state: MirrorState;
  /** today's planned amounts per habit id as they are now (revisions included) */
  currentPlan?: Record<string, number>;
  /** rows of each tab as read, header first */
  values: Record<string, unknown[][]>;
}

/** What the person changed in the sheet, and what cannot be taken. */
export function readBack(input: ReadBackInput): ReadBack {
  const { data, state } = input;
  const edits: SheetEdit[] = [];
  const cells: HeldCell[] = [];
  const rows: HeldRow[] = [];
  const held = new Map(state.held.cells.map((h) => [`${h.tab}|${h.row}|${h.col}`, h]));
  const wasHeld = (tab: string, row: string, col: number, value: Cell) => {
    const h = held.get(`${tab}|${row}|${col}`);
    return h !== undefined && same(h.value, value);
  };
  const hold = (ref: SheetCellRef, note: string) => cells.push({ ...ref, note });
  const habitByName = new Map<string, number>();
  for (const h of data.habits) {
    for (const n of [h.name, ...h.spec.aliases]) habitByName.set(foldName(n), h.id);
  }

  // Entries: changed amounts of stored entries, and rows typed without an id
  const entries = new Map(data.entries.map((e) => [String(e.id), e]));
  const entryRows = (input.values.Entries ?? []).slice(1);
  entryRows.forEach((raw, i) => {
    const row = ENTRY_COLUMNS.map((_, c) => cellOf(raw?.[c]));
    const id = row[ENTRY_COL.id];
    if (id !== null) {
      const entry = entries.get(String(id));
      if (entry === undefined) return; // not ours to read: rewritten
      const key = `entry:${entry.id}`;
      const cell = row[ENTRY_COL.amount]!;
      if (same(cell, entry.amount) || wasHeld("Entries", key, ENTRY_COL.amount, cell)) {
        if (wasHeld("Entries", key, ENTRY_COL.amount, cell)) {
          hold(
            { tab: "Entries", row: key, col: ENTRY_COL.amount, value: cell },
            held.get(`Entries|${key}|${ENTRY_COL.amount}`)!.note,
          );
        }
        return;
      }
      const ref: SheetCellRef = { tab: "Entries", row: key, col: ENTRY_COL.amount, value: cell };
      const amount = amountOf(cell);
      if (!amount.ok) hold(ref, amount.note);
      else if (amount.value !== entry.amount) {
        edits.push({ kind: "correction", entryId: entry.id, amount: amount.value, cells: [ref] });
      }
      return;
    }
    const typed = [row[ENTRY_COL.day], row[ENTRY_COL.habit], row[ENTRY_COL.amount]];
    if (typed.every((c) => c === null)) return;
    const notes: Record<number, string> = {};
    const day = dayOf(row[ENTRY_COL.day], data.today);
    if (!day.ok) notes[ENTRY_COL.day] = day.note;
    const name = row[ENTRY_COL.habit];
    const habitId = name === null ? undefined : habitByName.get(foldName(String(name)));
    if (habitId === undefined) {
      notes[ENTRY_COL.habit] =
        name === null
          ? "Type the habit's name."
          : `No habit called “${name}” (habits: ${data.habits.map((h) => h.name).join(", ")}).`;
    }
    const amount = amountOf(row[ENTRY_COL.amount]);
    if (!amount.ok) notes[ENTRY_COL.amount] = amount.note;
    if (day.ok && habitId !== undefined && amount.ok) {
      edits.push({
        kind: "new-entry",
        habitId,
        day: day.value,
        amount: amount.value,
        key: `sheet:${input.userId}:row:${i + 1}:${day.value}:${habitId}:${amount.value}`,
        cells: [
          {
            tab: "Entries",
            row: `new:${rows.length}`,
            col: ENTRY_COL.amount,
            value: row[ENTRY_COL.amount],
          },
        ],
      });
    } else {
      rows.push({ cells: row, notes });
    }
  });

  // Habits: target, days/week, levels
  const habits = new Map(data.habits.map((h) => [String(h.id), h]));
  for (const raw of (input.values.Habits ?? []).slice(1)) {
    const id = cellOf(raw?.[0]);
    const habit = id === null ? undefined : habits.get(String(id));
    if (habit === undefined) continue;
    const key = `habit:${habit.id}`;
    const written = state.habits[String(habit.id)] ?? {
      target: habit.spec.target,
      daysPerWeek: habit.spec.daysPerWeek,
      levels: levelsText(habit.spec.levels),
    };
    const change: Extract<SheetEdit, { kind: "habit" }>["change"] = {};
    const refs: SheetCellRef[] = [];
    const now = {
      target: habit.spec.target,
      daysPerWeek: habit.spec.daysPerWeek,
      levels: levelsText(habit.spec.levels),
    };
    let chatChanged = false;
    const fields = [
      ["target", HABIT_EDITABLE.target, written.target],
      ["daysPerWeek", HABIT_EDITABLE.daysPerWeek, written.daysPerWeek],
      ["levels", HABIT_EDITABLE.levels, written.levels],
    ] as const;
    for (const [field, col, before] of fields) {
      const cell = cellOf(raw?.[col]);
      if (same(cell, before)) continue;
      const ref: SheetCellRef = { tab: "Habits", row: key, col, value: cell };
      if (wasHeld("Habits", key, col, cell)) {
        hold(ref, held.get(`Habits|${key}|${col}`)!.note);
        continue;
      }
      if (!same(now[field], before)) chatChanged = true;
      if (field === "target") {
        const target = amountOf(cell);
        if (!target.ok || target.value === 0)
          hold(ref, target.ok ? "A target must be more than 0." : target.note);
        else change.target = target.value;
      } else if (field === "daysPerWeek") {
        const days = integerOf(cell, 1, 7, "Days per week");
        if (!days.ok) hold(ref, days.note);
        else change.daysPerWeek = days.value;
      } else {
        const levels = levelsOf(cell);
        if (!levels.ok) hold(ref, levels.note);
        else if (levelsText(levels.value) !== before) change.levels = levels.value;
      }
      if (!cells.some((c) => c.row === key && c.col === col)) refs.push(ref);
    }
    if (Object.keys(change).length > 0) {
      edits.push({ kind: "habit", habitId: habit.id, change, cells: refs, chatChanged });
    }
  }

  // Plans: today's planned amounts (the latest row of each habit today)
  const todaySerial = daySerial(data.today);
  const planId = input.planIds[data.today];
  const written = state.plan?.day === data.today ? state.plan.amounts : undefined;
  if (planId !== undefined && written !== undefined) {
    const latest = new Map<number, Cell>();
    for (const raw of (input.values.Plans ?? []).slice(1)) {
      const day = cellOf(raw?.[PLAN_COL.day]);
      if (!(day === todaySerial || day === data.today)) continue;
      const name = cellOf(raw?.[PLAN_COL.habit]);
      const habitId = name === null ? undefined : habitByName.get(foldName(String(name)));
      if (habitId !== undefined) latest.set(habitId, cellOf(raw?.[PLAN_COL.amount]));
    }
    for (const [habitId, cell] of latest) {
      const before = written[String(habitId)];
      if (before === undefined || same(cell, before)) continue;
      const key = `plan:${data.today}:${habitId}`;
      const ref: SheetCellRef = { tab: "Plans", row: key, col: PLAN_COL.amount, value: cell };
      if (wasHeld("Plans", key, PLAN_COL.amount, cell)) {
        hold(ref, held.get(`Plans|${key}|${PLAN_COL.amount}`)!.note);
        continue;
      }
      const amount = amountOf(cell);
      if (!amount.ok) hold(ref, amount.note);
      else if (input.currentPlan?.[String(habitId)] === amount.value) {
        // already the plan (taken at an earlier read): nothing to do
      } else {
        const current = input.currentPlan?.[String(habitId)];
        const chatChanged = current !== undefined && current !== before;
        edits.push({
          kind: "plan",
          planId,
          habitId,
          amount: amount.value,
          cells: [ref],
          chatChanged,
        });
      }
    }
  }

  const keyOfCell = (c: HeldCell) => `${c.tab}|${c.row}|${c.col}|${String(c.value)}`;
  const keyOfRow = (r: HeldRow) => `Entries|new|${JSON.stringify(r.cells.slice(1, 4))}`;
  const before = new Set(state.reported);
  const newlyHeld: ReadBack["newlyHeld"] = [];
  for (const c of cells) {
    if (!before.has(keyOfCell(c))) {
      newlyHeld.push({ where: `${c.tab} ${whereOf(c, data)}`, value: c.value, note: c.note });
    }
  }
  for (const r of rows) {
    if (!before.has(keyOfRow(r))) {
      newlyHeld.push({
        where: "Entries (new row)",
        value: r.cells
          .slice(1, 4)
          .map((c, i) => (i === 0 && typeof c === "number" && c > 0 ? serialDay(c) : (c ?? "")))
          .join(" · "),
        note: Object.values(r.notes).join(" "),
      });
    }
  }
  return {
    edits,
    held: { cells, rows },
    newlyHeld,
    reported: [...cells.map(keyOfCell), ...rows.map(keyOfRow)],
  };
}

/** Names a held cell for the person: the habit or entry and the column. */
function whereOf(c: HeldCell, data: PersonSheetData): string {
  const [kind, id, extra] = c.row.split(":");
  if (kind === "habit") {
    const h = data.habits.find((x) => String(x.id) === id);
    const column = Object.entries(HABIT_EDITABLE).find(([, col]) => col === c.col)?.[0] ?? "";
    return `${h?.name ?? "habit"} ${column === "daysPerWeek" ? "days/week" : column}`.trim();
  }
  if (kind === "entry") {
    const e = data.entries.find((x) => String(x.id) === id);
    const h = data.habits.find((x) => x.id === e?.habitId);
    return `${e?.day ?? ""} ${h?.name ?? ""} amount`.trim();
  }
  const h = data.habits.find((x) => String(x.id) === extra);
  return `${id} ${h?.name ?? ""} planned amount`.trim();
}
