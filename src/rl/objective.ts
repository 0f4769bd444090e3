/**
 * PPO loss pieces (Schulman et al. 2017) the training loop uses as they are: the (clipped)
 * value loss and the clip fraction. (The textbook surrogate, KL and advantage normalisation that
 * ppo.ts computes inline live in test/rl/support/reference-loss.ts, the loss it is checked against.)
 */
import type * as tfTypes from "@tensorflow/tfjs-core";
import { tf } from "./backend.js";

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

/** Fraction of ratio units whose ratio left [1−ε, 1+ε]. */
export function clipFraction(ratio: tfTypes.Tensor, clip: number): tfTypes.Scalar {
  return tf.tidy(
    () => tf.mean(tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), clip), "float32")) as tfTypes.Scalar,
  );
}
