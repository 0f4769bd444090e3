/**
 * Multi-categorical distribution: one categorical per habit (sub-action), habits independent.
 * Logits come padded to the largest level count; `mask[h][l]` is 1 where habit h has level l.
 * Log-probability and entropy of the joint action are sums over habits; they are returned per
 * habit so that callers can also form per-group or per-habit probability ratios.
 */
import type * as tfTypes from "@tensorflow/tfjs";
import { tf } from "./backend.js";
import type { UniformSource } from "./random.js";

/** Large negative logit given to levels a habit lacks (exp underflows to exactly 0). */
export const MASKED_LOGIT = -1e9;

/**
 * Pushes logits of missing levels down to about MASKED_LOGIT. `maskBias` is [H, L]: 0 where a
 * level exists, MASKED_LOGIT where it does not (one addition instead of a select).
 */
export function applyLevelMask(logits: tfTypes.Tensor, maskBias: tfTypes.Tensor): tfTypes.Tensor {
  return tf.add(logits, maskBias);
}

/** One-hot encoding of level indices [B·H] as a Float32Array [B, H·L] (built in JS). */
export function oneHotLevels(
  actions: Int32Array,
  rows: number,
  habits: number,
  levels: number,
  out?: Float32Array,
): Float32Array {
  const result = out ?? new Float32Array(rows * habits * levels);
  result.fill(0);
  for (let i = 0; i < rows * habits; i++) result[i * levels + actions[i]] = 1;
  return result;
}

/**
 * Per-habit log-probabilities of the chosen levels (`oneHot`, [B, H, L] or [B, H·L]) under masked
 * `logits` ([B, H, L]), and per-habit entropies. Both are [B, H]. `mask` is [H, L] of 0/1.
 */
export function multiCategoricalStats(
  maskedLogits: tfTypes.Tensor,
  mask: tfTypes.Tensor,
  oneHot: tfTypes.Tensor,
): { logProb: tfTypes.Tensor; entropy: tfTypes.Tensor } {
  return tf.tidy(() => {
    const logSoftmax = tf.logSoftmax(maskedLogits, -1);
    const chosen = oneHot.rank === 3 ? oneHot : tf.reshape(oneHot, maskedLogits.shape);
    const logProb = tf.sum(tf.mul(logSoftmax, chosen), -1);
    // Masked levels have probability 0; multiplying by the mask keeps 0·(−1e9) out of the sum.
    const entropy = tf.neg(tf.sum(tf.mul(tf.mul(tf.exp(logSoftmax), logSoftmax), mask), -1));
    return { logProb, entropy };
  });
}

/**
 * Samples (or, when `greedy`, takes the arg-max of) one level per (row, habit) from masked logits
 * already copied to JavaScript, writing the level index to `actions` and its log-probability to
 * `logProbs` (both [B·H]). Sampling in JavaScript keeps draws identical on every backend.
 */
export function sampleMultiCategorical(
  logits: Float32Array,
  rows: number,
  habits: number,
  levels: number,
  levelCount: ArrayLike<number>,
  rng: UniformSource | null,
  actions: Int32Array,
  logProbs: Float32Array | null,
): void {
  // exp(logit − max) of one habit's levels, computed once and reused for the draw.
  if (expScratch.length < levels) expScratch = new Float64Array(levels);
  const weights = expScratch;
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < habits; h++) {
      const base = (r * habits + h) * levels;
      const count = levelCount[h];
      let max = -Infinity;
      let best = 0;
      for (let l = 0; l < count; l++) {
        if (logits[base + l] > max) {
          max = logits[base + l];
          best = l;
        }
      }
      let chosen = best;
      let total = 1;
      if (rng || logProbs) {
        total = 0;
        for (let l = 0; l < count; l++) {
          const w = Math.exp(logits[base + l] - max);
          weights[l] = w;
          total += w;
        }
      }
      if (rng) {
        let u = rng.next() * total;
        chosen = count - 1;
        for (let l = 0; l < count; l++) {
          u -= weights[l];
          if (u < 0) {
            chosen = l;
            break;
          }
        }
      }
      actions[r * habits + h] = chosen;
      if (logProbs) logProbs[r * habits + h] = logits[base + chosen] - max - Math.log(total);
    }
  }
}

let expScratch = new Float64Array(32);

/**
 * The same statistics as `multiCategoricalStats`, computed for training with fast WASM kernels
 * only (softmax is vectorised; exp and log over the padded [B, n, L] tensor are not):
 *   p = softmax(z);  log p_a = log Σ_l onehot·p  (a log over [B, n] only)
 *   lse = z_a − log p_a  (for the chosen level a: log p_a = z_a − lse)
 *   entropy = lse − Σ_l p_l·z_l = z_a − log p_a − Σ_l p_l·z_l
 * Masked levels have p = 0 exactly and add nothing. p_a is floored at 1e-30 so that a chosen
 * level whose probability underflowed cannot produce −∞ (its gradient is then cut).
 * `maskedLogits` [B, n, L]; `oneHot` [B, n, L] of the chosen levels. Returns [B, n] tensors.
 */
export function fastMultiCategoricalStats(
  maskedLogits: tfTypes.Tensor3D,
  oneHot: tfTypes.Tensor3D,
): { logProb: tfTypes.Tensor2D; entropy: tfTypes.Tensor2D } {
  const p = tf.softmax(maskedLogits);
  const chosenP = tf.maximum(tf.sum(tf.mul(p, oneHot), -1), 1e-30);
  const logProb = tf.log(chosenP) as tfTypes.Tensor2D;
  const chosenLogit = tf.sum(tf.mul(maskedLogits, oneHot), -1);
  const expectedLogit = tf.sum(tf.mul(p, maskedLogits), -1);
  const entropy = tf.sub(tf.sub(chosenLogit, logProb), expectedLogit) as tfTypes.Tensor2D;
  return { logProb, entropy };
}
