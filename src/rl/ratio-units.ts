/**
 * Ratio units of PPO's clipped objective: the sub-actions whose probability ratio is clipped as
 * one. Production (`HABIT_PPO`) clips each actor group's joint action; the research variants
 * (./ppo-research.ts) plug in through the same interface.
 */
import type * as tfTypes from "@tensorflow/tfjs-core";
import { tf } from "./backend.js";
import type { ActorCriticNetwork } from "./policy-network.js";

/**
 * Which probability ratio the clipped objective uses: each actor group's joint action
 * ("group", production), or — research, ./ppo-research.ts — the whole day's joint action
 * ("joint") or every habit on its own ("habit").
 */
export type RatioMode = "joint" | "group" | "habit";

/**
 * Ratio units: the sub-actions whose probability ratio is clipped as one. Each unit has one
 * value channel whose normalised advantage it is weighted with.
 */
export interface RatioUnits {
  mode: RatioMode;
  /** Units per block ([M, U_b] advantages each); one array of width 1 for the joint ratio. */
  widths: number[];
  /** Whether the objective needs the joint log-ratio (sum over every habit's). */
  usesJointRatio: boolean;
  /** Fills the unit advantages from the normalised advantages per value channel ([M, K]). */
  fillAdvantages(
    advantages: Float64Array,
    rows: number,
    channels: number,
    out: Float32Array[],
  ): void;
  /**
   * Log-ratios [M, U_b] of block b's units from its habits' log-ratios [M, n_b]; null when the
   * units span blocks (the joint ratio).
   */
  blockLogRatio(block: number, habitLogRatio: tfTypes.Tensor2D): tfTypes.Tensor | null;
  dispose(): void;
}

/**
 * The production ratio: one unit per actor group a block spans (the shared actor's one block
 * spans them all), its log-ratio the sum of its habits' ([M, n_b] · [n_b, U_b] membership
 * matrix, or a plain sum when the block is one group), its advantage its group's value channel.
 */
export function groupRatioUnits(network: ActorCriticNetwork): RatioUnits {
  const spec = network.spec;
  const K = network.channels;
  const unitChannels: Int32Array[] = [];
  const memberships: (tfTypes.Tensor2D | null)[] = [];
  for (const habits of network.blocks) {
    const groups = [...new Set(habits.map((h) => spec.actorGroupOf[h]))];
    unitChannels.push(Int32Array.from(groups, (g) => (K === 1 ? 0 : g)));
    if (groups.length === 1) memberships.push(null);
    else {
      const matrix = new Float32Array(habits.length * groups.length);
      habits.forEach((h, j) => {
        matrix[j * groups.length + groups.indexOf(spec.actorGroupOf[h])] = 1;
      });
      memberships.push(tf.keep(tf.tensor2d(matrix, [habits.length, groups.length])));
    }
  }
  return {
    mode: "group",
    widths: unitChannels.map((u) => u.length),
    usesJointRatio: false,
    fillAdvantages: (advantages, rows, channels, out) =>
      fillUnitAdvantages(unitChannels, advantages, rows, channels, out),
    blockLogRatio: (b, habitLogRatio) => {
      const matrix = memberships[b];
      return matrix ? tf.matMul(habitLogRatio, matrix) : tf.sum(habitLogRatio, 1, true);
    },
    dispose: () => {
      for (const m of memberships) m?.dispose();
    },
  };
}

/** Copies each unit's channel advantage: out[b][j, u] = advantages[j, unitChannels[b][u]]. */
export function fillUnitAdvantages(
  unitChannels: Int32Array[],
  advantages: Float64Array,
  rows: number,
  channels: number,
  out: Float32Array[],
): void {
  unitChannels.forEach((units, b) => {
    const U = units.length;
    const target = out[b];
    for (let j = 0; j < rows; j++) {
      for (let u = 0; u < U; u++) target[j * U + u] = advantages[j * channels + units[u]];
    }
  });
}
