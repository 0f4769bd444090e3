/**
 * Research variants of the PPO ratio, kept because docs/rl-results.md compares them with the
 * production "group" ratio (bench/rl-results.ts trains them on seed-23): the joint ratio of the
 * whole day's action, and a ratio per habit. Both plug into ./ppo.ts as `RatioUnits` (./ratio-units.ts).
 */
import type * as tfTypes from "@tensorflow/tfjs-core";
import type { ActorCriticNetwork } from "./policy-network.js";
import { fillUnitAdvantages, type RatioMode, type RatioUnits } from "./ratio-units.js";

export function researchRatioUnits(
  network: ActorCriticNetwork,
  mode: Exclude<RatioMode, "group">,
): RatioUnits {
  return mode === "habit" ? habitRatioUnits(network) : jointRatioUnits(network);
}

/** Value channel of a habit: its actor group's, or the single one. */
function channelOf(network: ActorCriticNetwork, habit: number): number {
  return network.channels === 1 ? 0 : network.spec.actorGroupOf[habit];
}

/** Every habit is its own unit, weighted with its actor group's advantage. */
function habitRatioUnits(network: ActorCriticNetwork): RatioUnits {
  const unitChannels = network.blocks.map((habits) =>
    Int32Array.from(habits, (h) => channelOf(network, h)),
  );
  return {
    mode: "habit",
    widths: unitChannels.map((u) => u.length),
    usesJointRatio: false,
    fillAdvantages: (advantages, rows, channels, out) =>
      fillUnitAdvantages(unitChannels, advantages, rows, channels, out),
    blockLogRatio: (_, habitLogRatio: tfTypes.Tensor2D) => habitLogRatio,
    dispose: () => {},
  };
}

/**
 * The whole day's action is one unit (the textbook ratio of a multi-discrete action), weighted
 * with the mean of the habits' advantages: each value channel weighs its share of the habits.
 */
function jointRatioUnits(network: ActorCriticNetwork): RatioUnits {
  const K = network.channels;
  const H = network.habitCount;
  const channelWeights = new Float64Array(K);
  if (K === 1) channelWeights[0] = 1;
  else for (let h = 0; h < H; h++) channelWeights[channelOf(network, h)] += 1 / H;
  return {
    mode: "joint",
    widths: [1],
    usesJointRatio: true,
    fillAdvantages: (advantages, rows, channels, out) => {
      const target = out[0];
      for (let j = 0; j < rows; j++) {
        let a = 0;
        for (let k = 0; k < channels; k++) a += advantages[j * channels + k] * channelWeights[k];
        target[j] = a;
      }
    },
    blockLogRatio: () => null,
    dispose: () => {},
  };
}
