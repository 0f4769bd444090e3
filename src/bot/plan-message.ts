// Renders a stored plan as a chat message: what is planned today (as the person changed it), what
// is already done (ticked), and per unfinished planned habit a button that logs what is still
// missing of it, "Not today" and "Change" (other amounts, another habit instead).
import type { InlineKeyboardButton } from "telegraf/types";
import type { CoachState } from "../app/coach-state.js";
import type { PlanItem } from "../db/plans.js";
import type { Habit, Plan } from "../generated/prisma/client.js";
import { encodeCallback } from "./callback-data.js";
import { formatAmount, formatDate, formatEma, reportExample } from "./format.js";
import { intensityButtons, planIntensityLine } from "./intensity-message.js";

export interface RenderedMessage {
  text: string;
  keyboard: InlineKeyboardButton[][];
}

/** "Not today" and "Change" for one plan item. */
function steeringButtons(plan: Plan, habit: Habit): InlineKeyboardButton[] {
  return [
    {
      text: "✕ Not today",
      callback_data: encodeCallback({
        kind: "plan-change",
        planId: plan.id,
        habitId: habit.id,
        amount: 0,
      }),
    },
    {
      text: "✎ Change",
      callback_data: encodeCallback({ kind: "plan-choices", planId: plan.id, habitId: habit.id }),
    },
  ];
}

/** A log button's label: the planned amount, or what is still missing of it ("+2 glasses"). */
export function logButtonText(habit: Habit, planned: number, done: number): string {
  if (habit.kind === "check") return `✓ ${habit.name}`;
  if (done > 0) return `✓ ${habit.name} +${formatAmount(habit, planned - done)}`;
  return `✓ ${habit.name} ${formatAmount(habit, planned)}`;
}

/**
 * One row per unfinished planned item: its log button, and with `steering` "Not today" and
 * "Change" (the other amounts, another habit instead).
 */
export function planButtons(
  plan: Plan,
  items: PlanItem[],
  habits: Habit[],
  doneToday: Record<string, number>,
  options: { steering?: boolean } = {},
) {
  const byId = new Map(habits.map((h) => [h.id, h]));
  const rows: InlineKeyboardButton[][] = [];
  for (const item of items) {
    const habit = byId.get(item.habitId);
    if (!habit || item.amount <= 0) continue;
    const done = doneToday[String(item.habitId)] ?? 0;
    if (done >= item.amount) continue;
    rows.push([
      {
        text: logButtonText(habit, item.amount, done),
        callback_data: encodeCallback({ kind: "plan-log", planId: plan.id, habitId: habit.id }),
      },
      ...(options.steering ? steeringButtons(plan, habit) : []),
    ]);
  }
  return rows;
}

/** How the person changed a habit's amount today, for the plan's line ("" when unchanged). */
function changeNote(habit: Habit, original: number, now: number): string {
  if (Math.abs(original - now) < 1e-9) return "";
  if (original <= 0) return " (your change: added today)";
  return habit.kind === "check"
    ? " (your change)"
    : ` (your change: was ${formatAmount(habit, original)})`;
}

/**
 * The plan as a message: the plan as changed (`items`), with each change the person made against
 * the planner's `original` noted, what is done ticked, what they took off today listed; the
 * keyboard holds a log button and "Not today" / "Change" per unfinished item.
 */
export function renderPlan(
  plan: Plan,
  items: PlanItem[],
  state: CoachState,
  original: PlanItem[] = items,
): RenderedMessage {
  const byId = new Map(state.habits.map((h) => [h.id, h]));
  const originalOf = (habitId: number) => original.find((i) => i.habitId === habitId)?.amount ?? 0;
  const planned: string[] = [];
  const resting: string[] = [];
  const takenOff: string[] = [];
  let doneCount = 0;
  let plannedCount = 0;
  for (const item of items) {
    const habit = byId.get(item.habitId);
    if (!habit) continue; // archived since the plan was made
    const done = state.doneToday[String(item.habitId)] ?? 0;
    const was = originalOf(item.habitId);
    if (item.amount > 0) {
      plannedCount++;
      const finished = done >= item.amount;
      if (finished) doneCount++;
      const amount = habit.kind === "check" ? "" : ` — ${formatAmount(habit, item.amount)}`;
      const progress =
        done > 0 && !finished && habit.kind !== "check"
          ? ` (${formatAmount(habit, done)} so far)`
          : "";
      planned.push(
        `${finished ? "✅" : "▫️"} ${habit.name}${amount}${progress}${changeNote(habit, was, item.amount)}`,
      );
    } else if (was > 0) {
      const extra = done > 0 ? `, done ${formatAmount(habit, done)} anyway` : "";
      takenOff.push(`${habit.name}${extra}`);
    } else {
      const extra = done > 0 ? `, done ${formatAmount(habit, done)}` : "";
      resting.push(
        `${habit.name} (EMA ${formatEma(state.emasYesterday[String(habit.id)])}${extra})`,
      );
    }
  }
  const lines = [`Plan for ${formatDate(state.today)}:`];
  if (planned.length === 0)
    lines.push(
      takenOff.length > 0
        ? "Nothing left on the plan today."
        : "Nothing planned today — you're ahead on everything. Rest well!",
    );
  else lines.push(...planned);
  if (takenOff.length > 0) lines.push("", `Not today (your choice): ${takenOff.join(", ")}`);
  if (resting.length > 0) lines.push("", `Rest day for: ${resting.join(", ")}`);
  if (plannedCount > 0) {
    const plannedHabits = items
      .filter((i) => i.amount > 0)
      .map((i) => byId.get(i.habitId))
      .filter((h) => h !== undefined);
    lines.push(
      "",
      doneCount === plannedCount
        ? "All done for today. 🎉"
        : `Tap a button when done, or write it, e.g. “${reportExample(plannedHabits)}”. Not today or another amount: “skip ${plannedHabits[0]?.name ?? "run"}”, “${changeExample(plannedHabits)}”.`,
    );
  }
  lines.push("", planIntensityLine(plan));
  return {
    text: lines.join("\n"),
    keyboard: [
      ...planButtons(plan, items, state.habits, state.doneToday, { steering: true }),
      intensityButtons(),
    ],
  };
}

/** “run 20 instead”: another amount of the first planned habit with one. */
function changeExample(habits: Habit[]): string {
  const habit = habits.find((h) => h.kind !== "check");
  if (!habit) return `swap ${habits[0]?.name ?? "run"} …`;
  const other = habit.levels.find((l) => l > 0 && l < habit.target) ?? habit.target;
  return `${habit.name} ${formatAmount(habit, other)} instead`;
}

/**
 * The choices for one plan item: the habit's other plannable amounts, not today, and another
 * habit instead (one not planned today).
 */
export function planChoiceButtons(
  plan: Plan,
  habit: Habit,
  items: PlanItem[],
  habits: Habit[],
): InlineKeyboardButton[][] {
  const now = items.find((i) => i.habitId === habit.id)?.amount ?? 0;
  const change = (amount: number) =>
    encodeCallback({ kind: "plan-change", planId: plan.id, habitId: habit.id, amount });
  const rows: InlineKeyboardButton[][] = [];
  if (habit.kind !== "check") {
    const amounts = habit.levels.filter(
      (l) => l > 0 && Math.abs(l - now) > 1e-9 && /^\d{1,6}(\.\d{1,2})?$/.test(String(l)),
    );
    for (let i = 0; i < amounts.length; i += 4) {
      rows.push(
        amounts
          .slice(i, i + 4)
          .map((a) => ({ text: formatAmount(habit, a), callback_data: change(a) })),
      );
    }
  }
  if (now > 0) rows.push([{ text: "✕ Not today", callback_data: change(0) }]);
  const resting = habits.filter(
    (h) => h.id !== habit.id && (items.find((i) => i.habitId === h.id)?.amount ?? 0) <= 0,
  );
  if (now > 0) {
    for (let i = 0; i < resting.length && i < 8; i += 2) {
      rows.push(
        resting.slice(i, Math.min(i + 2, 8)).map((h) => ({
          text: `⇄ ${h.name} instead`,
          callback_data: encodeCallback({
            kind: "plan-swap",
            planId: plan.id,
            outId: habit.id,
            inId: h.id,
          }),
        })),
      );
    }
  }
  return rows;
}
