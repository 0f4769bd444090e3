/**
 * Adam (Kingma & Ba 2015) with global gradient-norm clipping, written out so that every PPO
 * detail is visible: the gradients of all variables are scaled together so that their joint L2
 * norm is at most `maxGradNorm` (stops one huge minibatch from wrecking the policy), then the
 * usual bias-corrected Adam update is applied with the learning rate of this step (the trainer
 * anneals it linearly to 0). ε = 1e-5 as in the reference PPO implementations.
 */
import type * as tfTypes from "@tensorflow/tfjs";
import { tf } from "./backend.js";

export interface AdamConfig {
  beta1: number;
  beta2: number;
  epsilon: number;
  maxGradNorm: number;
}

export const DEFAULT_ADAM: AdamConfig = {
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-5,
  maxGradNorm: 0.5,
};

export class ClippedAdam {
  private readonly variables: tfTypes.Variable[];
  private readonly m: tfTypes.Variable[];
  private readonly v: tfTypes.Variable[];
  private readonly config: AdamConfig;
  private step = 0;

  constructor(variables: tfTypes.Variable[], config: AdamConfig = DEFAULT_ADAM) {
    this.variables = variables;
    this.config = config;
    this.m = variables.map((x) => tf.tidy(() => tf.variable(tf.zerosLike(x), false)));
    this.v = variables.map((x) => tf.tidy(() => tf.variable(tf.zerosLike(x), false)));
  }

  /**
   * Minimises `loss()` one step; returns the loss value and the gradient norm before clipping.
   * `extra` tensors returned by `loss` alongside the scalar are read back as numbers.
   */
  minimize(
    loss: () => { loss: tfTypes.Scalar; metrics: tfTypes.Tensor1D },
    learningRate: number,
  ): { loss: number; gradNorm: number; metrics: Float32Array } {
    this.step += 1;
    const { beta1, beta2, epsilon, maxGradNorm } = this.config;
    const t = this.step;
    let metricsTensor: tfTypes.Tensor1D | null = null;
    const result = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const out = loss();
        metricsTensor = tf.keep(out.metrics);
        return out.loss;
      }, this.variables);
      const gradList = this.variables.map((x) => grads[x.name]);
      const sumSquares = tf.addN(gradList.map((g) => tf.sum(tf.square(g))));
      const norm = tf.sqrt(sumSquares);
      const scale = tf.minimum(1, tf.div(maxGradNorm, tf.add(norm, 1e-6)));
      const stepSize = (learningRate * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
      gradList.forEach((g, i) => {
        const clipped = tf.mul(g, scale);
        const m = tf.add(tf.mul(this.m[i], beta1), tf.mul(clipped, 1 - beta1));
        const v = tf.add(tf.mul(this.v[i], beta2), tf.mul(tf.square(clipped), 1 - beta2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        // ε is scaled like PyTorch's Adam: update = lr·m̂ / (√v̂ + ε).
        const denom = tf.add(tf.sqrt(v), epsilon * Math.sqrt(1 - beta2 ** t));
        this.variables[i].assign(tf.sub(this.variables[i], tf.mul(tf.div(m, denom), stepSize)));
      });
      return tf.stack([value, norm]);
    });
    const both = result.dataSync();
    result.dispose();
    const metrics = metricsTensor as tfTypes.Tensor1D | null;
    const values = metrics ? new Float32Array(metrics.dataSync()) : new Float32Array(0);
    metrics?.dispose();
    return { loss: both[0], gradNorm: both[1], metrics: values };
  }

  dispose(): void {
    for (const x of [...this.m, ...this.v]) x.dispose();
  }
}
