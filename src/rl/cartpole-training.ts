/**
 * Trains the PPO implementation on CartPole-v1 and checks the public reference bar (mean return
 * ≥ 475 over 20 evaluation episodes). Used by `npm run rl:cartpole` and a short smoke test.
 */

import type { Rng } from "../coach/rng.js";
import { CARTPOLE_SPEC, CartPoleVectorEnv, evaluateCartPole } from "./cartpole.js";
import { sampleMultiCategorical } from "./distribution.js";
import type { ActorCriticNetwork } from "./policy-network.js";
import { evaluateNetwork } from "./policy-network.js";
import { DEFAULT_PPO, type PpoConfig, trainPpo } from "./ppo.js";

/** CartPole settings: short rollouts, many epochs, a larger learning rate than the habit task. */
export const CARTPOLE_PPO: PpoConfig = {
  ...DEFAULT_PPO,
  totalSteps: 200_000,
  rolloutSteps: 128,
  gamma: 0.99,
  gaeLambda: 0.95,
  epochs: 10,
  minibatches: 4,
  learningRate: 1e-3,
  entropyCoef: 0.0,
  ratio: "joint",
  network: { actor: "independent", critic: "single", hiddenSize: 64 },
};

export interface CartPoleResult {
  seed: number;
  passed: boolean;
  steps: number;
  evalMeanReturn: number;
  evalEpisodes: number;
  /** Mean return of the final policy on 100 further episodes (an independent re-check). */
  confirmationMeanReturn: number;
  wallSeconds: number;
  samplesPerSecond: number;
}

export function greedyCartPoleActor(network: ActorCriticNetwork) {
  return (observations: Float32Array, rows: number, actions: Int32Array) => {
    const { logits } = evaluateNetwork(network, observations, rows);
    sampleMultiCategorical(logits, rows, 1, 2, [2], null, actions, null);
  };
}

export async function trainCartPole(options: {
  seed: number;
  rng: Rng;
  maxSteps: number;
  numEnvs?: number;
  evalEvery?: number;
  evalEpisodes?: number;
  config?: Partial<PpoConfig>;
}): Promise<CartPoleResult> {
  const numEnvs = options.numEnvs ?? 8;
  const evalEvery = options.evalEvery ?? 5;
  const evalEpisodes = options.evalEpisodes ?? 20;
  const config = { ...CARTPOLE_PPO, ...options.config, totalSteps: options.maxSteps };
  const env = new CartPoleVectorEnv(numEnvs, options.rng);
  const bar = cartPoleBar(evalEpisodes, options.rng);
  const { network, summary } = await trainPpo({
    env,
    spec: CARTPOLE_SPEC,
    config,
    rng: options.rng,
    onUpdate: (progress, net) => {
      if (progress.update % evalEvery !== 0 && progress.update !== progress.updates) return;
      return bar.check(greedyCartPoleActor(net), progress.steps) ? "stop" : undefined;
    },
  });
  const result = bar.result(options.seed, greedyCartPoleActor(network), summary);
  network.dispose();
  return result;
}

type CartPoleActor = Parameters<typeof evaluateCartPole>[0];

/**
 * The bar's bookkeeping, shared by the PPO and UDRL checks: `check` evaluates greedy episodes
 * and remembers the first pass (mean return ≥ 475); `result` re-checks the final actor on 100
 * new episodes and reports.
 */
export function cartPoleBar(evalEpisodes: number, rng: Rng) {
  let evalMeanReturn = 0;
  let passed = false;
  let stepsAtPass = 0;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    check(act: CartPoleActor, steps: number): boolean {
      evalMeanReturn = mean(evaluateCartPole(act, evalEpisodes, rng));
      if (evalMeanReturn >= 475) {
        passed = true;
        stepsAtPass = steps;
      }
      return passed;
    },
    result(
      seed: number,
      act: CartPoleActor,
      summary: { steps: number; elapsedSeconds: number; samplesPerSecond: number },
    ): CartPoleResult {
      return {
        seed,
        passed,
        steps: passed ? stepsAtPass : summary.steps,
        evalMeanReturn,
        evalEpisodes,
        confirmationMeanReturn: mean(evaluateCartPole(act, 100, rng)),
        wallSeconds: summary.elapsedSeconds,
        samplesPerSecond: summary.samplesPerSecond,
      };
    },
  };
}
