/**
 * The network's input built in JavaScript (InputBuffers: the coach part, each habit's own EMA
 * and features, the transposes) must be exactly what the kernels derive from the bare
 * observations: the same outputs and the same gradients, for both actor designs, with behaviour
 * features and with a habit that has no EMA in the observation.
 */
import type * as tfTypes from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { createRng } from "../../src/coach/rng.js";
import { initBackend, tf } from "../../src/rl/backend.js";
import {
  ActorCriticNetwork,
  type ActorDesign,
  disposeNetworkInput,
  InputBuffers,
  type NetworkInput,
  type PolicySpec,
} from "../../src/rl/policy-network.js";

await initBackend();

const H = 4;
const F = 3;
const coachSize = 7;
// Observation: 7 coach values (EMAs at 1, 3, 4; habit 2 has none), then H × F features.
const spec: PolicySpec = {
  observationSize: coachSize + H * F,
  levelCount: [3, 2, 5, 4],
  actorGroupOf: [0, 1, 0, 1],
  groupCount: 2,
  habitDescriptors: Array.from({ length: H }, (_, h) => [h / H, 1 - h / H]),
  emaIndex: [1, 3, -1, 4],
  habitFeatureCount: F,
  habitFeatureOffset: coachSize,
};

function outputsAndGradients(
  network: ActorCriticNetwork,
  input: () => NetworkInput | tfTypes.Tensor2D,
) {
  return tf.tidy(() => {
    const out = network.forwardTraining(input());
    const values = out.values.arraySync();
    const logits = out.blockLogits.map((b) => b.arraySync());
    // a loss that reaches every weight: values and every (unmasked) logit
    const { grads } = tf.variableGrads(() => {
      const o = network.forwardTraining(input());
      const parts = [tf.sum(tf.square(o.values))];
      for (const b of o.blockLogits) parts.push(tf.sum(tf.mul(tf.clipByValue(b, -50, 50), 0.1)));
      return tf.addN(parts) as tfTypes.Scalar;
    }, network.variables);
    const gradients = Object.fromEntries(
      Object.entries(grads).map(([name, g]) => [name, Array.from(g.dataSync())]),
    );
    return { values, logits, gradients };
  });
}

describe("network input built in JavaScript", () => {
  for (const actor of ["shared", "independent"] as ActorDesign[]) {
    it(`${actor} actor: the same outputs and gradients as the kernels' derivation`, () => {
      const network = new ActorCriticNetwork(
        spec,
        { actor, critic: "single", hiddenSize: 8, habitFeatures: true },
        createRng(5),
      );
      const rng = createRng(6);
      const B = 6;
      const O = spec.observationSize;
      const observations = Float32Array.from({ length: B * O }, () => rng.next() * 2 - 1);
      // rows taken out of order, as a minibatch takes them
      const order = [4, 0, 5, 2, 1, 3];
      const picked = new Float32Array(B * O);
      order.forEach((row, j) => {
        picked.set(observations.subarray(row * O, (row + 1) * O), j * O);
      });
      const buffers = new InputBuffers(network.inputLayout, B, { training: true });
      order.forEach((row, j) => {
        buffers.setRow(j, observations, row * O);
      });
      const built = buffers.tensors();
      const bare = tf.tensor2d(picked, [B, O]);

      const fromBuffers = outputsAndGradients(network, () => built);
      const fromKernels = outputsAndGradients(network, () => bare);
      expect(fromBuffers.values).toEqual(fromKernels.values);
      expect(fromBuffers.logits).toEqual(fromKernels.logits);
      expect(Object.keys(fromBuffers.gradients).length).toBe(network.variables.length);
      for (const [name, g] of Object.entries(fromKernels.gradients)) {
        expect(fromBuffers.gradients[name], name).toHaveLength(g.length);
        fromBuffers.gradients[name].forEach((x, i) => {
          expect(x, `${name}[${i}]`).toBeCloseTo(g[i], 5);
        });
      }
      // the features reach the actor: some gradient of the features' weight is not zero
      if (actor === "shared") {
        const name = network.variables[network.variableNames.indexOf("shared/1-features")].name;
        expect(fromBuffers.gradients[name].some((x) => x !== 0)).toBe(true);
      }

      // the part a habit without an EMA reads is 0, its features are its own
      if (actor === "shared") {
        const perHabit = built.perHabit?.arraySync() as number[][];
        const first = order[0] * O;
        expect(perHabit[2][0]).toBe(0);
        expect(perHabit[3][0]).toBeCloseTo(observations[first + 4], 6);
        expect(perHabit[3].slice(1)).toEqual(
          Array.from(observations.subarray(first + coachSize + 3 * F, first + coachSize + 4 * F)),
        );
      }
      disposeNetworkInput(built);
      bare.dispose();
      network.dispose();
    });
  }
});

describe("acting pass", () => {
  for (const actor of ["shared", "independent"] as ActorDesign[]) {
    for (const habitFeatures of [true, false]) {
      it(`${actor} actor${habitFeatures ? "" : " without features"}: bit for bit the training pass, also after the weights change`, () => {
        const network = new ActorCriticNetwork(
          spec,
          { actor, critic: "single", hiddenSize: 8, habitFeatures },
          createRng(7),
        );
        const rng = createRng(8);
        const B = 5;
        const O = spec.observationSize;
        const observations = Float32Array.from({ length: B * O }, () => rng.next() * 2 - 1);
        const buffers = network.actingBuffers(B);
        buffers.setRows(observations);
        const passes = () =>
          tf.tidy(() => {
            const input = buffers.tensors();
            const acting = network.forwardActing(input);
            const training = network.forwardTraining(input, null, { narrow: false });
            return {
              acting: [acting.values, ...acting.blockLogits].map((t) => Array.from(t.dataSync())),
              training: [training.values, ...training.blockLogits].map((t) =>
                Array.from(t.dataSync()),
              ),
            };
          });
        const before = passes();
        expect(before.acting).toEqual(before.training);
        // new weights (as an optimiser step gives them): the acting pass must follow
        network.setWeights(
          network.getWeights().map((w) => ({
            ...w,
            values: w.values.map((x, i) => x * 0.9 + (i % 3) * 0.01 + 0.02),
          })),
        );
        const after = passes();
        expect(after.acting).toEqual(after.training);
        expect(after.acting).not.toEqual(before.acting);
        network.dispose();
      });
    }
  }
});
