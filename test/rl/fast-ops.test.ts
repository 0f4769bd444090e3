// The hand-written gradients of src/rl/fast-ops.ts against TensorFlow.js's own automatic
// differentiation of the same functions written with plain kernels.
import { describe, expect, it } from "vitest";
import { createRng } from "../../src/coach/rng.js";
import { initBackend, tf } from "../../src/rl/backend.js";
import {
  denseOnInput,
  denseTanh,
  habitSelectionColumns,
  packsInput,
  sharedFirstLayer,
} from "../../src/rl/fast-ops.js";

await initBackend();

const rng = createRng(5);
const random = (rows: number, cols: number) =>
  tf.tensor2d(
    Float32Array.from({ length: rows * cols }, () => rng.next() * 2 - 1),
    [rows, cols],
  );

function expectClose(actual: tf.Tensor, expected: tf.Tensor) {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.dataSync();
  const e = expected.dataSync();
  const scale = Math.max(...Array.from(e, Math.abs), 1e-3);
  let worst = 0;
  for (let i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(a[i] - e[i]));
  expect(worst / scale).toBeLessThan(1e-5);
}

describe("habitSelectionColumns", () => {
  it("marks each row's habit in the [rows·H, ·] layout", () => {
    const selection = habitSelectionColumns(2, 3);
    expect(selection.arraySync()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    expect(habitSelectionColumns(2, 3)).toBe(selection);
  });
});

describe("sharedFirstLayer", () => {
  const B = 7;
  const H = 3;
  const hidden = 4;
  for (const E of [1, 4]) {
    for (const selectGiven of [false, true]) {
      it(`has tfjs's own gradients (E = ${E}, habit selection ${selectGiven ? "given" : "made in the backward pass"})`, () => {
        const S = random(B, hidden);
        const D = random(H, hidden);
        const w = random(E, hidden);
        const e = random(B * H, E);
        // a weighting of the outputs, so that every output's gradient differs
        const g = random(B * H, hidden);
        const eSelect = selectGiven ? tf.concat([e, habitSelectionColumns(B, H)], 1) : null;
        const custom = tf.grads((s, d, wv) =>
          tf.sum(
            tf.mul(
              sharedFirstLayer(s as tf.Tensor2D, d as tf.Tensor2D, wv as tf.Tensor2D, e, eSelect),
              g,
            ),
          ),
        )([S, D, w]);
        const plain = tf.grads((s, d, wv) => {
          const z = tf.add(
            tf.add(tf.reshape(s, [B, 1, hidden]), tf.reshape(d, [1, H, hidden])),
            tf.reshape(tf.matMul(e, wv as tf.Tensor2D), [B, H, hidden]),
          );
          return tf.sum(tf.mul(tf.reshape(tf.tanh(z), [B * H, hidden]), g));
        })([S, D, w]);
        custom.forEach((grad, i) => {
          expectClose(grad, plain[i]);
        });
      });
    }
  }

  // (5 inputs, 4 outputs): the weight gradient packs dz; (3, 6): it packs x
  for (const [inputs, outputs] of [
    [5, 4],
    [3, 6],
  ]) {
    it(`denseTanh and denseOnInput have tfjs's own gradients (${inputs} → ${outputs}, packs ${packsInput(inputs, outputs) ? "x" : "dz"})`, () => {
      const x = random(9, inputs);
      const w = random(inputs, outputs);
      const b = tf.tensor1d(Array.from({ length: outputs }, (_, i) => i / 10 - 0.2));
      const g = random(9, outputs);
      const plain = tf.grads((xv, wv, bv) =>
        tf.sum(tf.mul(tf.tanh(tf.add(tf.matMul(xv as tf.Tensor2D, wv as tf.Tensor2D), bv)), g)),
      )([x, w, b]);
      const custom = tf.grads((xv, wv, bv) =>
        tf.sum(tf.mul(denseTanh(xv as tf.Tensor2D, wv, bv), g)),
      )([x, w, b]);
      custom.forEach((grad, i) => {
        expectClose(grad, plain[i]);
      });
      for (const xT of [null, tf.transpose(x) as tf.Tensor2D]) {
        const onInput = tf.grads((wv, bv) =>
          tf.sum(tf.mul(denseOnInput(x, xT, wv, bv, "tanh"), g)),
        )([w, b]);
        expectClose(onInput[0], plain[1]);
        expectClose(onInput[1], plain[2]);
      }
    });
  }
});
