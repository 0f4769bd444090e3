/**
 * The PPO loss pieces (Schulman et al. 2017), as small tensor functions.
 */
import type * as tfTypes from "@tensorflow/tfjs";
import { tf } from "./backend.js";

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

/**
 * Value loss ½·mean((V − R)²); with `clip` the new value may move at most ±clip from the value
 * recorded at rollout time and the pessimistic (larger) error of the two is used.
 */
export function valueLoss(
  values: tfTypes.Tensor,
  returns: tfTypes.Tensor,
  oldValues: tfTypes.Tensor,
  clip: number | null,
): tfTypes.Scalar {
  return tf.tidy(() => {
    const unclipped = tf.square(tf.sub(values, returns));
    if (clip === null) return tf.mul(0.5, tf.mean(unclipped)) as tfTypes.Scalar;
    const moved = tf.add(oldValues, tf.clipByValue(tf.sub(values, oldValues), -clip, clip));
    const clipped = tf.square(tf.sub(moved, returns));
    return tf.mul(0.5, tf.mean(tf.maximum(unclipped, clipped))) as tfTypes.Scalar;
  });
}

/** Approximate KL(old‖new) ≈ mean((r − 1) − log r) (non-negative, low variance). */
export function approxKl(logRatio: tfTypes.Tensor): tfTypes.Scalar {
  return tf.tidy(() => tf.mean(tf.sub(tf.sub(tf.exp(logRatio), 1), logRatio)) as tfTypes.Scalar);
}

/** Fraction of ratio units whose ratio left [1−ε, 1+ε]. */
export function clipFraction(ratio: tfTypes.Tensor, clip: number): tfTypes.Scalar {
  return tf.tidy(
    () => tf.mean(tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), clip), "float32")) as tfTypes.Scalar,
  );
}

/** Normalises each advantage channel (column) of a minibatch to mean 0, std 1. */
export function normaliseAdvantages(advantages: tfTypes.Tensor2D): tfTypes.Tensor2D {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(advantages, 0, true);
    return tf.div(tf.sub(advantages, mean), tf.add(tf.sqrt(variance), 1e-8)) as tfTypes.Tensor2D;
  });
}
