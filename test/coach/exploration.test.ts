import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dropCost, explorationSeed, explorePlan } from "../../src/coach/exploration.js";
import {
  alphaFromSpan,
  compileHabits,
  createRng,
  DEFAULT_EMA_SPAN_DAYS,
} from "../../src/coach/index.js";
import { habit } from "./fixtures.js";

const habits = ["a", "b", "c", "d", "e"].map((id) =>
  habit({ id, name: id, kind: "duration", target: 30 }),
);
const compiled = compileHabits(habits);
const alpha = alphaFromSpan(DEFAULT_EMA_SPAN_DAYS);
const target = compiled.targetLevelIndex[0];
const everything = () => new Int32Array(habits.length).fill(target);
/** explorePlan on the five habits with the default EMA span's α */
const explore = (
  emas: number[],
  levels: Int32Array,
  seed: number,
  settings: { probability: number; maxCost: number },
) => explorePlan(compiled, emas, levels, createRng(seed), settings, alpha);

describe("dropCost", () => {
  it("is 1/H for a habit behind, 0 for one still ahead after a missed day, linear between", () => {
    expect(dropCost(0.2, alpha, 5)).toBeCloseTo(0.2, 12);
    expect(dropCost(1 + alpha, alpha, 5)).toBe(0);
    expect(dropCost(1.5, alpha, 5)).toBe(0);
    expect(dropCost(1 + alpha / 2, alpha, 5)).toBeCloseTo(0.1, 12);
  });
});

describe("explorePlan", () => {
  it("never explores with probability 0, and leaves the levels untouched", () => {
    for (let seed = 0; seed < 200; seed++) {
      const levels = everything();
      const out = explore([0, 0, 0, 0, 0], levels, seed, {
        probability: 0,
        maxCost: 10,
      });
      expect(out).toBeNull();
      expect([...levels]).toEqual([...everything()]);
    }
  });

  it("explores on about the configured share of days, each the same way for the same seed", () => {
    let explored = 0;
    const n = 4000;
    for (let seed = 0; seed < n; seed++) {
      const a = everything();
      const b = everything();
      const settings = { probability: 0.1, maxCost: 10 };
      const x = explore([0.5, 0.6, 0.7, 0.8, 0.9], a, seed, settings);
      const y = explore([0.5, 0.6, 0.7, 0.8, 0.9], b, seed, settings);
      expect(y).toEqual(x);
      expect([...b]).toEqual([...a]);
      if (x !== null) explored++;
    }
    // binomial(4000, 0.1): sd ≈ 19
    expect(explored).toBeGreaterThan(n * 0.1 - 80);
    expect(explored).toBeLessThan(n * 0.1 + 80);
  });

  it("leaves out the cheapest habits first and keeps at least one planned", () => {
    const emas = [0.2, 1.5, 0.9, 1.2, 0.4];
    let largest = 0;
    for (let seed = 0; seed < 500; seed++) {
      const levels = everything();
      const out = explore(emas, levels, seed, { probability: 1, maxCost: 10 });
      expect(out).not.toBeNull();
      const dropped = out!.dropped;
      largest = Math.max(largest, dropped.length);
      expect(dropped.length).toBeGreaterThanOrEqual(1);
      expect(dropped.length).toBeLessThanOrEqual(4);
      // the order by EMA, highest first: b (1.5), d (1.2), c (0.9), e (0.4), a (0.2)
      const order = [1, 3, 2, 4, 0];
      expect(new Set(dropped)).toEqual(new Set(order.slice(0, dropped.length)));
      for (let h = 0; h < 5; h++) expect(levels[h]).toBe(dropped.includes(h) ? 0 : target);
      expect(out!.greedyLevels).toEqual([...everything()]);
    }
    expect(largest).toBe(4);
  });

  it("never exceeds the cost bound (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 2, noNaN: true }), { minLength: 5, maxLength: 5 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (emas, maxCost, seed) => {
          const levels = everything();
          const out = explore(emas, levels, seed, { probability: 1, maxCost });
          if (out === null) {
            expect([...levels]).toEqual([...everything()]);
            return;
          }
          const cost = out.dropped.reduce((s, h) => s + dropCost(emas[h], alpha, 5), 0);
          expect(cost).toBeCloseTo(out.cost, 12);
          expect(cost).toBeLessThanOrEqual(maxCost + 1e-9);
          expect(out.dropped.length).toBeLessThanOrEqual(out.asked);
        },
      ),
    );
  });

  it("does not explore when fewer than two habits are planned or the cheapest costs too much", () => {
    const one = new Int32Array(5);
    one[2] = target;
    expect(explore([0, 0, 0, 0, 0], one, 1, { probability: 1, maxCost: 10 })).toBeNull();
    // every habit behind: each costs 1/5 = 0.2 reward-days
    const levels = everything();
    expect(explore([0, 0, 0, 0, 0], levels, 1, { probability: 1, maxCost: 0.19 })).toBeNull();
    expect([...levels]).toEqual([...everything()]);
  });

  it("draws from its own seed, apart from the plan's", () => {
    expect(explorationSeed(12345)).not.toBe(12345);
    expect(explorationSeed(12345)).toBe(explorationSeed(12345));
    expect(explorationSeed(1)).not.toBe(explorationSeed(2));
  });
});
