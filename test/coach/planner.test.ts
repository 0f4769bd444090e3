import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  capacityAwarePlan,
  compileHabits,
  createRng,
  heuristicPlan,
  planForDay,
} from "../../src/coach/index.js";
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

describe("capacityAwarePlan", () => {
  it("plans only the k habits furthest behind, one per exclusive group", () => {
    const c = compileHabits(habits);
    // run and swim share the cardio group: swim (0.1) is further behind, so run is skipped
    expect([...capacityAwarePlan(c, [0.2, 0.1, 0.5, 0.9], 2)]).toEqual([0, 2, 2, 0]);
    expect([...capacityAwarePlan(c, [0.2, 0.1, 0.5, 0.9], 1)]).toEqual([0, 2, 0, 0]);
    // habits at or above their goal are never planned, however large k is
    expect([...capacityAwarePlan(c, [1, 1.2, 0.5, 0.9], 4)]).toEqual([0, 0, 2, 1]);
    expect([...capacityAwarePlan(c, [0.5, 0.5, 0.5, 0.5], 0)]).toEqual([0, 0, 0, 0]);
  });

  it("equals the heuristic when k covers every habit and no exclusive group binds", () => {
    const free = compileHabits(habits.filter((h) => h.exclusiveGroup === undefined));
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 2, noNaN: true }), { minLength: 2, maxLength: 2 }),
        (emas) => {
          expect([...capacityAwarePlan(free, emas, 2)]).toEqual([...heuristicPlan(free, emas)]);
        },
      ),
    );
  });

  it("plans at most k habits, each at its target level and below its goal", () => {
    const c = compileHabits(habits);
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 2, noNaN: true }), { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 5 }),
        (emas, k) => {
          const plan = capacityAwarePlan(c, emas, k);
          const planned = [...plan].flatMap((level, h) => (level > 0 ? [h] : []));
          expect(planned.length).toBeLessThanOrEqual(k);
          for (const h of planned) {
            expect(plan[h]).toBe(c.targetLevelIndex[h]);
            expect(emas[h]).toBeLessThan(1);
          }
          // no unplanned habit (outside a taken exclusive group) is further behind than a planned one
          const worst = Math.max(...planned.map((h) => emas[h]), -1);
          for (let h = 0; h < 4; h++) {
            if (plan[h] > 0 || emas[h] >= 1 || planned.length < k) continue;
            const blocked =
              c.exclusiveGroupOf[h] >= 0 &&
              planned.some((o) => c.exclusiveGroupOf[o] === c.exclusiveGroupOf[h]);
            if (!blocked) expect(emas[h]).toBeGreaterThanOrEqual(worst);
          }
        },
      ),
    );
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
