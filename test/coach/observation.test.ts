import { describe, expect, it } from "vitest";
import {
  buildObservation,
  emasInSpecOrder,
  observationSpec,
  sameSpec,
} from "../../src/coach/index.js";
import { habit } from "./fixtures.js";

const habits = [
  habit({ id: "run", name: "run", kind: "duration", target: 30, daysPerWeek: 5 }),
  habit({ id: "med", name: "meditate", kind: "check", actorGroup: 1 }),
];
const weight = {
  id: "w",
  name: "weight",
  unit: "kg",
  target: 70,
  tolerance: 1,
  direction: "reach" as const,
};

describe("observationSpec", () => {
  it("describes a fixed layout and survives JSON", () => {
    const spec = observationSpec(habits, [weight]);
    expect(spec).toMatchObject({
      version: 1,
      habitIds: ["run", "med"],
      levels: [
        [0, 15, 30, 45],
        [0, 1],
      ],
      actorGroups: [0, 1],
      metricIds: ["w"],
      weekdayOffset: 2,
      metricOffset: 9,
      size: 10,
    });
    expect(sameSpec(spec, JSON.parse(JSON.stringify(spec)))).toEqual({ same: true });
  });

  it("names every difference", () => {
    const spec = observationSpec(habits, [weight]);
    const changed = observationSpec(
      [
        habit({ id: "med", name: "meditate", kind: "check", actorGroup: 0 }),
        habit({ id: "run", name: "run", kind: "duration", target: 40, daysPerWeek: 5 }),
      ],
      [],
    );
    const r = sameSpec(spec, changed);
    expect(r).toEqual({
      same: false,
      differences: [
        'habit order differs: "run", "med" vs "med", "run"',
        'habit "run" levels [0, 15, 30, 45] vs [0, 20, 40, 60]',
        'habit "med" actor group 1 vs 0',
        'metrics ["w"] vs []',
      ],
    });
    const added = sameSpec(
      spec,
      observationSpec([...habits, habit({ id: "x", name: "x", kind: "check" })], [weight]),
    );
    expect(added).toEqual({ same: false, differences: ['habits not in the stored spec: "x"'] });
    const relevelled = sameSpec(
      spec,
      observationSpec(
        [
          habit({ id: "run", name: "run", kind: "duration", target: 40, daysPerWeek: 5 }),
          habits[1],
        ],
        [weight],
      ),
    );
    expect(relevelled).toEqual({
      same: false,
      differences: ['habit "run" levels [0, 15, 30, 45] vs [0, 20, 40, 60]'],
    });
  });
});

describe("buildObservation", () => {
  const spec = observationSpec(habits, [weight]);

  it("encodes clamp(ema − 1, −1, 1), the weekday one-hot and the metric deviation", () => {
    const obs = buildObservation(spec, [0.88, 2.5], "2026-11-22", [2.4]);
    expect(obs).toBeInstanceOf(Float32Array);
    expect(obs[0]).toBeCloseTo(-0.12, 6);
    expect(obs[1]).toBe(1);
    expect([...obs.slice(2, 9)]).toEqual([0, 0, 0, 0, 0, 0, 1]); // Sunday
    expect(obs[9]).toBeCloseTo(0.8, 6); // 2.4 tolerances / cap 3
  });

  it("accepts a weekday index, writes at an offset without allocating, maps NaN safely", () => {
    const out = new Float32Array(25).fill(9);
    const res = buildObservation(spec, [Number.NaN, 0], 0, [Number.NaN], out, 5);
    expect(res).toBe(out);
    expect([...out.slice(0, 5)]).toEqual([9, 9, 9, 9, 9]);
    expect([...out.slice(5, 15)]).toEqual([-1, -1, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(out[15]).toBe(9);
    expect(() => buildObservation(spec, [1, 1], 7)).toThrow(/0–6/);
  });

  it("orders EMAs by the spec", () => {
    expect([...emasInSpecOrder(spec, { med: 0.5 })]).toEqual([0, 0.5]);
  });
});
