// The unit words of habits: what people may write after an amount, both when they define a
// habit ("read 20 pages daily", /habits add) and when they report one ("read 15p", "run 1h 15m").
// One vocabulary for both, so that every unit a habit can be defined in is understood in a
// report. Pure.
import type { HabitKind } from "./habits.js";

/** What an amount measures. "sets" comes from "3x10" in a report, never from a unit word. */
export type UnitClass = "minutes" | "km" | "pages" | "times" | "sets";

/** Every unit word, with what it measures; hours are turned into minutes. */
export const UNIT_WORDS: Readonly<Record<string, Exclude<UnitClass, "sets"> | "hours">> = {
  m: "minutes",
  min: "minutes",
  mins: "minutes",
  minute: "minutes",
  minutes: "minutes",
  h: "hours",
  hr: "hours",
  hrs: "hours",
  hour: "hours",
  hours: "hours",
  k: "km",
  km: "km",
  kms: "km",
  kilometer: "km",
  kilometers: "km",
  kilometre: "km",
  kilometres: "km",
  p: "pages",
  pp: "pages",
  pg: "pages",
  pgs: "pages",
  page: "pages",
  pages: "pages",
  x: "times",
  times: "times",
  time: "times",
  rep: "times",
  reps: "times",
  repetitions: "times",
};

/** Words that only say "how many" ("3x", "3 times"): a habit defined with them counts "times". */
const PLAIN_COUNT_WORDS = new Set(["x", "time", "times"]);

/** Units in which fractions make sense; other count units need whole numbers. */
export const CONTINUOUS_UNITS: ReadonlySet<string> = new Set([
  "km",
  "k",
  "mi",
  "mile",
  "miles",
  "kg",
  "l",
  "litre",
  "litres",
  "liter",
  "liters",
  "hours",
  "h",
]);

/**
 * The kind, unit and amount per session of a habit defined as "<amount> [<word>]": minutes and
 * hours make a duration in minutes; no word or a plain count word counts "times"; any other
 * word (pages, km, reps, glasses…) is the habit's own count unit.
 */
export function sessionAmountOf(
  amount: number,
  word: string | undefined,
): { kind: HabitKind; unit: string; target: number } {
  const lower = word?.toLowerCase();
  if (lower === undefined || PLAIN_COUNT_WORDS.has(lower)) {
    return { kind: "count", unit: "times", target: amount };
  }
  const cls = UNIT_WORDS[lower];
  if (cls === "minutes") return { kind: "duration", unit: "min", target: amount };
  if (cls === "hours") return { kind: "duration", unit: "min", target: amount * 60 };
  return { kind: "count", unit: lower, target: amount };
}
