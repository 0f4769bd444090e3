import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applyIntensity,
  compileHabits,
  createRng,
  heuristicPlan,
  PUSH_EXTRA_ITEMS,
  planForDay,
  plannedLoad,
} from "../../src/coach/index.js";
import { HABITS, habit } from "./fixtures.js";

const RUN = habit({ id: "run", name: "run", kind: "duration", target: 30 });
const READ = habit({ id: "read", name: "read", kind: "count", unit: "pages", target: 20 });
const FLOSS = habit({ id: "floss", name: "floss", kind: "check" });
const SET = [RUN, READ, FLOSS];
const compiled = compileHabits(SET);
const levelsOf = (h: (typeof SET)[number]) => h.levels;

describe("applyIntensity", () => {
  it("normal leaves the plan alone (only clamps levels into range)", () => {
    const plan = Int32Array.from([2, 9, -1]);
    applyIntensity(compiled, plan, [0.5, 0.5, 0.5], "normal");
    expect(Array.from(plan)).toEqual([2, levelsOf(READ).length - 1, 0]);
  });

  it("easy makes every planned item one level smaller; smallest items drop out", () => {
    const plan = Int32Array.from([3, 1, 1]);
    applyIntensity(compiled, plan, [0.5, 0.9, 0.2], "easy");
    expect(Array.from(plan)).toEqual([2, 0, 0]);
  });

  it("easy keeps the item furthest behind when nothing else would stay", () => {
    const plan = Int32Array.from([1, 1, 1]);
    applyIntensity(compiled, plan, [0.8, 0.3, 0.6], "easy");
    expect(Array.from(plan)).toEqual([0, 1, 0]);
  });

  it("push adds the unplanned habits furthest behind at their target, at most two", () => {
    const plan = new Int32Array(HABITS.length);
    const all = compileHabits(HABITS);
    const emas = HABITS.map((_, i) => 0.1 * i); // habit 0 furthest behind, then 1, …
    applyIntensity(all, plan, emas, "push");
    const planned = Array.from(plan)
      .map((l, h) => (l > 0 ? h : -1))
      .filter((h) => h >= 0);
    expect(planned).toEqual([0, 1]);
    expect(planned.length).toBe(PUSH_EXTRA_ITEMS);
    expect(plan[0]).toBe(all.targetLevelIndex[0]);
  });

  it("push raises the planned item furthest behind when no unplanned habit is behind", () => {
    const plan = Int32Array.from([2, 2, 0]);
    applyIntensity(compiled, plan, [0.7, 0.4, 1.2], "push");
    expect(Array.from(plan)).toEqual([2, 3, 0]);
  });

  it("on any state, easy ≤ normal ≤ push in planned load after the coach core's adjustment", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1.6, noNaN: true }), {
          minLength: HABITS.length,
          maxLength: HABITS.length,
        }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.option(fc.integer({ min: 10, max: 200 }), { nil: undefined }),
        (emaList, seed, capacityMinutes) => {
          const emas = Object.fromEntries(HABITS.map((h, i) => [h.id, emaList[i]]));
          const all = compileHabits(HABITS);
          const load = (intensity: "easy" | "normal" | "push") => {
            const items = planForDay(HABITS, emas, createRng(seed), {
              intensity,
              capacityMinutes: capacityMinutes ?? undefined,
            });
            return plannedLoad(
              all,
              items.map((i) => i.level),
            );
          };
          const easy = load("easy");
          const normal = load("normal");
          const push = load("push");
          // with a minutes capacity, push's extra items can displace larger ones: only easy ≤ normal then
          expect(easy).toBeLessThanOrEqual(normal + 1e-9);
          if (capacityMinutes === undefined) expect(normal).toBeLessThanOrEqual(push + 1e-9);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("the heuristic's plan becomes lighter with easy and heavier with push on typical days", () => {
    const all = compileHabits(HABITS);
    const rng = createRng(5);
    let easy = 0;
    let push = 0;
    for (let i = 0; i < 200; i++) {
      const emas = HABITS.map(() => rng.next() * 1.3);
      const base = heuristicPlan(all, emas);
      easy += plannedLoad(all, applyIntensity(all, Int32Array.from(base), emas, "easy"));
      push += plannedLoad(all, applyIntensity(all, Int32Array.from(base), emas, "push"));
    }
    expect(easy).toBeLessThan(push);
  });
});
