import { describe, expect, it } from "vitest";
import { computeGae, explainedVariance } from "../../src/rl/gae.js";

// One environment, three steps, γ = 0.9, λ = 0.8 (γλ = 0.72).
function run(terminated: number[], truncated: number[], truncationValue = 0) {
  const advantages = new Float32Array(3);
  const returns = new Float32Array(3);
  computeGae(
    {
      steps: 3,
      envs: 1,
      channels: 1,
      gamma: 0.9,
      lambda: 0.8,
      rewards: Float32Array.from([1, 2, 3]),
      values: Float32Array.from([0.5, 1.0, 1.5]),
      terminated: Uint8Array.from(terminated),
      truncated: Uint8Array.from(truncated),
      truncationValues: Float32Array.from([0, truncationValue, 0]),
      nextValues: Float32Array.from([2.0]),
    },
    advantages,
    returns,
  );
  return { advantages: Array.from(advantages), returns: Array.from(returns) };
}

describe("GAE", () => {
  it("matches a hand-worked trajectory without episode ends", () => {
    // δ2 = 3 + 0.9·2 − 1.5 = 3.3;  δ1 = 2 + 0.9·1.5 − 1 = 2.35;  δ0 = 1 + 0.9·1 − 0.5 = 1.4
    // A2 = 3.3;  A1 = 2.35 + 0.72·3.3 = 4.726;  A0 = 1.4 + 0.72·4.726 = 4.80272
    const { advantages, returns } = run([0, 0, 0], [0, 0, 0]);
    expect(advantages[2]).toBeCloseTo(3.3, 5);
    expect(advantages[1]).toBeCloseTo(4.726, 5);
    expect(advantages[0]).toBeCloseTo(4.80272, 5);
    expect(returns[0]).toBeCloseTo(4.80272 + 0.5, 5);
  });

  it("a terminal step has no future value and stops the recursion", () => {
    // δ1 = 2 − 1 = 1 (no bootstrap);  A0 = 1.4 + 0.72·1 = 2.12;  A2 unchanged (new episode).
    const { advantages } = run([0, 1, 0], [0, 0, 0]);
    expect(advantages[1]).toBeCloseTo(1, 5);
    expect(advantages[0]).toBeCloseTo(2.12, 5);
    expect(advantages[2]).toBeCloseTo(3.3, 5);
  });

  it("a truncated step bootstraps from the value of its final observation", () => {
    // δ1 = 2 + 0.9·4 − 1 = 4.6;  A0 = 1.4 + 0.72·4.6 = 4.712.
    const { advantages } = run([0, 0, 0], [0, 1, 0], 4);
    expect(advantages[1]).toBeCloseTo(4.6, 5);
    expect(advantages[0]).toBeCloseTo(4.712, 5);
  });
});

describe("explained variance", () => {
  const returns = [1, 2, 3, 4]; // variance 1.25
  it("is 1 for a perfect critic and 0 for one that always says the mean", () => {
    expect(explainedVariance(returns, returns)).toBe(1);
    expect(explainedVariance([2.5, 2.5, 2.5, 2.5], returns)).toBe(0);
  });
  it("is 1 − Var(returns − values) / Var(returns): errors ±1 leave 1 − 1/1.25 = 0.2", () => {
    expect(explainedVariance([0, 3, 2, 5], returns)).toBeCloseTo(0.2, 12);
    // a constant offset costs nothing (as in CleanRL: variance, not mean squared error)
    expect(explainedVariance([11, 12, 13, 14], returns)).toBe(1);
    // worse than a constant: negative
    expect(explainedVariance([4, 3, 2, 1], returns)).toBeCloseTo(1 - 5 / 1.25, 12);
  });
  it("is NaN when the returns do not vary", () => {
    expect(explainedVariance([0, 1], [2, 2])).toBeNaN();
  });
});
