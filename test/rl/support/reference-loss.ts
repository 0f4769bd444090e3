/**
 * REFERENCE for tests: the PPO minibatch loss as first written (network.forward in habit order,
 * multiCategoricalStats, tensor advantage normalisation). `src/rl/ppo.ts` computes the same loss
 * in a faster layout; test/rl/loss-equivalence.test.ts checks values and gradients agree.
 */
import type * as tfTypes from "@tensorflow/tfjs-core";
import { tf } from "../../../src/rl/backend.js";
import { clipFraction, valueLoss } from "../../../src/rl/objective.js";
import type { ActorCriticNetwork, PolicySpec } from "../../../src/rl/policy-network.js";
import type { PpoConfig } from "../../../src/rl/ppo.js";

// The textbook pieces, as first written (src/rl computes them in a faster layout).

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
 * Clipped surrogate policy loss, to be minimised:
 *   L = mean( max( −A·r, −A·clip(r, 1−ε, 1+ε) ) )
 * `ratio` and `advantages` have the same shape (one entry per ratio unit: joint, group or habit).
 */
export function clippedSurrogateLoss(
  ratio: tfTypes.Tensor,
  advantages: tfTypes.Tensor,
  clip: number,
): tfTypes.Scalar {
  return tf.tidy(() => {
    const unclipped = tf.mul(tf.neg(advantages), ratio);
    const clipped = tf.mul(tf.neg(advantages), tf.clipByValue(ratio, 1 - clip, 1 + clip));
    return tf.mean(tf.maximum(unclipped, clipped)) as tfTypes.Scalar;
  });
}

/** Approximate KL(old‖new) ≈ mean((r − 1) − log r) (non-negative, low variance). */
export function approxKl(logRatio: tfTypes.Tensor): tfTypes.Scalar {
  return tf.tidy(() => tf.mean(tf.sub(tf.sub(tf.exp(logRatio), 1), logRatio)) as tfTypes.Scalar);
}

/** Normalises each advantage channel (column) of a minibatch to mean 0, std 1. */
export function normaliseAdvantages(advantages: tfTypes.Tensor2D): tfTypes.Tensor2D {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(advantages, 0, true);
    return tf.div(tf.sub(advantages, mean), tf.add(tf.sqrt(variance), 1e-8)) as tfTypes.Tensor2D;
  });
}

/** Constant tensors of the loss: habit → value channel, habit → group matrix, group shares. */
export interface ReferenceLossConstants {
  channelOfHabit: tfTypes.Tensor1D;
  habitToGroup: tfTypes.Tensor2D;
  groupWeights: tfTypes.Tensor2D;
}

export function createReferenceLossConstants(
  spec: PolicySpec,
  channels: number,
): ReferenceLossConstants {
  const H = spec.levelCount.length;
  const G = spec.groupCount;
  const habitToGroup = new Float32Array(H * G);
  const groupShare = new Float32Array(G);
  spec.actorGroupOf.forEach((g, h) => {
    habitToGroup[h * G + g] = 1;
    groupShare[g] += 1 / H;
  });
  return {
    channelOfHabit: tf.tensor1d(
      spec.actorGroupOf.map((g) => (channels === 1 ? 0 : g)),
      "int32",
    ),
    habitToGroup: tf.tensor2d(habitToGroup, [H, G]),
    groupWeights: tf.tensor2d(groupShare, [G, 1]),
  };
}

export interface ReferenceMinibatchTensors {
  obs: tfTypes.Tensor2D;
  /** One-hot of the chosen levels, [M, H·L]. */
  oneHot: tfTypes.Tensor2D;
  logProbs: tfTypes.Tensor2D;
  advantages: tfTypes.Tensor2D;
  returns: tfTypes.Tensor2D;
  values: tfTypes.Tensor2D;
}

/**
 * The PPO loss of one minibatch. Returns the scalar loss and the metrics
 * [policy loss, value loss, joint entropy, approx KL, clip fraction, joint clip fraction].
 */
export function referenceMinibatchLoss(
  network: ActorCriticNetwork,
  config: PpoConfig,
  batch: ReferenceMinibatchTensors,
  constants: ReferenceLossConstants,
): { loss: tfTypes.Scalar; metrics: tfTypes.Tensor1D } {
  const { channelOfHabit, habitToGroup, groupWeights } = constants;
  const { obs, oneHot, returns } = batch;
  // Per-minibatch advantage normalisation, per value channel.
  const advantages = normaliseAdvantages(batch.advantages);

  const out = network.forward(obs);
  const { logProb, entropy } = multiCategoricalStats(out.logits, network.levelMask, oneHot);
  const habitLogRatio = tf.sub(logProb, batch.logProbs); // [M, H]
  const K = network.channels;

  // The ratio unit: per habit, per actor group (sum of its habits' log-ratios) or joint.
  let logRatio: tfTypes.Tensor;
  let unitAdvantages: tfTypes.Tensor;
  if (config.ratio === "habit") {
    logRatio = habitLogRatio;
    unitAdvantages = tf.gather(advantages, channelOfHabit, 1);
  } else if (config.ratio === "group") {
    logRatio = tf.matMul(habitLogRatio, habitToGroup);
    unitAdvantages = advantages; // [M, G], or [M, 1] broadcast over groups
  } else {
    logRatio = tf.sum(habitLogRatio, 1, true);
    unitAdvantages = K === 1 ? advantages : tf.matMul(advantages, groupWeights);
  }
  const ratio = tf.exp(logRatio);
  const policyLoss = clippedSurrogateLoss(ratio, unitAdvantages, config.clip);
  const vLoss = valueLoss(
    out.values,
    returns,
    batch.values,
    config.clipValueLoss ? config.clip : null,
  );
  const jointEntropy = tf.mean(tf.sum(entropy, 1));
  // The bonus uses the mean entropy per habit so one coefficient suits any number of habits.
  const entropyBonus = tf.div(jointEntropy, network.habitCount);
  const loss = tf.add(
    tf.sub(policyLoss, tf.mul(config.entropyCoef, entropyBonus)),
    tf.mul(config.valueCoef, vLoss),
  ) as tfTypes.Scalar;
  const jointRatio = tf.exp(tf.sum(habitLogRatio, 1));
  const metrics = tf.stack([
    policyLoss,
    vLoss,
    jointEntropy,
    approxKl(logRatio),
    clipFraction(ratio, config.clip),
    clipFraction(jointRatio, config.clip),
  ]) as tfTypes.Tensor1D;
  return { loss, metrics };
}
