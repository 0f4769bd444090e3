import { describe, expect, it } from "vitest";
import { createRng } from "../../src/coach/rng.js";
import { initBackend, tf } from "../../src/rl/backend.js";
import {
  ActorCriticNetwork,
  type ActorDesign,
  type CriticDesign,
} from "../../src/rl/policy-network.js";
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
import type { RatioMode } from "../../src/rl/ratio-units.js";

await initBackend();

// Five habits in three actor groups, habit order differs from group order.
const spec = {
  observationSize: 12,
  levelCount: [3, 2, 5, 4, 2],
  actorGroupOf: [0, 1, 0, 2, 1],
  groupCount: 3,
  habitDescriptors: Array.from({ length: 5 }, (_, h) => [h / 5, 1 - h / 5, 0.5]),
  emaIndex: [0, 1, 2, 3, 4],
};

function gradientNorms(actor: ActorDesign, critic: CriticDesign, ratio: RatioMode) {
  const network = new ActorCriticNetwork(spec, { actor, critic, hiddenSize: 8 }, createRng(11));
  const rng = createRng(12);
  const M = 32;
  const H = 5;
  const K = network.channels;
  const actions = Int32Array.from({ length: M * H }, (_, i) =>
    Math.floor(rng.next() * spec.levelCount[i % H]),
  );
  const layout = createLossLayout(network, ratio);
  const mb = createMinibatchArrays(layout, M);
  fillMinibatch(
    layout,
    {
      observations: Float32Array.from({ length: M * 12 }, () => rng.next() * 2 - 1),
      actions,
      // Old log-probabilities below the current ones: ratios > 1, some beyond the clip.
      logProbs: Float32Array.from({ length: M * H }, () => -2 - rng.next()),
      advantages: Float32Array.from({ length: M * K }, () => rng.next() * 2 - 1),
      returns: Float32Array.from({ length: M * K }, () => rng.next()),
      values: new Float32Array(M * K),
    },
    Int32Array.from({ length: M }, (_, i) => i),
    0,
    12,
    mb,
  );
  const batch = minibatchTensors(layout, mb);
  const norms = tf.tidy(() => {
    const { grads } = tf.variableGrads(
      () => minibatchLoss(network, { ...DEFAULT_PPO, ratio, clip: 10 }, layout, batch).loss,
      network.variables,
    );
    return network.variables.map((v, i) => ({
      name: network.variableNames[i],
      norm: tf.norm(grads[v.name]).dataSync()[0],
    }));
  });
  disposeMinibatch(batch);
  disposeLossLayout(layout);
  network.dispose();
  return norms;
}

describe("split multi-actor policy", () => {
  for (const actor of ["independent", "shared"] as const) {
    for (const critic of ["per-group", "single"] as const) {
      for (const ratio of ["joint", "group", "habit"] as const) {
        it(`${actor} actor, ${critic} critic, ${ratio} ratio: gradients reach every weight`, () => {
          const norms = gradientNorms(actor, critic, ratio);
          for (const { name, norm } of norms) {
            expect(norm, name).toBeGreaterThan(0);
          }
          if (actor === "independent") {
            for (let g = 0; g < 3; g++) {
              expect(norms.some((n) => n.name.startsWith(`actor${g}/`) && n.norm > 0)).toBe(true);
            }
          }
        });
      }
    }
  }

  it("outputs logits in habit order with missing levels masked", () => {
    const network = new ActorCriticNetwork(
      spec,
      { actor: "independent", critic: "per-group", hiddenSize: 8 },
      createRng(1),
    );
    const logits = tf.tidy(
      () => network.forward(tf.zeros([1, 12])).logits.arraySync() as number[][][],
    );
    spec.levelCount.forEach((count, h) => {
      logits[0][h].forEach((x, l) => {
        if (l < count) expect(x).toBeGreaterThan(-100);
        else expect(x).toBeLessThan(-1e8);
      });
    });
    network.dispose();
  });
});
