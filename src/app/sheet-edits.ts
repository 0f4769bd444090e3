// Edits made in a person's Google Sheet, taken into the database through the same rules as the
// chat (opt-in: /settings sheet edits on). The mirror (src/sheets) reads the sheet and proposes
// edits; this module applies each one as a use case and says what happened:
//   a new row in Entries        → a new entry (source "sheet"), idempotent by its key
//   a changed amount in Entries → a correction: the entry is retracted and a new one stored
//                                 (the log is never changed in place); 0 only retracts
//   a Habit's target, days/week or levels → editHabit (the coach core's validation)
//   today's planned amount      → a plan revision (changePlannedAmount, via "sheet")
// Conflict rule: the chat wins. An item changed in the chat since the sheet was last written
// (an entry undone, a habit's setting or today's planned amount changed) keeps the chat's value;
// the sheet's edit is not taken, and the next write shows the chat's value.
import type { HabitSpec, LocalDate } from "../coach/index.js";
import {
  entriesOfHabitOnDay,
  findEntryWithHabit,
  insertEntries,
  retractEntry,
} from "../db/entries.js";
import { findHabitById } from "../db/habits.js";
import { setSheetEditsEnabled, sheetLinkOf } from "../db/sheets.js";
import type { Habit, User } from "../generated/prisma/client.js";
import type { AppDeps } from "./deps.js";
import { editHabit } from "./habits.js";
import { changePlannedAmount } from "./plan-steering.js";

/** Where in the sheet an edit was made (for holding it with a note when it is not taken). */
export interface SheetCellRef {
  tab: "Entries" | "Habits" | "Plans";
  /** the row's key (see HeldCell in src/sheets/layout.ts) */
  row: string;
  col: number;
  value: string | number | null;
}

export type SheetHabitChange = Partial<Pick<HabitSpec, "target" | "daysPerWeek" | "levels">>;

export type SheetEdit =
  | {
      kind: "new-entry";
      habitId: number;
      day: LocalDate;
      amount: number;
      /** stable for the same typed row, so a re-read stores it once */
      key: string;
      cells: SheetCellRef[];
    }
  | { kind: "correction"; entryId: bigint; amount: number; cells: SheetCellRef[] }
  | {
      kind: "habit";
      habitId: number;
      change: SheetHabitChange;
      cells: SheetCellRef[];
      /** the chat changed the same fields since the sheet was written (a conflict) */
      chatChanged?: boolean;
    }
  | {
      kind: "plan";
      planId: number;
      habitId: number;
      amount: number;
      cells: SheetCellRef[];
      chatChanged?: boolean;
    };

export type SheetEditOutcome =
  | { kind: "entry-added"; habit: Habit; day: LocalDate; amount: number }
  | { kind: "entry-corrected"; habit: Habit; day: LocalDate; from: number; to: number }
  | { kind: "habit-changed"; habit: Habit; before: Habit }
  | { kind: "plan-changed"; habit: Habit; from: number; to: number }
  /** already taken at an earlier read (nothing new) */
  | { kind: "unchanged" }
  /** the chat changed the same item since the sheet was written: the chat's value stays */
  | { kind: "conflict"; edit: SheetEdit; habit: Habit | null; what: string }
  /** not taken: the cells stay in the sheet with a note saying why */
  | { kind: "refused"; edit: SheetEdit; reason: string };

/** Changes today's plan amount instead of the plan-revision use case (e.g. in a test). */
export type PlanReviser = (
  person: User,
  change: { planId: number; habitId: number; amount: number },
) => Promise<{ kind: "changed"; from: number; to: number } | { kind: "refused"; reason: string }>;

export interface SheetEditContext {
  /** when the sheet was last written: changes in the chat after it conflict with sheet edits */
  writtenAt: Date | null;
  /** default: changePlannedAmount (a plan revision via "sheet") */
  revisePlan?: PlanReviser;
}

/** The idempotency key of the correction of an entry from the sheet (one per entry). */
export function sheetCorrectionKey(entryId: bigint): string {
  return `sheet:fix:${entryId}`;
}

export type SheetEditsSetting = { kind: "no-sheet" } | { kind: "set"; enabled: boolean };

/** Turns taking edits from the person's linked sheet on or off. */
export async function setSheetEdits(
  deps: Pick<AppDeps, "db">,
  person: User,
  enabled: boolean,
): Promise<SheetEditsSetting> {
  if (!person.sheetId) return { kind: "no-sheet" };
  await setSheetEditsEnabled(deps.db, person.id, person.sheetId, enabled);
  return { kind: "set", enabled };
}

/** Whether edits in the person's linked sheet flow back. */
export async function sheetEditsEnabled(deps: Pick<AppDeps, "db">, person: User): Promise<boolean> {
  if (!person.sheetId) return false;
  // the setting outlives linking another sheet
  const link = await sheetLinkOf(deps.db, person.id);
  return link?.editsEnabled ?? false;
}

/** The person's habit with this id (archived too), or undefined. */
async function habitOfPerson(
  deps: Pick<AppDeps, "db">,
  person: User,
  habitId: number,
): Promise<Habit | undefined> {
  const habit = await findHabitById(deps.db, habitId);
  return habit && habit.userId === person.id ? habit : undefined;
}

async function addEntryFromSheet(
  deps: Pick<AppDeps, "db">,
  person: User,
  edit: Extract<SheetEdit, { kind: "new-entry" }>,
): Promise<SheetEditOutcome> {
  const habit = await habitOfPerson(deps, person, edit.habitId);
  if (!habit) return { kind: "refused", edit, reason: "unknown habit" };
  if (habit.archivedAt) {
    return {
      kind: "refused",
      edit,
      reason: `${habit.name} is archived (/habits restore it first)`,
    };
  }
  const { inserted } = await insertEntries(deps.db, person.id, [
    {
      habitId: habit.id,
      day: edit.day,
      amount: edit.amount,
      source: "sheet",
      idempotencyKey: edit.key,
    },
  ]);
  if (inserted === 0) return { kind: "unchanged" };
  return { kind: "entry-added", habit, day: edit.day, amount: edit.amount };
}

async function correctEntryFromSheet(
  deps: Pick<AppDeps, "db" | "now">,
  person: User,
  edit: Extract<SheetEdit, { kind: "correction" }>,
  context: SheetEditContext,
): Promise<SheetEditOutcome> {
  const entry = await findEntryWithHabit(deps.db, edit.entryId);
  if (!entry || entry.userId !== person.id) {
    return { kind: "refused", edit, reason: "no such entry" };
  }
  const habit = await findHabitById(deps.db, entry.habitId);
  const key = sheetCorrectionKey(entry.id);
  const day = entry.day.toISOString().slice(0, 10);
  if (entry.retractedAt !== null && entry.retractionKey !== key) {
    // undone in the chat after the sheet was written: the chat wins
    if (context.writtenAt === null || entry.retractedAt > context.writtenAt) {
      return { kind: "conflict", edit, habit: habit ?? null, what: `${day} ${entry.habit.name}` };
    }
    return {
      kind: "refused",
      edit,
      reason: "this entry was undone; type the amount in a new row instead",
    };
  }
  if (entry.retractedAt !== null) {
    // this entry was corrected from the sheet before: the correction is the row to change
    const [again] = await entriesOfHabitOnDay(deps.db, person.id, entry.habitId, day).then((all) =>
      all.filter((e) => e.idempotencyKey === key),
    );
    if (again === undefined || again.amount === edit.amount || edit.amount === 0) {
      // a correction whose new entry is missing (interrupted): store it now
      if (again === undefined && edit.amount > 0) {
        await insertEntries(deps.db, person.id, [
          {
            habitId: entry.habitId,
            day,
            amount: edit.amount,
            source: "sheet",
            idempotencyKey: key,
          },
        ]);
        return { kind: "entry-corrected", habit: habit!, day, from: entry.amount, to: edit.amount };
      }
      return { kind: "unchanged" };
    }
    return {
      kind: "refused",
      edit,
      reason: "this entry was already corrected; change the new row at the bottom instead",
    };
  }
  if (!(await retractEntry(deps.db, person.id, entry.id, deps.now(), key))) {
    return { kind: "conflict", edit, habit: habit ?? null, what: `${day} ${entry.habit.name}` };
  }
  if (edit.amount > 0) {
    await insertEntries(deps.db, person.id, [
      { habitId: entry.habitId, day, amount: edit.amount, source: "sheet", idempotencyKey: key },
    ]);
  }
  return { kind: "entry-corrected", habit: habit!, day, from: entry.amount, to: edit.amount };
}

async function changeHabitFromSheet(
  deps: Pick<AppDeps, "db">,
  person: User,
  edit: Extract<SheetEdit, { kind: "habit" }>,
): Promise<SheetEditOutcome> {
  const habit = await habitOfPerson(deps, person, edit.habitId);
  if (!habit) return { kind: "refused", edit, reason: "unknown habit" };
  if (edit.chatChanged) return { kind: "conflict", edit, habit, what: habit.name };
  const outcome = await editHabit(deps, person, habit.name, edit.change);
  switch (outcome.kind) {
    case "updated":
      return { kind: "habit-changed", habit: outcome.habit, before: habit };
    case "invalid":
      return { kind: "refused", edit, reason: outcome.problems.map((p) => p.message).join("; ") };
    default:
      return { kind: "refused", edit, reason: "the habit could not be changed" };
  }
}

/** Today's plan changed from the sheet: a plan revision (via "sheet"), as a tap would make. */
async function revisePlanFromSheet(
  deps: Pick<AppDeps, "db" | "now">,
  person: User,
  edit: Extract<SheetEdit, { kind: "plan" }>,
  context: SheetEditContext,
): Promise<SheetEditOutcome> {
  const habit = await habitOfPerson(deps, person, edit.habitId);
  if (!habit) return { kind: "refused", edit, reason: "unknown habit" };
  if (edit.chatChanged) {
    return { kind: "conflict", edit, habit, what: `today's plan, ${habit.name}` };
  }
  if (context.revisePlan) {
    const outcome = await context.revisePlan(person, edit);
    if (outcome.kind === "refused") return { kind: "refused", edit, reason: outcome.reason };
    return { kind: "plan-changed", habit, from: outcome.from, to: outcome.to };
  }
  const outcome = await changePlannedAmount(
    deps,
    person,
    { planId: edit.planId, habitId: edit.habitId, amount: edit.amount },
    {
      changedBy: person.telegramId,
      via: "sheet",
      // one revision per plan, habit and amount typed: a re-read of the same cell changes once
      keyOf: (position) =>
        `sheet:plan:${edit.planId}:${edit.habitId}:${edit.amount}:${deps.now().getTime()}:${position}`,
    },
  );
  switch (outcome.kind) {
    case "changed": {
      const change = outcome.changes.find((c) => c.habit.id === habit.id) ?? outcome.changes[0];
      if (outcome.duplicate || change === undefined) return { kind: "unchanged" };
      return { kind: "plan-changed", habit, from: change.fromAmount, to: change.toAmount };
    }
    case "refused":
      if (outcome.reason === "same-amount") return { kind: "unchanged" };
      return {
        kind: "refused",
        edit,
        reason:
          outcome.reason === "not-planned"
            ? `${habit.name} is not in today's plan`
            : outcome.reason === "yes-no-habit"
              ? `${habit.name} is done or not: type 0 (not today) or its planned amount`
              : "not an amount for this habit",
      };
    case "not-today-plan":
      return { kind: "refused", edit, reason: "only today's plan can be changed" };
    default:
      return { kind: "refused", edit, reason: "this plan cannot be changed" };
  }
}

/** Applies edits read from the person's sheet, one by one, each through its use case. */
export async function applySheetEdits(
  deps: Pick<AppDeps, "db" | "now">,
  person: User,
  edits: SheetEdit[],
  context: SheetEditContext,
): Promise<SheetEditOutcome[]> {
  const outcomes: SheetEditOutcome[] = [];
  for (const edit of edits) {
    switch (edit.kind) {
      case "new-entry":
        outcomes.push(await addEntryFromSheet(deps, person, edit));
        break;
      case "correction":
        outcomes.push(await correctEntryFromSheet(deps, person, edit, context));
        break;
      case "habit":
        outcomes.push(await changeHabitFromSheet(deps, person, edit));
        break;
      case "plan":
        outcomes.push(await revisePlanFromSheet(deps, person, edit, context));
        break;
    }
  }
  return outcomes;
}
