// A habit whose name holds a number ("Bed by 11", "Run 5 a.m. … ") is logged by its name: the
// number is part of the name, not the amount. Found by `coachrl simulate` on the cross-effects
// persona: "Bed by 11" (a yes/no habit) was refused ("write just "Bed by 11"") whatever was
// written, so it could never be logged by text.
import { describe, expect, it } from "vitest";
import { parseReport } from "../../src/coach/index.js";
import { habit } from "./fixtures.js";

const TODAY = "2026-11-22";
const habits = [
  habit({ id: "sleep", name: "Bed by 11", kind: "check" }),
  habit({ id: "read", name: "Read", kind: "count", unit: "pages", target: 15 }),
  habit({ id: "run", name: "Run 5k", kind: "duration", unit: "min", target: 30 }),
  habit({ id: "walk", name: "Walk", kind: "duration", unit: "min", target: 20 }),
];
const parse = (text: string) => parseReport(text, habits, { today: TODAY });
const items = (text: string) => {
  const r = parse(text);
  if (!r.ok) throw new Error(`not understood: ${r.problems.join("; ")}`);
  return r.items.map((i) => [i.habitId, i.amount, i.day]);
};

describe("a number in a habit's name", () => {
  it("logs a yes/no habit named with a number by its name", () => {
    expect(items("Bed by 11")).toEqual([["sleep", 1, TODAY]]);
    expect(items("bed by 11 yesterday")).toEqual([["sleep", 1, "2026-11-21"]]);
    expect(items("Bed by 11, Read 15 pages")).toEqual([
      ["sleep", 1, TODAY],
      ["read", 15, TODAY],
    ]);
  });

  it("reads the amount after a name that ends in a number", () => {
    expect(items("Run 5k 30 min")).toEqual([["run", 30, TODAY]]);
    expect(items("walk 11")).toEqual([["walk", 11, TODAY]]);
  });

  it("still reads a number after another habit's name as its amount", () => {
    // "by 11" is only the name after "bed"
    expect(items("read 11")).toEqual([["read", 11, TODAY]]);
  });
});
