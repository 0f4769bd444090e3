/**
 * Steering a day's plan: what a person may say to change it ("skip run", "run 20 instead",
 * "swap run swim"), what each change does to the plan, and the plan as changed. Pure.
 *
 * A change never overwrites the plan the planner produced: it is a revision (habit, from, to),
 * and the plan as changed is the original with each habit's latest revision applied
 * (`revisedPlan`). Habit names and amounts are read by the report parser (`parseReport`), so they
 * are matched exactly as in reports (aliases, word forms, typos, units).
 */
import type { HabitSpec } from "./habits.js";
import { parseReport } from "./parse.js";

/** The three changes a person can make to an item of today's plan. */
export type PlanChangeKind = "not_today" | "amount" | "swap";

/** What a steering message says, before its habit names are matched. */
export type SteeringPhrase =
  | { kind: "not-today"; habit: string }
  /** `report` is read like a report ("run 20", "read 10 pages") */
  | { kind: "amount"; report: string }
  /** `words` hold both habit names, in order (out first), split where both are habits */
  | { kind: "swap"; words: string[] };

/** A steering request with its habits matched (ids as in HabitSpec.id). */
export type SteeringRequest =
  | { kind: "not-today"; habitId: string }
  | { kind: "amount"; habitId: string; amount: number }
  | { kind: "swap"; outId: string; inId: string };

const clean = (text: string) =>
  text
    .toLowerCase()
    .replace(/[.!?…]+$/u, "")
    .replace(/\s+/g, " ")
    .trim();

/**
 * Recognises a plan-steering message; undefined for anything else (then it is a report).
 *   not today: "skip run", "skip run today", "not today run", "run not today", "no run today"
 *   amount:    "run 20 instead", "read 10 pages instead", "change run to 20", "make run 20"
 *   swap:      "swap run swim", "swap run for swim" (or with/to), "swim instead of run"
 */
export function readSteeringPhrase(text: string): SteeringPhrase | undefined {
  const t = clean(text);
  if (t.length === 0 || t.length > 200) return undefined;
  let m = /^(?:skip|not today:?) (.+?)(?: today)?$/.exec(t);
  if (m) return { kind: "not-today", habit: m[1] };
  m = /^(.+?),? not today$/.exec(t) ?? /^no (.+) today$/.exec(t);
  if (m) return { kind: "not-today", habit: m[1] };
  m = /^swap (.+?) (?:for|with|to|and) (.+)$/.exec(t);
  if (m) return { kind: "swap", words: [m[1], m[2]] };
  m = /^swap (.+)$/.exec(t);
  if (m) return { kind: "swap", words: m[1].split(" ") };
  m = /^(.+) instead of (.+)$/.exec(t);
  if (m) return { kind: "swap", words: [m[2], m[1]] };
  m = /^(.+\d.*?),? instead$/.exec(t);
  if (m) return { kind: "amount", report: m[1] };
  m = /^(?:change|make|set) (.+?) (?:to )?(\d.*)$/.exec(t);
  if (m) return { kind: "amount", report: `${m[1]} ${m[2]}` };
  return undefined;
}

type Resolved<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/** A habit named in a steering message (matched as the report parser matches names). */
function habitNamed(name: string, habits: HabitSpec[], today: string): Resolved<string> {
  // a placeholder amount: only the name is of interest here
  const parsed = parseReport(`${name} 1`, habits, { today, backfillDays: 0 });
  if (!parsed.ok) return { ok: false, problems: parsed.problems };
  const ids = new Set(parsed.items.map((i) => i.habitId));
  if (ids.size !== 1 || parsed.items.some((i) => i.day !== today)) {
    return { ok: false, problems: [`Name one habit, e.g. “skip ${habits[0]?.name ?? "run"}”.`] };
  }
  return { ok: true, value: parsed.items[0].habitId };
}

/** Matches the habits (and reads the amount) of a steering phrase against the person's habits. */
export function resolveSteering(
  phrase: SteeringPhrase,
  habits: HabitSpec[],
  today: string,
): Resolved<SteeringRequest> {
  switch (phrase.kind) {
    case "not-today": {
      const habit = habitNamed(phrase.habit, habits, today);
      return habit.ok ? { ok: true, value: { kind: "not-today", habitId: habit.value } } : habit;
    }
    case "amount": {
      const parsed = parseReport(phrase.report, habits, { today, backfillDays: 0 });
      if (!parsed.ok) return parsed;
      if (parsed.items.length !== 1 || parsed.items[0].day !== today) {
        return { ok: false, problems: ["Change one habit at a time, e.g. “run 20 instead”."] };
      }
      const { habitId, amount } = parsed.items[0];
      return { ok: true, value: { kind: "amount", habitId, amount } };
    }
    case "swap": {
      // every split of the words into two names; the one where both are habits (and differ)
      let firstProblems: string[] | undefined;
      const found: SteeringRequest[] = [];
      const splits =
        phrase.words.length === 2 && phrase.words.some((w) => w.includes(" "))
          ? [[phrase.words[0], phrase.words[1]]]
          : phrase.words
              .slice(1)
              .map((_, i) => [
                phrase.words.slice(0, i + 1).join(" "),
                phrase.words.slice(i + 1).join(" "),
              ]);
      for (const [a, b] of splits) {
        const out = habitNamed(a, habits, today);
        const inn = habitNamed(b, habits, today);
        if (out.ok && inn.ok && out.value !== inn.value) {
          found.push({ kind: "swap", outId: out.value, inId: inn.value });
        } else if (firstProblems === undefined) {
          firstProblems = [
            ...(out.ok ? [] : out.problems),
            ...(inn.ok ? [] : inn.problems),
            ...(out.ok && inn.ok ? ["Swap two different habits, e.g. “swap run swim”."] : []),
          ];
        }
      }
      if (found.length === 1) return { ok: true, value: found[0] };
      if (found.length > 1)
        return { ok: false, problems: ["Which two habits? Write it like “swap run for swim”."] };
      return {
        ok: false,
        problems: firstProblems ?? ["Name two habits, e.g. “swap run swim”."],
      };
    }
  }
}

/** One item of a plan: the habit, its level and amount (0 = not planned). */
export interface PlanItemLike {
  habitId: number;
  level: number;
  amount: number;
}

/** A stored revision, as far as the plan as changed needs it. */
export interface RevisionLike {
  habitId: number;
  change: PlanChangeKind;
  toAmount: number;
}

/** The index of the largest level at or below `amount` (0 for nothing). */
export function levelFor(levels: readonly number[], amount: number): number {
  let level = 0;
  for (let i = 0; i < levels.length; i++) if (levels[i] <= amount + 1e-9) level = i;
  return level;
}

/**
 * The plan as changed: the original items with each habit's latest revision (revisions in the
 * order they were made) applied; a revised item's level is the largest of its habit's levels
 * at or below the new amount. A revision of a habit that is not in the original (added after the
 * plan was made) adds it.
 */
export function revisedPlan(
  original: readonly PlanItemLike[],
  revisions: readonly RevisionLike[],
  levelsOf: (habitId: number) => readonly number[] = () => [0],
): PlanItemLike[] {
  const items = original.map((i) => ({ ...i }));
  for (const r of revisions) {
    const item = items.find((i) => i.habitId === r.habitId);
    const level = levelFor(levelsOf(r.habitId), r.toAmount);
    if (item) {
      item.amount = r.toAmount;
      item.level = level;
    } else items.push({ habitId: r.habitId, level, amount: r.toAmount });
  }
  return items;
}

/** A revision to store: which habit, what kind of change, from what to what. */
export interface PlanChange {
  habitId: number;
  change: PlanChangeKind;
  fromAmount: number;
  toAmount: number;
}

export type PlanChangeOutcome =
  | { ok: true; changes: PlanChange[] }
  | {
      ok: false;
      reason: "not-planned" | "same-amount" | "yes-no-habit" | "not-an-amount";
      habitId: number;
      amount: number;
    };

/**
 * The revisions a request makes to the plan as it is now (`current`), or why it makes none:
 *  - not today: the habit's amount becomes 0 (it must be planned now);
 *  - amount: the habit's amount becomes the new one (> 0; a habit resting today is added; a
 *    yes/no habit has no amount to change);
 *  - swap: the first habit is not done today (it must be planned now) and the second is planned
 *    at its target (at its current amount when it is already planned).
 */
export function planChange(
  request: SteeringRequest,
  current: readonly PlanItemLike[],
  habits: readonly HabitSpec[],
): PlanChangeOutcome {
  const amountNow = (id: number) => current.find((i) => i.habitId === id)?.amount ?? 0;
  const spec = (id: string) => habits.find((h) => h.id === id);
  switch (request.kind) {
    case "not-today": {
      const habitId = Number(request.habitId);
      const from = amountNow(habitId);
      if (from <= 0) return { ok: false, reason: "not-planned", habitId, amount: from };
      return {
        ok: true,
        changes: [{ habitId, change: "not_today", fromAmount: from, toAmount: 0 }],
      };
    }
    case "amount": {
      const habitId = Number(request.habitId);
      const from = amountNow(habitId);
      if (spec(request.habitId)?.kind === "check") {
        return { ok: false, reason: "yes-no-habit", habitId, amount: from };
      }
      if (!(request.amount > 0) || !Number.isFinite(request.amount)) {
        return { ok: false, reason: "not-an-amount", habitId, amount: request.amount };
      }
      if (Math.abs(request.amount - from) < 1e-9) {
        return { ok: false, reason: "same-amount", habitId, amount: from };
      }
      return {
        ok: true,
        changes: [{ habitId, change: "amount", fromAmount: from, toAmount: request.amount }],
      };
    }
    case "swap": {
      const outId = Number(request.outId);
      const inId = Number(request.inId);
      const from = amountNow(outId);
      if (from <= 0) return { ok: false, reason: "not-planned", habitId: outId, amount: from };
      const changes: PlanChange[] = [
        { habitId: outId, change: "swap", fromAmount: from, toAmount: 0 },
      ];
      const inNow = amountNow(inId);
      if (inNow <= 0) {
        const target = spec(request.inId)?.target ?? 1;
        changes.push({ habitId: inId, change: "swap", fromAmount: inNow, toAmount: target });
      }
      return { ok: true, changes };
    }
  }
}
