// Reading a habit definition typed in chat ("run 30min 5/week", "read 20 pages daily",
// "floss 7/week") into the raw fields the coach core's validateHabit checks. This only splits
// the words; every rule about what makes a valid habit, and the unit words, live in the coach
// core (src/coach/habits.ts, src/coach/units.ts).
import { type HabitKind, sessionAmountOf } from "../coach/index.js";

export interface HabitDraft {
  name: string;
  kind: HabitKind;
  unit: string;
  target?: number;
  daysPerWeek?: number;
}

export type DraftResult = { ok: true; draft: HabitDraft } | { ok: false; problem: string };

export const HABIT_ADD_EXAMPLE = "/habits add run 30min 5/week";

/** Parses "<name> [<amount>[ ]<unit>] [<n>/week | <n>x/week | daily | weekdays]". */
export function parseHabitDefinition(text: string): DraftResult {
  let rest = ` ${text.trim().replace(/\s+/g, " ")} `;
  if (rest.trim() === "") {
    return { ok: false, problem: `Tell me the habit, e.g. ${HABIT_ADD_EXAMPLE}` };
  }
  let daysPerWeek: number | undefined;
  const frequency = [
    {
      re: / (\d+)\s*(?:x|times)?\s*(?:\/|per |a )\s*(?:w|wk|week)\b/i,
      days: (m: RegExpExecArray) => Number(m[1]),
    },
    { re: / (?:daily|every ?day)\b/i, days: () => 7 },
    { re: / weekdays\b/i, days: () => 5 },
  ];
  for (const f of frequency) {
    const m = f.re.exec(rest);
    if (m) {
      daysPerWeek = f.days(m);
      rest = `${rest.slice(0, m.index)} ${rest.slice(m.index + m[0].length)}`;
      break;
    }
  }
  let kind: HabitKind = "check";
  let unit = "";
  let target: number | undefined;
  const amount = / (\d+(?:[.,]\d+)?)\s*([\p{L}]+)?(?= |$)/u.exec(rest);
  if (amount) {
    ({ kind, unit, target } = amountOf(amount[1], amount[2]));
    rest = `${rest.slice(0, amount.index)} ${rest.slice(amount.index + amount[0].length)}`;
  }
  const name = rest.trim().replace(/\s+/g, " ");
  if (name === "") {
    return { ok: false, problem: `The habit needs a name, e.g. ${HABIT_ADD_EXAMPLE}` };
  }
  if (/\d/.test(name) && !/[\p{L}]/u.test(name)) {
    return { ok: false, problem: `"${name}" is not a name; try ${HABIT_ADD_EXAMPLE}` };
  }
  return {
    ok: true,
    draft: {
      name,
      kind,
      unit,
      ...(target !== undefined ? { target } : {}),
      ...(daysPerWeek !== undefined ? { daysPerWeek } : {}),
    },
  };
}

function amountOf(
  number: string,
  word: string | undefined,
): { kind: HabitKind; unit: string; target: number } {
  return sessionAmountOf(Number(number.replace(",", ".")), word);
}

/** "20 pages", "30 min", "1.5h", "3" → kind, unit and amount per session; undefined otherwise. */
export function parseSessionAmount(
  text: string,
): { kind: HabitKind; unit: string; target: number } | undefined {
  const m = /^(\d+(?:[.,]\d+)?)\s*([\p{L}]+)?$/u.exec(text.trim());
  return m ? amountOf(m[1], m[2]) : undefined;
}

/** Parses "0, 15, 30, 45" or "0 15 30 45" into numbers; undefined when any part is not a number. */
export function parseNumberList(text: string): number[] | undefined {
  const parts = text
    .split(/[\s,;]+/)
    .map((p) => p.trim())
    .filter((p) => p !== "");
  if (parts.length === 0) return undefined;
  const numbers = parts.map((p) => Number(p.replace(/min$/i, "")));
  return numbers.every((n) => Number.isFinite(n)) ? numbers : undefined;
}
