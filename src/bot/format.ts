// How habits, amounts, days and EMAs read in chat. One place, so every reply says it the same way.
import { addDays, type LocalDate, weekdayOf } from "../coach/index.js";
import type { Habit } from "../generated/prisma/client.js";

const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function trimNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(2)));
}

/** "30 min", "20 pages", "1 time", "done" (check habits). */
export function formatAmount(habit: Pick<Habit, "kind" | "unit">, amount: number): string {
  if (habit.kind === "check") return amount >= 1 ? "done" : "not done";
  if (habit.kind === "duration") return `${trimNumber(amount)} min`;
  const unit = habit.unit === "" ? "times" : habit.unit;
  return `${trimNumber(amount)} ${amount === 1 ? singularOf(unit) : unit}`;
}

/** "glasses" → "glass", "pages" → "page", "reps" → "rep"; other words as they are. */
export function singularOf(unit: string): string {
  if (/(ss|sh|ch|x|z)es$/i.test(unit)) return unit.slice(0, -2);
  if (/[^s]s$/i.test(unit)) return unit.slice(0, -1);
  return unit;
}

/** "30 min, 5×/week" */
export function formatGoal(habit: Pick<Habit, "kind" | "unit" | "target" | "daysPerWeek">): string {
  const perWeek = habit.daysPerWeek === 7 ? "daily" : `${habit.daysPerWeek}×/week`;
  if (habit.kind === "check") return perWeek;
  return `${formatAmount(habit, habit.target)}, ${perWeek}`;
}

/** "Sun 22 Nov" */
export function formatDate(day: LocalDate): string {
  const [, month, date] = day.split("-").map(Number);
  return `${WEEKDAYS[weekdayOf(day)]} ${date} ${MONTHS[month - 1]}`;
}

/** "today", "yesterday" or "Fri 20 Nov". */
export function formatDay(day: LocalDate, today: LocalDate): string {
  if (day === today) return "today";
  if (day === addDays(today, -1)) return "yesterday";
  return formatDate(day);
}

/** EMA as a share of the goal: "0.42". */
export function formatEma(ema: number | undefined): string {
  return (ema ?? 0).toFixed(2);
}

/**
 * How to report the person's own habits, in their own units: “run 5 km, floss” (up to two of
 * their habits; minutes need no unit).
 */
export function reportExample(
  habits: Pick<Habit, "name" | "kind" | "target" | "unit">[],
  fallback = "run 30, violin 15",
): string {
  if (habits.length === 0) return fallback;
  return habits
    .slice(0, 2)
    .map((h) => {
      if (h.kind === "check") return h.name;
      if (h.kind === "duration" || h.unit === "") return `${h.name} ${trimNumber(h.target)}`;
      return `${h.name} ${formatAmount(h, h.target)}`;
    })
    .join(", ");
}
