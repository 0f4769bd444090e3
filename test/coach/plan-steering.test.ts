// The coach core's plan steering: which messages change the plan, what each change does, and the
// plan as changed (the original never touched).
import { describe, expect, it } from "vitest";
import {
  levelFor,
  planChange,
  readSteeringPhrase,
  resolveSteering,
  revisedPlan,
  type SteeringRequest,
} from "../../src/coach/plan-steering.js";
import { habit } from "./fixtures.js";

const HABITS = [
  habit({ id: "1", name: "run", aliases: ["jog"], kind: "duration", target: 30, daysPerWeek: 5 }),
  habit({ id: "2", name: "swim", kind: "duration", target: 40, daysPerWeek: 2 }),
  habit({ id: "3", name: "read", kind: "count", unit: "pages", target: 20 }),
  habit({ id: "4", name: "floss", kind: "check" }),
  habit({ id: "5", name: "morning walk", kind: "duration", target: 20 }),
];
const TODAY = "2026-11-22";
const PLAN = [
  { habitId: 1, level: 2, amount: 30 },
  { habitId: 2, level: 0, amount: 0 },
  { habitId: 3, level: 2, amount: 20 },
  { habitId: 4, level: 1, amount: 1 },
  { habitId: 5, level: 0, amount: 0 },
];

function request(text: string): SteeringRequest | string[] {
  const phrase = readSteeringPhrase(text);
  if (!phrase) return ["not a steering message"];
  const resolved = resolveSteering(phrase, HABITS, TODAY);
  return resolved.ok ? resolved.value : resolved.problems;
}

describe("reading steering messages", () => {
  it.each([
    ["skip run", { kind: "not-today", habitId: "1" }],
    ["Skip jog today!", { kind: "not-today", habitId: "1" }],
    ["not today: floss", { kind: "not-today", habitId: "4" }],
    ["run not today", { kind: "not-today", habitId: "1" }],
    ["no swim today", { kind: "not-today", habitId: "2" }],
    ["skip rnu", { kind: "not-today", habitId: "1" }],
    ["run 20 instead", { kind: "amount", habitId: "1", amount: 20 }],
    ["read 10 pages instead", { kind: "amount", habitId: "3", amount: 10 }],
    ["run 1h instead.", { kind: "amount", habitId: "1", amount: 60 }],
    ["change run to 45", { kind: "amount", habitId: "1", amount: 45 }],
    ["swap run swim", { kind: "swap", outId: "1", inId: "2" }],
    ["swap run for morning walk", { kind: "swap", outId: "1", inId: "5" }],
    ["swap morning walk swim", { kind: "swap", outId: "5", inId: "2" }],
    ["swim instead of run", { kind: "swap", outId: "1", inId: "2" }],
  ])("%s", (text, expected) => {
    expect(request(text)).toEqual(expected);
  });

  it("leaves reports and other text alone", () => {
    for (const text of ["run 30", "ran 5 km yesterday", "thanks!", "floss", "read 20 pages"]) {
      expect(readSteeringPhrase(text), text).toBeUndefined();
    }
  });

  it("names what it could not match", () => {
    expect(request("skip dance")).toEqual([
      expect.stringContaining('I don\'t know a habit called "dance"'),
    ]);
    expect(request("swap run run")).toEqual([expect.stringContaining("two different habits")]);
    expect(request("swap run")).toEqual([expect.stringContaining("two habits")]);
  });
});

describe("what a change does", () => {
  const change = (r: SteeringRequest, current = PLAN) => planChange(r, current, HABITS);

  it("takes a planned habit off today; refuses one that is not planned", () => {
    expect(change({ kind: "not-today", habitId: "1" })).toEqual({
      ok: true,
      changes: [{ habitId: 1, change: "not_today", fromAmount: 30, toAmount: 0 }],
    });
    expect(change({ kind: "not-today", habitId: "2" })).toMatchObject({
      ok: false,
      reason: "not-planned",
    });
  });

  it("changes an amount (also of a resting habit), never to 0 or the same, never of a yes/no habit", () => {
    expect(change({ kind: "amount", habitId: "1", amount: 20 })).toEqual({
      ok: true,
      changes: [{ habitId: 1, change: "amount", fromAmount: 30, toAmount: 20 }],
    });
    expect(change({ kind: "amount", habitId: "2", amount: 20 })).toMatchObject({
      ok: true,
      changes: [{ habitId: 2, fromAmount: 0, toAmount: 20 }],
    });
    expect(change({ kind: "amount", habitId: "1", amount: 30 })).toMatchObject({
      reason: "same-amount",
    });
    expect(change({ kind: "amount", habitId: "1", amount: 0 })).toMatchObject({
      reason: "not-an-amount",
    });
    expect(change({ kind: "amount", habitId: "4", amount: 2 })).toMatchObject({
      reason: "yes-no-habit",
    });
  });

  it("swaps: the first off, the second at its target (or as planned already)", () => {
    expect(change({ kind: "swap", outId: "1", inId: "2" })).toEqual({
      ok: true,
      changes: [
        { habitId: 1, change: "swap", fromAmount: 30, toAmount: 0 },
        { habitId: 2, change: "swap", fromAmount: 0, toAmount: 40 },
      ],
    });
    expect(change({ kind: "swap", outId: "1", inId: "3" })).toEqual({
      ok: true,
      changes: [{ habitId: 1, change: "swap", fromAmount: 30, toAmount: 0 }],
    });
    expect(change({ kind: "swap", outId: "2", inId: "1" })).toMatchObject({
      reason: "not-planned",
    });
  });
});

describe("the plan as changed", () => {
  const levels = (id: number) => HABITS.find((h) => h.id === String(id))?.levels ?? [0];

  it("applies each habit's latest revision and leaves the original as it was", () => {
    const original = structuredClone(PLAN);
    const changed = revisedPlan(
      original,
      [
        { habitId: 1, change: "amount", toAmount: 20 },
        { habitId: 3, change: "not_today", toAmount: 0 },
        { habitId: 1, change: "amount", toAmount: 45 },
        { habitId: 9, change: "amount", toAmount: 5 },
      ],
      levels,
    );
    expect(original).toEqual(PLAN);
    expect(changed.map((i) => [i.habitId, i.amount])).toEqual([
      [1, 45],
      [2, 0],
      [3, 0],
      [4, 1],
      [5, 0],
      [9, 5],
    ]);
    expect(changed[0].level).toBe(levelFor(levels(1), 45));
    expect(changed[2].level).toBe(0);
  });

  it("levelFor: the largest level at or below the amount", () => {
    expect(levelFor([0, 15, 30, 45], 20)).toBe(1);
    expect(levelFor([0, 15, 30, 45], 30)).toBe(2);
    expect(levelFor([0, 15, 30, 45], 0)).toBe(0);
    expect(levelFor([0, 15, 30, 45], 99)).toBe(3);
  });
});
