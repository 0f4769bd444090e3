import { describe, expect, it } from "vitest";
import { createRng } from "../../src/coach/rng.js";
import { initBackend, tf } from "../../src/rl/backend.js";
import {
  fastMultiCategoricalStats,
  MASKED_LOGIT,
  sampleMultiCategorical,
} from "../../src/rl/distribution.js";
import { multiCategoricalStats, oneHotLevels } from "./support/reference-loss.js";

await initBackend();

// Two habits on a padded axis of 3 levels; habit 1 has only 2 levels (third masked).
// Habit 0: logits [0, 0, 0] → p = 1/3 each. Habit 1: logits [ln 3, 0] → p = [3/4, 1/4].
const logits = [0, 0, 0, Math.log(3), 0, MASKED_LOGIT];
const mask = [1, 1, 1, 1, 1, 0];

describe("multi-categorical distribution", () => {
  it("log-probability is the sum over habits of each chosen level's log-probability", () => {
    const stats = tf.tidy(() => {
      const oneHot = oneHotLevels(Int32Array.from([1, 0, 2, 1]), 2, 2, 3);
      const s = multiCategoricalStats(
        tf.tensor3d([...logits, ...logits], [2, 2, 3]),
        tf.tensor2d(mask, [2, 3]),
        tf.tensor2d(oneHot, [2, 6]),
      );
      return [s.logProb.arraySync() as number[][], s.entropy.arraySync() as number[][]];
    });
    const [logProb, entropy] = stats;
    // Row 0 chose (1, 0): log(1/3) + log(3/4). Row 1 chose (2, 1): log(1/3) + log(1/4).
    expect(logProb[0][0] + logProb[0][1]).toBeCloseTo(Math.log(1 / 3) + Math.log(3 / 4), 5);
    expect(logProb[1][0] + logProb[1][1]).toBeCloseTo(Math.log(1 / 3) + Math.log(1 / 4), 5);
    // Entropy: ln 3 for the uniform habit, −(¾ ln ¾ + ¼ ln ¼) for the other; the masked level adds nothing.
    expect(entropy[0][0]).toBeCloseTo(Math.log(3), 5);
    expect(entropy[0][1]).toBeCloseTo(-(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25)), 5);
    expect(Number.isFinite(entropy[1][1])).toBe(true);
  });

  it("the training version (softmax-based) gives the same log-probabilities and entropies", () => {
    const rng = createRng(4);
    const [a, b] = tf.tidy(() => {
      const raw = Array.from({ length: 4 * 6 }, () => rng.next() * 8 - 4);
      const masked = raw.map((x, i) => (mask[i % 6] === 0 ? MASKED_LOGIT : x));
      const z = tf.tensor3d(masked, [4, 2, 3]);
      const oneHot = oneHotLevels(Int32Array.from([2, 1, 0, 0, 1, 1, 2, 0]), 4, 2, 3);
      const slow = multiCategoricalStats(z, tf.tensor2d(mask, [2, 3]), tf.tensor2d(oneHot, [4, 6]));
      const fast = fastMultiCategoricalStats(z, tf.tensor3d(oneHot, [4, 2, 3]));
      return [
        [slow.logProb.dataSync(), slow.entropy.dataSync()],
        [fast.logProb.dataSync(), fast.entropy.dataSync()],
      ];
    });
    for (let i = 0; i < 8; i++) {
      expect(b[0][i]).toBeCloseTo(a[0][i], 5);
      expect(b[1][i]).toBeCloseTo(a[1][i], 5);
    }
  });

  it("sampling never picks a missing level and matches the probabilities", () => {
    const rng = createRng(3);
    const rows = 4000;
    const big = new Float32Array(rows * 6);
    for (let r = 0; r < rows; r++) big.set(logits, r * 6);
    const actions = new Int32Array(rows * 2);
    const logProbs = new Float32Array(rows * 2);
    sampleMultiCategorical(big, rows, 2, 3, [3, 2], rng, actions, logProbs);
    let firstLevelOfHabit1 = 0;
    for (let r = 0; r < rows; r++) {
      expect(actions[r * 2 + 1]).toBeLessThan(2);
      if (actions[r * 2 + 1] === 0) firstLevelOfHabit1++;
    }
    expect(firstLevelOfHabit1 / rows).toBeGreaterThan(0.72);
    expect(firstLevelOfHabit1 / rows).toBeLessThan(0.78);
    expect(logProbs[1]).toBeCloseTo(actions[1] === 0 ? Math.log(0.75) : Math.log(0.25), 5);
  });

  it("greedy choice takes the most likely existing level", () => {
    const actions = new Int32Array(2);
    sampleMultiCategorical(
      Float32Array.from([0, 2, 1, 0, 1, 5]),
      1,
      2,
      3,
      [3, 2],
      null,
      actions,
      null,
    );
    expect(Array.from(actions)).toEqual([1, 1]);
  });
});
