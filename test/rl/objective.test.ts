import { describe, expect, it } from "vitest";
import { initBackend, tf } from "../../src/rl/backend.js";
import { clipFraction, valueLoss } from "../../src/rl/objective.js";
import { approxKl, clippedSurrogateLoss } from "./support/reference-loss.js";

await initBackend();

const scalar = (t: tf.Tensor) => {
  const v = (t.dataSync() as Float32Array)[0];
  t.dispose();
  return v;
};

describe("clipped surrogate objective", () => {
  it("at ratio 1 equals minus the mean advantage", () => {
    const loss = tf.tidy(() => clippedSurrogateLoss(tf.ones([3]), tf.tensor1d([1, -2, 4]), 0.2));
    expect(scalar(loss)).toBeCloseTo(-1, 6);
  });

  it("beyond the clip uses the clipped (pessimistic) term and stops the gradient", () => {
    // A = +2, r = 1.5 → min(3, 2.4) = 2.4;  A = −1, r = 0.5 → min(−0.5, −0.8) = −0.8.
    const loss = tf.tidy(() =>
      clippedSurrogateLoss(tf.tensor1d([1.5, 0.5]), tf.tensor1d([2, -1]), 0.2),
    );
    expect(scalar(loss)).toBeCloseTo(-(2.4 - 0.8) / 2, 6);
    const grad = tf.tidy(() =>
      tf.grad((r: tf.Tensor) => clippedSurrogateLoss(r, tf.tensor1d([2, -1]), 0.2))(
        tf.tensor1d([1.5, 0.5]),
      ),
    );
    expect(Array.from(grad.dataSync())).toEqual([0, 0]);
    // Inside the clip range the gradient is −A / n.
    const inside = tf.tidy(() =>
      tf.grad((r: tf.Tensor) => clippedSurrogateLoss(r, tf.tensor1d([2, -1]), 0.2))(
        tf.tensor1d([1.1, 0.9]),
      ),
    );
    const g = inside.dataSync();
    expect(g[0]).toBeCloseTo(-1, 6);
    expect(g[1]).toBeCloseTo(0.5, 6);
  });

  it("counts ratios outside the clip range and estimates KL", () => {
    expect(scalar(tf.tidy(() => clipFraction(tf.tensor1d([1, 1.3, 0.7, 1.1]), 0.2)))).toBeCloseTo(
      0.5,
      6,
    );
    expect(scalar(tf.tidy(() => approxKl(tf.zeros([4]))))).toBeCloseTo(0, 6);
    expect(scalar(tf.tidy(() => approxKl(tf.tensor1d([0.5]))))).toBeCloseTo(
      Math.exp(0.5) - 1 - 0.5,
      5,
    );
  });

  it("value loss is ½·MSE, and the clipped version keeps the larger error", () => {
    const plain = tf.tidy(() =>
      valueLoss(tf.tensor1d([1, 3]), tf.tensor1d([0, 0]), tf.zeros([2]), null),
    );
    expect(scalar(plain)).toBeCloseTo(0.5 * ((1 + 9) / 2), 6);
    // Old value 0, new 3, clip 0.2 → clipped prediction 0.2 vs return 5: max((3−5)², (0.2−5)²).
    const clipped = tf.tidy(() =>
      valueLoss(tf.tensor1d([3]), tf.tensor1d([5]), tf.zeros([1]), 0.2),
    );
    expect(scalar(clipped)).toBeCloseTo(0.5 * 4.8 ** 2, 4);
  });
});
