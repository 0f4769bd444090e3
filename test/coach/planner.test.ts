import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileHabits, createRng, heuristicPlan, planForDay } from "../../src/coach/index.js";
import { habit } from "./fixtures.js";

const habits = [
  habit({
    id: "run",
    name: "run",
    kind: "duration",
    target: 30,
    daysPerWeek: 5,
    exclusiveGroup: "cardio",
  }),
  habit({
    id: "swim",
    name: "swim",
    kind: "duration",
    target: 40,
    daysPerWeek: 2,
    exclusiveGroup: "cardio",
  }),
  habit({ id: "violin", name: "violin", kind: "duration", target: 20 }),
  habit({ id: "med", name: "meditate", kind: "check" }),
];

describe("heuristicPlan", () => {
  it("plans the target level when the EMA is below 1, else nothing", () => {
    const c = compileHabits(habits);
    const out = new Int32Array(4);
    expect(heuristicPlan(c, [0.99, 1, 1.3, 0], out)).toBe(out);
    expect([...out]).toEqual([2, 0, 0, 1]);
    expect([...heuristicPlan(c, [1, 0.5, 0.2, 1])]).toEqual([0, 2, 2, 0]);
  });
});

describe("planForDay", () => {
  it("returns every habit in order with its level and amount, adjusted", () => {
    const plan = planForDay(habits, { run: 0.4, swim: 0.5, violin: 1.1, med: 0.9 }, createRng(5));
    expect(plan.map((p) => p.habitId)).toEqual(["run", "swim", "violin", "med"]);
    expect(plan[2]).toEqual({ habitId: "violin", level: 0, amount: 0 });
    expect(plan[3]).toEqual({ habitId: "med", level: 1, amount: 1 });
    // exactly one of the exclusive cardio habits, at its target
    const cardio = plan.filter(
      (p) => (p.habitId === "run" || p.habitId === "swim") && p.amount > 0,
    );
    expect(cardio).toHaveLength(1);
    expect(cardio[0].amount).toBe(cardio[0].habitId === "run" ? 30 : 40);
  });

  it("is deterministic for a seed and treats missing EMAs as the initial value (0)", () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const a = planForDay(habits, {}, createRng(seed));
        expect(planForDay(habits, {}, createRng(seed))).toEqual(a);
        expect(a.filter((p) => p.amount > 0)).toHaveLength(3);
      }),
      { numRuns: 50 },
    );
  });

  it("applies the capacity and adjusts a policy's raw levels the same way", () => {
    const plan = planForDay(habits, { run: 0.2, swim: 0.9, violin: 0.1, med: 0.5 }, createRng(1), {
      capacityMinutes: 40,
      policyLevels: [3, 0, 2, 1],
    });
    // 45 + 20 = 65 min > 40: run (deficit 0.8) goes before violin (0.9)
    expect(plan.map((p) => p.amount)).toEqual([0, 0, 20, 1]);
    expect(() => planForDay(habits, {}, createRng(1), { policyLevels: [1] })).toThrow(/4 habits/);
  });
});
