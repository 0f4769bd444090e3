import { describe, expect, it } from "vitest";
import { createRng } from "../../src/coach/index.js";

describe("createRng", () => {
  it("repeats its stream for a seed and differs between seeds", () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xs = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 100 }, () => c.next())).not.toEqual(xs);
    expect(createRng(1).next()).not.toBe(createRng(2 ** 32 + 1).next());
  });

  it("is uniform on [0, 1): bucket counts within 5 % and a mean near 1/2", () => {
    const rng = createRng(7);
    const buckets = new Array(10).fill(0);
    let sum = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const x = rng.next();
      expect(x >= 0 && x < 1).toBe(true);
      buckets[Math.floor(x * 10)]++;
      sum += x;
    }
    for (const b of buckets) expect(Math.abs(b - n / 10)).toBeLessThan(n / 10 / 20);
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.005);
  });

  it("saves and restores state exactly", () => {
    const rng = createRng(9);
    rng.next();
    const copy = createRng(0);
    copy.restore(rng.state());
    expect(copy.next()).toBe(rng.next());
    expect(copy.state()).toEqual(rng.state());
  });

  it("refuses a non-finite seed", () => {
    expect(() => createRng(Number.NaN)).toThrow(RangeError);
  });
});
