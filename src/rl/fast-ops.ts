/**
 * Network building blocks with hand-written gradients, shaped around what is fast and what is
 * slow on TensorFlow.js's WASM backend (measured, 2-core AMD EPYC, Node 20; see docs/rl.md):
 *
 *  - `tanh` runs scalar libm code: 0.98 ms for 1024×64, while `sigmoid` (XNNPACK, SIMD) takes
 *    0.08 ms; tanh(z) = 2·sigmoid(2z) − 1 is the same function, 12× faster.
 *  - `exp` / `log` are slow too (3.9 / 2.3 ms for 1024×460), `softmax` is fast (0.36 ms).
 *  - matMul with a transpose flag runs 10–20× slower than the plain product, and
 *    `tf.transpose` of a tall [1024, 64] matrix takes 0.49 ms, while the same permutation
 *    written as [32, 32, 64] → [64, 32, 32] takes 0.08 ms (`transposeRows`).
 *  - `sum` over axis 0 (a bias gradient) transposes internally (0.78 ms for 1024×100); a
 *    product with a row of ones does it in 0.04 ms.
 *  - every kernel launch costs ~10 µs, so fewer, larger kernels win.
 */
import type * as tfTypes from "@tensorflow/tfjs-core";
import { tf } from "./backend.js";

/** The factor p of `rows` closest to √rows (1 when rows is prime or small). */
function splitFactor(rows: number): number {
  for (let p = Math.floor(Math.sqrt(rows)); p > 1; p--) if (rows % p === 0) return p;
  return 1;
}

/** xᵀ for x = [rows, cols], through a rank-3 permutation that the WASM kernel does fast. */
export function transposeRows(x: tfTypes.Tensor2D): tfTypes.Tensor2D {
  const [rows, cols] = x.shape;
  const p = splitFactor(rows);
  if (p === 1 || cols === 1) return tf.transpose(x);
  const q = rows / p;
  return tf.reshape(tf.transpose(tf.reshape(x, [p, q, cols]), [2, 0, 1]), [cols, rows]);
}

/** tanh(z) = 2·sigmoid(2z) − 1 (sigmoid is a vectorised kernel, tanh is not). */
export function fastTanhForward(z: tfTypes.Tensor): tfTypes.Tensor {
  return tanhFromDoubled(tf.mul(z, 2));
}

/**
 * tanh(z) from 2z (`fastTanhForward` after its product by 2): for a pre-activation computed
 * with doubled weights, x·(2W) + 2b, which is 2·(x·W + b) bit for bit (doubling is exact).
 */
export function tanhFromDoubled(z2: tfTypes.Tensor): tfTypes.Tensor {
  return tf.sub(tf.mul(tf.sigmoid(z2), 2), 1);
}

/** Row vectors of ones, cached per batch size (for bias gradients). */
const onesRows = new Map<number, tfTypes.Tensor2D>();
function onesRow(rows: number): tfTypes.Tensor2D {
  let ones = onesRows.get(rows);
  if (ones === undefined || ones.isDisposed) {
    ones = tf.keep(tf.ones([1, rows]) as tfTypes.Tensor2D);
    onesRows.set(rows, ones);
  }
  return ones;
}

/**
 * [rows·H, H]: row b·H + h (habit h of sample b in a per-habit layout) has its 1 in column h.
 * Cached per shape, like the ones rows.
 */
const selectionColumns = new Map<string, tfTypes.Tensor2D>();
export function habitSelectionColumns(rows: number, habits: number): tfTypes.Tensor2D {
  const key = `${rows}x${habits}`;
  let selection = selectionColumns.get(key);
  if (selection === undefined || selection.isDisposed) {
    const values = new Float32Array(rows * habits * habits);
    markHabitColumns(values, rows, habits, habits, 0);
    selection = tf.keep(tf.tensor2d(values, [rows * habits, habits]));
    selectionColumns.set(key, selection);
  }
  return selection;
}

/**
 * Writes the one-hot habit columns of `habitSelectionColumns` into a row-major buffer of rows·H
 * rows of `width` values, starting at column `offset` of each row (the rest is left as it is).
 */
export function markHabitColumns(
  values: Float32Array,
  rows: number,
  habits: number,
  width: number,
  offset: number,
): void {
  for (let r = 0; r < rows * habits; r++) values[r * width + offset + (r % habits)] = 1;
}

/**
 * Whether the weight gradient xᵀ·dz of a layer with `inputWidth` inputs and `outputWidth`
 * outputs packs x rather than dz. The WASM backend packs a product's second operand before
 * multiplying, which for a tall operand (one row per sample) costs about as much as the product
 * itself, so the narrower one is packed: x when it has fewer columns, as (dzᵀ·x)ᵀ.
 */
export function packsInput(inputWidth: number, outputWidth: number): boolean {
  return inputWidth < outputWidth;
}

/**
 * The gradients of W and b for z = x·W + b: xᵀ·dz and the column sums of dz, packing the
 * narrower of x and dz (`packsInput`). Packing x: (dzᵀ·x)ᵀ, the bias gradient summed along dzᵀ's
 * inner axis. Packing dz: xᵀ·dz (xᵀ built already, or transposed here), the bias gradient a
 * product of the same dz with a row of ones, which reuses its packing. Either way the same
 * products summed in the same order.
 */
function weightAndBiasGradients(
  x: tfTypes.Tensor2D,
  xT: tfTypes.Tensor2D | null,
  dz: tfTypes.Tensor2D,
): [tfTypes.Tensor2D, tfTypes.Tensor1D] {
  if (packsInput(x.shape[1], dz.shape[1])) {
    const dzT = transposeRows(dz);
    return [tf.transpose(tf.matMul(dzT, x)) as tfTypes.Tensor2D, tf.sum(dzT, 1)];
  }
  return [tf.matMul(xT ?? transposeRows(x), dz), biasGradient(dz)];
}

function biasGradient(dz: tfTypes.Tensor2D): tfTypes.Tensor1D {
  return tf.reshape(tf.matMul(onesRow(dz.shape[0]), dz), [dz.shape[1]]);
}

type Activation = "tanh" | "linear";

function activate(z: tfTypes.Tensor2D, activation: Activation): tfTypes.Tensor2D {
  return activation === "tanh" ? (fastTanhForward(z) as tfTypes.Tensor2D) : z;
}

/** dL/dz from dL/dy for y = act(z), using the output y. */
function activationGradient(
  dy: tfTypes.Tensor2D,
  y: tfTypes.Tensor2D,
  activation: Activation,
): tfTypes.Tensor2D {
  return activation === "tanh" ? tf.mul(dy, tf.sub(1, tf.square(y))) : dy;
}

/**
 * y = act(x·W + b) with its gradient for x, W and b, written with plain matrix products only.
 */
export const dense = (activation: Activation) =>
  tf.customGrad(
    // biome-ignore lint/suspicious/noExplicitAny: tfjs types customGrad's arguments loosely
    (x: any, w: any, b: any, save: any) => {
      const y = activate(tf.add(tf.matMul(x, w), b), activation);
      save([x, w, y]);
      return {
        value: y,
        gradFunc: (dy: tfTypes.Tensor, saved: tfTypes.Tensor[]) => {
          const [xs, ws, ys] = saved as [tfTypes.Tensor2D, tfTypes.Tensor2D, tfTypes.Tensor2D];
          const dz = activationGradient(dy as tfTypes.Tensor2D, ys, activation);
          return [tf.matMul(dz, tf.transpose(ws)), ...weightAndBiasGradients(xs, null, dz)];
        },
      };
    },
  ) as (x: tfTypes.Tensor2D, w: tfTypes.Tensor, b: tfTypes.Tensor) => tfTypes.Tensor2D;

export const denseTanh = dense("tanh");
export const denseLinear = dense("linear");

/**
 * y = act(x·W + b) for an input that needs no gradient (the observations): no dx product; xᵀ,
 * for a weight gradient that packs dz (`packsInput`), can be handed in (built in JavaScript).
 */
export function denseOnInput(
  x: tfTypes.Tensor2D,
  xT: tfTypes.Tensor2D | null,
  w: tfTypes.Tensor,
  b: tfTypes.Tensor,
  activation: Activation,
): tfTypes.Tensor2D {
  const op = tf.customGrad(
    // biome-ignore lint/suspicious/noExplicitAny: tfjs types customGrad's arguments loosely
    (wv: any, bv: any, save: any) => {
      const y = activate(tf.add(tf.matMul(x, wv), bv), activation);
      // The input is saved too: it may be an intermediate (a slice of the observations).
      save(xT === null ? [y, x] : [y, x, xT]);
      return {
        value: y,
        gradFunc: (dy: tfTypes.Tensor, saved: tfTypes.Tensor[]) => {
          const [ys, xs, xsT] = saved as tfTypes.Tensor2D[];
          const dz = activationGradient(dy as tfTypes.Tensor2D, ys, activation);
          return weightAndBiasGradients(xs, xsT ?? null, dz);
        },
      };
    },
  ) as (w: tfTypes.Tensor, b: tfTypes.Tensor) => tfTypes.Tensor2D;
  return op(w, b);
}

/**
 * The shared actor's first layer before its tanh: z[b, h] = S[b] + D[h] + e[b·H + h]·w, as
 * [B, H, hidden] (shapes as in `sharedFirstLayer`; the acting pass gives it doubled weights).
 */
export function sharedPreActivation(
  S: tfTypes.Tensor,
  D: tfTypes.Tensor,
  w: tfTypes.Tensor,
  e: tfTypes.Tensor2D,
): tfTypes.Tensor3D {
  const H = D.shape[0];
  const [rows, E] = e.shape;
  const B = rows / H;
  const hidden = w.shape[1] as number;
  // E = 1 (the EMA alone): a broadcast product; E > 1: [B·H, E] · [E, hidden].
  const own =
    E === 1
      ? tf.mul(tf.reshape(e, [B, H, 1]), tf.reshape(w, [1, 1, hidden]))
      : tf.reshape(tf.matMul(e, w as tfTypes.Tensor2D), [B, H, hidden]);
  return tf.add(
    tf.add(tf.reshape(S, [B, 1, hidden]), tf.reshape(D, [1, H, hidden])),
    own,
  ) as tfTypes.Tensor3D;
}

/**
 * The shared actor's first layer for every (sample, habit): y[b, h] = tanh(S[b] + D[h] +
 * e[b·H + h]·w), returned flat as [B·H, hidden]. S: the summary's contribution [B, hidden]; D:
 * the habit descriptors' contribution [H, hidden]; w: the weight of each habit's own inputs
 * [E, hidden]; e: each habit's own inputs [B·H, E] (its EMA, then its behaviour features; data,
 * no gradient). eSelect, if built already (`InputBuffers`), is e followed by each row's habit as
 * a one-hot column (`habitSelectionColumns`): [B·H, E + H]; without it, it is made here.
 *
 * The gradients of w and D come from one product, (dzᵀ · eSelect)ᵀ = [E + H, hidden]: dW, then
 * dD (the sums of dz over the samples, habit by habit). It packs eSelect, narrower than dz
 * (`packsInput`), once, where a ones-row product for dD and eᵀ·dz for dW packed dz twice (~1.2
 * ms more per 1,024-sample minibatch of 5 habits). The zeros of the one-hot columns add exact
 * zeros: the same sums, bit for bit.
 */
export function sharedFirstLayer(
  S: tfTypes.Tensor2D,
  D: tfTypes.Tensor2D,
  w: tfTypes.Tensor2D,
  e: tfTypes.Tensor2D,
  eSelect: tfTypes.Tensor2D | null = null,
): tfTypes.Tensor2D {
  const B = S.shape[0];
  const H = D.shape[0];
  const E = e.shape[1];
  const hidden = S.shape[1];
  const op = tf.customGrad(
    // biome-ignore lint/suspicious/noExplicitAny: tfjs types customGrad's arguments loosely
    (s: any, d: any, wv: any, save: any) => {
      const y = tf.reshape(fastTanhForward(sharedPreActivation(s, d, wv, e)), [B * H, hidden]);
      // e may be an intermediate of the forward pass: saved so that it outlives it.
      save([y, eSelect ?? e]);
      return {
        value: y,
        gradFunc: (dy: tfTypes.Tensor, saved: tfTypes.Tensor[]) => {
          const [ys, input] = saved as [tfTypes.Tensor2D, tfTypes.Tensor2D];
          const dz = activationGradient(dy as tfTypes.Tensor2D, ys, "tanh");
          const dS = tf.sum(tf.reshape(dz, [B, H, hidden]), 1);
          const select =
            eSelect !== null ? input : tf.concat([input, habitSelectionColumns(B, H)], 1);
          const both = tf.transpose(tf.matMul(transposeRows(dz), select));
          const dW = tf.slice(both, [0, 0], [E, hidden]);
          const dD = tf.slice(both, [E, 0], [H, hidden]);
          return [dS, dD, dW];
        },
      };
    },
  ) as (s: tfTypes.Tensor, d: tfTypes.Tensor, w: tfTypes.Tensor) => tfTypes.Tensor2D;
  return op(S, D, w);
}
