// Renders a stored plan as a chat message: what is planned today, what is already done (ticked),
// and one inline button per unfinished planned habit that logs what is still missing of it.
import type { InlineKeyboardButton } from "telegraf/types";
import type { CoachState } from "../app/coach-state.js";
import type { PlanItem } from "../db/plans.js";
import type { Habit, Plan } from "../generated/prisma/client.js";
import { encodeCallback } from "./callback-data.js";
import { formatAmount, formatDate, formatEma, reportExample } from "./format.js";

export interface RenderedMessage {
  text: string;
  keyboard: InlineKeyboardButton[][];
}

/** A log button's label: the planned amount, or what is still missing of it ("+2 glasses"). */
export function logButtonText(habit: Habit, planned: number, done: number): string {
  if (habit.kind === "check") return `✓ ${habit.name}`;
  if (done > 0) return `✓ ${habit.name} +${formatAmount(habit, planned - done)}`;
  return `✓ ${habit.name} ${formatAmount(habit, planned)}`;
}

export function planButtons(
  plan: Plan,
  items: PlanItem[],
  habits: Habit[],
  doneToday: Record<string, number>,
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
    ]);
  }
  return rows;
}

export function renderPlan(plan: Plan, items: PlanItem[], state: CoachState): RenderedMessage {
  const byId = new Map(state.habits.map((h) => [h.id, h]));
  const planned: string[] = [];
  const resting: string[] = [];
  let doneCount = 0;
  let plannedCount = 0;
  for (const item of items) {
    const habit = byId.get(item.habitId);
    if (!habit) continue; // archived since the plan was made
    const done = state.doneToday[String(item.habitId)] ?? 0;
    if (item.amount > 0) {
      plannedCount++;
      const finished = done >= item.amount;
      if (finished) doneCount++;
      const amount = habit.kind === "check" ? "" : ` — ${formatAmount(habit, item.amount)}`;
      const progress =
        done > 0 && !finished && habit.kind !== "check"
          ? ` (${formatAmount(habit, done)} so far)`
          : "";
      planned.push(`${finished ? "✅" : "▫️"} ${habit.name}${amount}${progress}`);
    } else {
      const extra = done > 0 ? `, done ${formatAmount(habit, done)}` : "";
      resting.push(
        `${habit.name} (EMA ${formatEma(state.emasYesterday[String(habit.id)])}${extra})`,
      );
    }
  }
  const lines = [`Plan for ${formatDate(state.today)}:`];
  if (planned.length === 0)
    lines.push("Nothing planned today — you're ahead on everything. Rest well!");
  else lines.push(...planned);
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
        : `Tap a button when done, or write it, e.g. “${reportExample(plannedHabits)}”.`,
    );
  }
  return {
    text: lines.join("\n"),
    keyboard: planButtons(plan, items, state.habits, state.doneToday),
  };
}
