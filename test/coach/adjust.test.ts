import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  adjustPlan,
  compileHabits,
  createRng,
  EXCLUSIVE_WEIGHT_FLOOR,
  type HabitSpec,
  planAmounts,
  planMinutes,
  type Rng,
} from "../../src/coach/index.js";
import { habit } from "./fixtures.js";

const fixed = (x: number): Rng => ({ next: () => x });

const RUN = habit({
  id: "run",
  name: "run",
  kind: "duration",
  target: 30,
  exclusiveGroup: "cardio",
});
const SWIM = habit({
  id: "swim",
  name: "swim",
  kind: "duration",
  target: 40,
  exclusiveGroup: "cardio",
});
const VIOLIN = habit({ id: "violin", name: "violin", kind: "duration", target: 20 });
const STRETCH = habit({ id: "stretch", name: "stretch", kind: "duration", target: 10 });
const READ = habit({
  id: "read",
  name: "read",
  kind: "count",
  unit: "pages",
  target: 20,
  levels: [0, 10, 20, 30],
  capacityMinutes: 30,
});
const MEDITATE = habit({ id: "med", name: "meditate", kind: "check", capacityMinutes: 10 });
const WATER = habit({ id: "water", name: "water", kind: "count", unit: "glasses", target: 8 });

describe("compileHabits", () => {
  it("lays the habit set out as arrays", () => {
    const c = compileHabits([RUN, SWIM, READ, MEDITATE, WATER]);
    expect(c.count).toBe(5);
    expect(c.ids).toEqual(["run", "swim", "read", "med", "water"]);
    expect([...c.levelCount]).toEqual([4, 4, 4, 2, 4]);
    expect([...c.exclusiveGroupOf]).toEqual([0, 0, -1, -1, -1]);
    expect([...c.targetLevelIndex]).toEqual([2, 2, 2, 1, 2]);
    expect(c.groupCount).toBe(1);
    // duration: the amount; count/check: capacityMinutes × level / target; else 0
    expect([...c.minutesPerLevel[0]]).toEqual([0, 15, 30, 45]);
    expect([...c.minutesPerLevel[2]]).toEqual([0, 15, 30, 45]);
    expect([...c.minutesPerLevel[3]]).toEqual([0, 10]);
    expect([...c.minutesPerLevel[4]]).toEqual([0, 0, 0, 0]);
  });

  it("targets that are not a level plan the next level up", () => {
    const h = habit({ id: "x", name: "x", kind: "duration", target: 20, levels: [0, 10, 25, 40] });
    expect(compileHabits([h]).targetLevelIndex[0]).toBe(2);
  });
});

describe("adjustPlan: exclusive groups", () => {
  const c = compileHabits([RUN, SWIM, VIOLIN]);
  const emas = [0.2, 0.9, 0.5];

  it("keeps one habit, weighted by max(0, 1 − ema) + 0.1 (worked example: 0.9 : 0.2)", () => {
    expect(EXCLUSIVE_WEIGHT_FLOOR).toBe(0.1);
    // total weight 1.1; a draw below 0.9/1.1 keeps run, above keeps swim
    expect([...adjustPlan(c, Int32Array.from([2, 2, 2]), emas, fixed(0.81))]).toEqual([2, 0, 2]);
    expect([...adjustPlan(c, Int32Array.from([2, 2, 2]), emas, fixed(0.82))]).toEqual([0, 2, 2]);
    let kept = 0;
    const n = 20_000;
    const rng = createRng(1);
    for (let i = 0; i < n; i++) {
      if (adjustPlan(c, Int32Array.from([2, 2, 0]), emas, rng)[0] > 0) kept++;
    }
    expect(kept / n).toBeCloseTo(0.9 / 1.1, 2);
  });

  it("draws nothing when at most one habit of the group is planned", () => {
    let calls = 0;
    const counting: Rng = {
      next: () => {
        calls++;
        return 0.5;
      },
    };
    expect([...adjustPlan(c, Int32Array.from([3, 0, 1]), emas, counting)]).toEqual([3, 0, 1]);
    expect(calls).toBe(0);
    adjustPlan(c, Int32Array.from([1, 1, 1]), emas, counting);
    expect(calls).toBe(1);
  });

  it("clamps out-of-range level indices down into range", () => {
    expect([...adjustPlan(c, Int32Array.from([-2, 0, 99]), emas, fixed(0))]).toEqual([0, 0, 3]);
  });
});

describe("adjustPlan: capacity", () => {
  it("drops the least urgent items until the plan fits (worked example)", () => {
    const c = compileHabits([VIOLIN, STRETCH, RUN]);
    const levels = Int32Array.from([2, 2, 2]); // 20 + 10 + 30 = 60 min
    adjustPlan(c, levels, [0.9, 0.95, 0.5], fixed(0), { capacityMinutes: 45 });
    // stretch (deficit 0.05) goes first → 50 min; violin (0.1) next → 30 min
    expect([...levels]).toEqual([0, 0, 2]);
    expect(planMinutes(c, levels)).toBe(30);
    expect([...planAmounts(c, levels)]).toEqual([0, 0, 30]);
  });

  it("ties: more minutes first, then the later habit", () => {
    const c = compileHabits([
      STRETCH,
      VIOLIN,
      habit({ id: "v2", name: "v2", kind: "duration", target: 20 }),
    ]);
    const levels = Int32Array.from([2, 2, 2]); // 10 + 20 + 20
    adjustPlan(c, levels, [0.5, 0.5, 0.5], fixed(0), { capacityMinutes: 35 });
    expect([...levels]).toEqual([2, 2, 0]);
    adjustPlan(c, levels, [0.5, 0.5, 0.5], fixed(0), { capacityMinutes: 15 });
    expect([...levels]).toEqual([2, 0, 0]);
  });

  it("never drops items that take no minutes, and counts check/count habits by capacityMinutes", () => {
    const c = compileHabits([WATER, MEDITATE, READ]);
    const levels = Int32Array.from([2, 1, 2]); // 0 + 10 + 30 min
    adjustPlan(c, levels, [0.9, 0.1, 0.5], fixed(0), { capacityMinutes: 0 });
    expect([...levels]).toEqual([2, 0, 0]);
  });

  it("no capacity, Infinity or NaN means unlimited", () => {
    const c = compileHabits([VIOLIN, STRETCH]);
    for (const capacityMinutes of [undefined, Number.POSITIVE_INFINITY, Number.NaN]) {
      expect([
        ...adjustPlan(c, Int32Array.from([3, 3]), [0, 0], fixed(0), { capacityMinutes }),
      ]).toEqual([3, 3]);
    }
  });
});

/** Random habit sets of 1–23 habits with 2–20 levels, exclusive groups and capacity estimates. */
const habitSet = fc
  .array(
    fc.record({
      kind: fc.constantFrom("duration" as const, "count" as const, "check" as const),
      levels: fc.integer({ min: 2, max: 20 }),
      step: fc.integer({ min: 1, max: 30 }),
      group: fc.option(fc.constantFrom("a", "b", "c"), { nil: null }),
      capacity: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
    }),
    { minLength: 1, maxLength: 23 },
  )
  .map((rows) =>
    rows.map((r, i): HabitSpec => {
      const levels =
        r.kind === "check" ? [0, 1] : Array.from({ length: r.levels }, (_, k) => k * r.step);
      return habit({
        id: `h${i}`,
        name: `habit ${i}`,
        kind: r.kind,
        unit: r.kind === "count" ? "reps" : undefined,
        target: r.kind === "check" ? undefined : levels[Math.ceil((levels.length - 1) / 2)],
        levels,
        exclusiveGroup: r.group,
        capacityMinutes: r.capacity,
      });
    }),
  );

const scenario = habitSet.chain((habits) =>
  fc.record({
    habits: fc.constant(habits),
    raw: fc.array(fc.integer({ min: -2, max: 22 }), {
      minLength: habits.length,
      maxLength: habits.length,
    }),
    emas: fc.array(fc.double({ min: 0, max: 3, noNaN: true }), {
      minLength: habits.length,
      maxLength: habits.length,
    }),
    seed: fc.integer(),
    capacity: fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }),
  }),
);

describe("adjustPlan properties", () => {
  it("only lowers levels, never invents a habit, keeps ≤ 1 per exclusive group, fits the capacity", () => {
    fc.assert(
      fc.property(scenario, ({ habits, raw, emas, seed, capacity }) => {
        const c = compileHabits(habits);
        const clamped = raw.map((l, h) => Math.max(0, Math.min(l, habits[h].levels.length - 1)));
        const out = adjustPlan(c, Int32Array.from(raw), emas, createRng(seed), {
          capacityMinutes: capacity,
        });
        out.forEach((l, h) => {
          expect(l === clamped[h] || l === 0).toBe(true);
        });
        for (const g of ["a", "b", "c"]) {
          expect(
            habits.filter((h, i) => h.exclusiveGroup === g && out[i] > 0).length,
          ).toBeLessThanOrEqual(1);
        }
        if (capacity !== undefined)
          expect(planMinutes(c, out)).toBeLessThanOrEqual(capacity + 1e-9);
      }),
      { numRuns: 400 },
    );
  });

  it("is deterministic for a seed, and leaves a plan that already fits alone", () => {
    fc.assert(
      fc.property(scenario, ({ habits, raw, emas, seed, capacity }) => {
        const c = compileHabits(habits);
        const a = adjustPlan(c, Int32Array.from(raw), emas, createRng(seed), {
          capacityMinutes: capacity,
        });
        const b = adjustPlan(compileHabits(habits), Int32Array.from(raw), emas, createRng(seed), {
          capacityMinutes: capacity,
        });
        expect([...a]).toEqual([...b]);
        // Adjusting an adjusted plan again changes nothing (and draws nothing).
        const again = adjustPlan(c, Int32Array.from(a), emas, fixed(0.999), {
          capacityMinutes: capacity,
        });
        expect([...again]).toEqual([...a]);
      }),
      { numRuns: 300 },
    );
  });
});

/** The capacity rule written the slow, obvious way: pick the least urgent item again each time. */
function referenceCapacity(
  habits: HabitSpec[],
  levels: number[],
  emas: number[],
  capacity: number,
): number[] {
  const c = compileHabits(habits);
  const out = [...levels];
  const minutesOf = (h: number) => c.minutesPerLevel[h][out[h]];
  let used = out.reduce((s, _, h) => s + minutesOf(h), 0);
  while (used > capacity + 1e-9) {
    const candidates = out.map((_, h) => h).filter((h) => minutesOf(h) > 0);
    if (candidates.length === 0) break;
    candidates.sort((a, b) => 1 - emas[a] - (1 - emas[b]) || minutesOf(b) - minutesOf(a) || b - a);
    used -= minutesOf(candidates[0]);
    out[candidates[0]] = 0;
  }
  return out;
}

describe("adjustPlan capacity matches the obvious reference", () => {
  it("drops exactly the items the reference drops (property)", () => {
    fc.assert(
      fc.property(scenario, ({ habits, raw, emas, capacity }) => {
        const plain = habits.map((h) => ({ ...h, exclusiveGroup: null }));
        const clamped = raw.map((l, h) => Math.max(0, Math.min(l, habits[h].levels.length - 1)));
        const cap = capacity ?? 60;
        const out = adjustPlan(compileHabits(plain), Int32Array.from(raw), emas, fixed(0), {
          capacityMinutes: cap,
        });
        expect([...out]).toEqual(referenceCapacity(plain, clamped, emas, cap));
      }),
      { numRuns: 300 },
    );
  });
});
