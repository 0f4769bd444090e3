/**
 * The training loss is computed in a fast layout (per-actor blocks, narrowed level axis,
 * softmax-based log-probabilities and entropy, advantages normalised in JavaScript, custom
 * dense-layer gradients). It must be the same function as the straightforward version
 * (test/rl/support/reference-loss.ts: habit-order logits, logSoftmax, tensor normalisation,
 * tfjs's own gradients): same loss, metrics and gradients within float32 tolerance.
 */
import { describe, expect, it } from "vitest";
import { createRng } from "../../src/coach/rng.js";
import { initBackend, tf } from "../../src/rl/backend.js";
import { ActorCriticNetwork } from "../../src/rl/policy-network.js";
import {
  createLossLayout,
  createMinibatchArrays,
  DEFAULT_PPO,
  disposeLossLayout,
  disposeMinibatch,
  fillMinibatch,
  minibatchLoss,
  minibatchTensors,
} from "../../src/rl/ppo.js";
import {
  createReferenceLossConstants,
  oneHotLevels,
  referenceMinibatchLoss,
} from "./support/reference-loss.js";

await initBackend();

// Seven habits in three actor groups, habit order differs from group order, levels 2 … 6.
const spec = {
  observationSize: 14,
  levelCount: [3, 2, 5, 4, 2, 6, 3],
  actorGroupOf: [0, 1, 0, 2, 1, 2, 0],
  groupCount: 3,
  habitDescriptors: Array.from({ length: 7 }, (_, h) => [h / 7, 1 - h / 7, 0.5]),
  emaIndex: [0, 1, 2, 3, 4, 5, 6],
};
const O = 14;
const H = 7;

function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    diff += (a[i] - b[i]) ** 2;
    norm += b[i] ** 2;
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-6);
}

describe("fast PPO loss = reference loss", () => {
  for (const actor of ["independent", "shared"] as const) {
    for (const critic of ["per-group", "single"] as const) {
      for (const ratio of ["joint", "group", "habit"] as const) {
        it(`${actor} actor, ${critic} critic, ${ratio} ratio`, () => {
          const network = new ActorCriticNetwork(
            spec,
            { actor, critic, hiddenSize: 16 },
            createRng(5),
          );
          // Larger output weights than at initialisation so that log-probabilities differ.
          tf.tidy(() => {
            for (const v of network.variables) v.assign(tf.mul(v, 30 * Math.random() + 20));
          });
          const rng = createRng(9);
          const M = 48;
          const K = network.channels;
          const L = network.levels;
          const rollout = {
            observations: Float32Array.from({ length: M * O }, () => rng.next() * 2 - 1),
            actions: Int32Array.from({ length: M * H }, (_, i) =>
              Math.floor(rng.next() * spec.levelCount[i % H]),
            ),
            logProbs: Float32Array.from({ length: M * H }, () => -1 - rng.next()),
            advantages: Float32Array.from({ length: M * K }, () => rng.next() * 4 - 1),
            returns: Float32Array.from({ length: M * K }, () => rng.next()),
            values: Float32Array.from({ length: M * K }, () => rng.next()),
          };
          const config = { ...DEFAULT_PPO, ratio, network: { actor, critic, hiddenSize: 16 } };

          const layout = createLossLayout(network, ratio);
          const mb = createMinibatchArrays(layout, M);
          const order = Int32Array.from({ length: M }, (_, i) => (i * 7) % M);
          fillMinibatch(layout, rollout, order, 0, O, mb);
          const batch = minibatchTensors(layout, mb);
          const fast = tf.tidy(() => {
            let metrics: Float32Array = new Float32Array(0);
            const { value, grads } = tf.variableGrads(() => {
              const out = minibatchLoss(network, config, layout, batch);
              metrics = out.metrics?.dataSync() as Float32Array;
              return out.loss;
            }, network.variables);
            return {
              loss: value.dataSync()[0],
              metrics,
              grads: network.variables.map((v) => grads[v.name].dataSync() as Float32Array),
            };
          });
          disposeMinibatch(batch);
          disposeLossLayout(layout);

          const constants = createReferenceLossConstants(spec, K);
          const pick = (src: Float32Array, width: number) => {
            const out = new Float32Array(M * width);
            for (let j = 0; j < M; j++)
              out.set(src.subarray(order[j] * width, (order[j] + 1) * width), j * width);
            return out;
          };
          const actions = Int32Array.from(pick(Float32Array.from(rollout.actions), H));
          const reference = tf.tidy(() => {
            const refBatch = {
              obs: tf.tensor2d(pick(rollout.observations, O), [M, O]),
              oneHot: tf.tensor2d(oneHotLevels(actions, M, H, L), [M, H * L]),
              logProbs: tf.tensor2d(pick(rollout.logProbs, H), [M, H]),
              advantages: tf.tensor2d(pick(rollout.advantages, K), [M, K]),
              returns: tf.tensor2d(pick(rollout.returns, K), [M, K]),
              values: tf.tensor2d(pick(rollout.values, K), [M, K]),
            };
            let metrics: Float32Array = new Float32Array(0);
            const { value, grads } = tf.variableGrads(() => {
              const out = referenceMinibatchLoss(network, config, refBatch, constants);
              metrics = out.metrics.dataSync() as Float32Array;
              return out.loss;
            }, network.variables);
            return {
              loss: value.dataSync()[0],
              metrics,
              grads: network.variables.map((v) => grads[v.name].dataSync() as Float32Array),
            };
          });
          for (const t of Object.values(constants)) t.dispose();

          // float32 sums in another order: a few ulps apart (the ulp of 723 is 6e-5), so the
          // tolerance is relative for large values and 5e-5 near zero
          const close = (a: number, b: number) =>
            Math.abs(a - b) <= Math.max(5e-5, 1e-5 * Math.abs(b));
          expect(close(fast.loss, reference.loss), `loss ${fast.loss} vs ${reference.loss}`).toBe(
            true,
          );
          for (let m = 0; m < 6; m++) {
            expect(
              close(fast.metrics[m], reference.metrics[m]),
              `metric ${m}: ${fast.metrics[m]} vs ${reference.metrics[m]}`,
            ).toBe(true);
          }
          fast.grads.forEach((g, i) => {
            expect(relativeError(g, reference.grads[i]), network.variableNames[i]).toBeLessThan(
              2e-4,
            );
          });
          network.dispose();
        });
      }
    }
  }
});
