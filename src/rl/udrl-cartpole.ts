/**
 * UDRL on CartPole-v1: the public check of ./udrl.ts before trusting it on habits (the paper
 * first showed UDRL on CartPole). The bar of PPO's check (./cartpole-training.ts), measured on
 * 100 greedy episodes every few iterations: stop at the first mean return ≥ 475, then a
 * re-check on 100 new episodes.
 */
import type { Rng } from "../coach/rng.js";
import { CARTPOLE_MAX_STEPS, CARTPOLE_SPEC, CartPoleVectorEnv } from "./cartpole.js";
import { type CartPoleResult, cartPoleBar } from "./cartpole-training.js";
import {
  actWithCommands,
  type BehaviourNetwork,
  type Command,
  commandInput,
  type EpisodeStore,
  trainUdrl,
  UDRL_DEFAULTS,
  type UdrlConfig,
  updateCommand,
} from "./udrl.js";

/**
 * CartPole settings: returns are up to 500, so the command is scaled by 1/500 (inputs in
 * [0, 1]); 16 new episodes per iteration as in the paper's CartPole runs.
 */
export const CARTPOLE_UDRL: UdrlConfig = {
  ...UDRL_DEFAULTS,
  totalSteps: 500_000,
  horizonScale: 1 / CARTPOLE_MAX_STEPS,
  rewardScale: 1 / CARTPOLE_MAX_STEPS,
  episodesPerIteration: 16,
  warmupEpisodes: 50,
};

/**
 * The greedy actor under the command the best episodes call for (their mean length and mean +
 * one standard deviation of their return), updated after every step (CartPole pays 1 a step).
 */
export function greedyCartPoleUdrlActor(
  network: BehaviourNetwork,
  start: Command,
  config: UdrlConfig,
) {
  let commands: Command[] = [];
  let inputs = new Float32Array(0);
  return (observations: Float32Array, rows: number, actions: Int32Array) => {
    if (commands.length !== rows) {
      commands = Array.from({ length: rows }, () => ({ ...start }));
      inputs = new Float32Array(rows * 2);
    }
    for (let r = 0; r < rows; r++) commandInput(commands[r], config, inputs, r * 2);
    actWithCommands(network, observations, inputs, rows, null, actions);
    for (let r = 0; r < rows; r++) commands[r] = updateCommand(commands[r], 1);
  };
}

export function evaluationCommand(store: EpisodeStore, config: UdrlConfig): Command {
  const s = store.bestStatistics(config.commandEpisodes);
  return { daysLeft: Math.round(s.meanLength), rewardToGo: s.meanReward + s.stdReward };
}

export async function trainCartPoleUdrl(options: {
  seed: number;
  rng: Rng;
  maxSteps: number;
  numEnvs?: number;
  evalEvery?: number;
  evalEpisodes?: number;
  config?: Partial<UdrlConfig>;
}): Promise<CartPoleResult & { iterations: number }> {
  const numEnvs = options.numEnvs ?? 16;
  const evalEvery = options.evalEvery ?? 5;
  // 100 episodes, the bar's own sample size: a 20-episode pass at 485 re-checked at 474 (seed 1).
  const evalEpisodes = options.evalEpisodes ?? 100;
  const config = { ...CARTPOLE_UDRL, ...options.config, totalSteps: options.maxSteps };
  const env = new CartPoleVectorEnv(numEnvs, options.rng);
  const bar = cartPoleBar(evalEpisodes, options.rng);
  let command: Command = { daysLeft: CARTPOLE_MAX_STEPS, rewardToGo: CARTPOLE_MAX_STEPS };
  const { network, summary } = await trainUdrl({
    env,
    spec: CARTPOLE_SPEC,
    config,
    rng: options.rng,
    onIteration: (progress, net, store) => {
      if (progress.iteration % evalEvery !== 0) return undefined;
      command = evaluationCommand(store, config);
      return bar.check(greedyCartPoleUdrlActor(net, command, config), progress.steps)
        ? "stop"
        : undefined;
    },
  });
  const result = bar.result(
    options.seed,
    greedyCartPoleUdrlActor(network, command, config),
    summary,
  );
  network.dispose();
  return { ...result, iterations: summary.iterations };
}
