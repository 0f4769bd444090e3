// One unit vocabulary for defining habits and for reporting them: whatever unit word a habit is
// defined with, a report that uses the same word is understood as that habit's amount.
import { describe, expect, it } from "vitest";
import { parseReport, sessionAmountOf, UNIT_WORDS } from "../../src/coach/index.js";
import { habit } from "./fixtures.js";

const TODAY = "2026-11-22";

describe("unit words", () => {
  it("define durations in minutes, plain counts in times, and keep any other word", () => {
    expect(sessionAmountOf(30, "min")).toEqual({ kind: "duration", unit: "min", target: 30 });
    expect(sessionAmountOf(1.5, "h")).toEqual({ kind: "duration", unit: "min", target: 90 });
    expect(sessionAmountOf(3, undefined)).toEqual({ kind: "count", unit: "times", target: 3 });
    expect(sessionAmountOf(3, "x")).toEqual({ kind: "count", unit: "times", target: 3 });
    expect(sessionAmountOf(20, "Reps")).toEqual({ kind: "count", unit: "reps", target: 20 });
    expect(sessionAmountOf(8, "glasses")).toEqual({ kind: "count", unit: "glasses", target: 8 });
  });

  it.each(Object.keys(UNIT_WORDS))("a habit defined in %s is reported in %s", (word) => {
    const session = sessionAmountOf(20, word);
    const spec = habit({ id: "h", name: "practice", ...session });
    const result = parseReport(`practice 20 ${word}`, [spec], { today: TODAY });
    const minutes = UNIT_WORDS[word] === "hours" ? 20 * 60 : 20;
    expect(result).toMatchObject({
      ok: true,
      items: [{ habitId: "h", amount: session.kind === "duration" ? minutes : 20 }],
    });
  });
});
