import { describe, expect, it } from "vitest";
import { createRng } from "../../src/coach/rng.js";
import { initBackend } from "../../src/rl/backend.js";
import { computeGae } from "../../src/rl/gae.js";
import { HABIT_PPO } from "../../src/rl/habit-training.js";
import {
  ActorCriticNetwork,
  type CriticDesign,
  type PolicySpec,
  valueChannels,
} from "../../src/rl/policy-network.js";
import {
  channelRewards,
  createLossLayout,
  createMinibatchArrays,
  disposeLossLayout,
  fillMinibatch,
} from "../../src/rl/ppo.js";

await initBackend();

// Two habits in two actor groups (A = habit 0, B = habit 1), two levels each.
const spec: PolicySpec = {
  observationSize: 3,
  levelCount: [2, 2],
  actorGroupOf: [0, 1],
  groupCount: 2,
  habitDescriptors: [[1], [1]],
  emaIndex: [0, 1],
};

/**
 * A hand-made rollout of 8 people, one day each: on the first four days group A planned its
 * habit on top of B's, which overloads the person — A's own reward rises a little, B's falls
 * more (total −0.3); on the other four A did not plan (every reward 0).
 */
function unitAdvantages(critic: CriticDesign): { a: number[]; b: number[] } {
  const network = new ActorCriticNetwork(
    spec,
    { actor: "shared", critic, hiddenSize: 4 },
    createRng(1),
  );
  const layout = createLossLayout(network, "group");
  const N = 8;
  const K = network.channels;
  const overloaded = (n: number) => n < 4;
  const step = {
    rewards: Float32Array.from({ length: N }, (_, n) => (overloaded(n) ? 0.2 - 0.5 : 0)),
    groupRewards: Float32Array.from({ length: N * 2 }, (_, i) =>
      overloaded(i >> 1) ? (i % 2 === 0 ? 0.2 : -0.5) : 0,
    ),
  };
  const rewards = new Float32Array(N * K);
  for (let n = 0; n < N; n++) channelRewards(step, n, 2, K, rewards, n);
  const advantages = new Float32Array(N * K);
  const returns = new Float32Array(N * K);
  computeGae(
    {
      steps: 1,
      envs: N,
      channels: K,
      gamma: 0.95,
      lambda: 0.95,
      rewards,
      values: new Float32Array(N * K),
      terminated: new Uint8Array(N),
      truncated: new Uint8Array(N),
      truncationValues: new Float32Array(N * K),
      nextValues: new Float32Array(N * K),
    },
    advantages,
    returns,
  );
  const mb = createMinibatchArrays(layout, N);
  fillMinibatch(
    layout,
    {
      observations: new Float32Array(N * spec.observationSize),
      actions: Int32Array.from({ length: N * 2 }, (_, i) => (i % 2 === 0 && i < 8 ? 1 : i % 2)),
      logProbs: new Float32Array(N * 2),
      advantages,
      returns,
      values: new Float32Array(N * K),
    },
    Int32Array.from({ length: N }, (_, n) => n),
    0,
    spec.observationSize,
    mb,
  );
  disposeLossLayout(layout);
  network.dispose();
  // The shared actor's one block spans both groups: one ratio unit per group, [N, 2].
  const units = mb.unitAdvantages[0];
  return {
    a: Array.from({ length: N }, (_, n) => units[n * 2]),
    b: Array.from({ length: N }, (_, n) => units[n * 2 + 1]),
  };
}

describe("the total reward reaches every actor group's update", () => {
  it("the production critic is one value head on the whole day's reward", () => {
    expect(HABIT_PPO.network.critic).toBe("single");
    expect(valueChannels(spec, HABIT_PPO.network)).toBe(1);
  });

  it("group A pays for the overload its plan causes B: both groups' advantages are the total's", () => {
    const { a, b } = unitAdvantages("single");
    expect(a).toEqual(b);
    for (let n = 0; n < 4; n++) expect(a[n]).toBeLessThan(0); // A planned: the day got worse
    for (let n = 4; n < 8; n++) expect(a[n]).toBeGreaterThan(0);
  });

  it("with one value head per group (research option) A is rewarded for the overload it causes", () => {
    const { a, b } = unitAdvantages("per-group");
    for (let n = 0; n < 4; n++) {
      expect(a[n]).toBeGreaterThan(0); // A's own share rose
      expect(b[n]).toBeLessThan(0); // B alone pays
    }
  });
});
