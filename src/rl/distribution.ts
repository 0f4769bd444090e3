/**
 * Multi-categorical distribution: one categorical per habit (sub-action), habits independent.
 * Logits come padded to the largest level count; `mask[h][l]` is 1 where habit h has level l.
 * Log-probability and entropy of the joint action are sums over habits; they are returned per
 * habit so that callers can also form per-group or per-habit probability ratios.
 */
import type * as tfTypes from "@tensorflow/tfjs-core";
import type { Rng } from "../coach/rng.js";
import { tf } from "./backend.js";

/** Large negative logit given to levels a habit lacks (exp underflows to exactly 0). */
export const MASKED_LOGIT = -1e9;

/**
 * Pushes logits of missing levels down to about MASKED_LOGIT. `maskBias` is [H, L]: 0 where a
 * level exists, MASKED_LOGIT where it does not (one addition instead of a select).
 */
export function applyLevelMask(logits: tfTypes.Tensor, maskBias: tfTypes.Tensor): tfTypes.Tensor {
  return tf.add(logits, maskBias);
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
  rng: Rng | null,
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
