/**
 * Proximal Policy Optimisation for the split multi-actor policy, written to read top to bottom
 * in the style of CleanRL's single-file PPO:
 *
 *   for each update:
 *     1. anneal the learning rate linearly towards 0
 *     2. collect `rolloutSteps` steps from every environment copy (actions sampled in JS)
 *     3. bootstrap cut-off episodes and compute GAE advantages per value channel
 *     4. for `epochs` passes over shuffled minibatches: clipped surrogate + value + entropy loss,
 *        Adam step with global gradient-norm clipping
 *     5. report progress (samples/s, reward, entropy, approximate KL, clip fraction, losses)
 */
import type * as tfTypes from "@tensorflow/tfjs";
import { tf } from "./backend.js";
import { multiCategoricalStats, oneHotLevels, sampleMultiCategorical } from "./distribution.js";
import { computeGae } from "./gae.js";
import {
  approxKl,
  clipFraction,
  clippedSurrogateLoss,
  normaliseAdvantages,
  valueLoss,
} from "./objective.js";
import { ClippedAdam } from "./optimizer.js";
import { ActorCriticNetwork, type NetworkConfig, type PolicySpec } from "./policy-network.js";
import { shuffleInPlace, type UniformSource } from "./random.js";
import { createStepBuffers, type VectorEnv } from "./vector-env.js";

/** Which probability ratio the clipped objective uses. */
export type RatioMode = "joint" | "group" | "habit";

export interface PpoConfig {
  /** Total environment steps (samples) to train on, summed over copies. */
  totalSteps: number;
  /** Steps collected from each copy per update (rollout length). */
  rolloutSteps: number;
  gamma: number;
  gaeLambda: number;
  epochs: number;
  minibatches: number;
  clip: number;
  /** Clip the value update like the policy (CleanRL default true). */
  clipValueLoss: boolean;
  valueCoef: number;
  entropyCoef: number;
  learningRate: number;
  annealLearningRate: boolean;
  maxGradNorm: number;
  ratio: RatioMode;
  network: NetworkConfig;
}

/** Defaults with the reason for each (see docs/rl.md). */
export const DEFAULT_PPO: PpoConfig = {
  totalSteps: 500_000,
  rolloutSteps: 128,
  gamma: 0.99,
  gaeLambda: 0.95,
  epochs: 4,
  minibatches: 4,
  clip: 0.2,
  clipValueLoss: true,
  valueCoef: 0.5,
  entropyCoef: 0.01,
  learningRate: 2.5e-4,
  annealLearningRate: true,
  maxGradNorm: 0.5,
  ratio: "group",
  network: { actor: "independent", critic: "per-group", hiddenSize: 64 },
};

export interface TrainingProgress {
  update: number;
  updates: number;
  steps: number;
  totalSteps: number;
  elapsedSeconds: number;
  samplesPerSecond: number;
  /** Mean per-step total reward in this rollout. */
  meanReward: number;
  /** Mean return of episodes that ended in this rollout (null when none ended). */
  meanEpisodeReturn: number | null;
  /** Joint entropy (sum over habits), averaged over the last epoch's minibatches. */
  entropy: number;
  approxKl: number;
  clipFraction: number;
  /** Clip fraction the joint ratio would have had (diagnostic for the ratio comparison). */
  jointClipFraction: number;
  policyLoss: number;
  valueLoss: number;
  learningRate: number;
  /** Wall time of this update's rollout (env + policy forward passes) and optimisation. */
  rolloutSeconds: number;
  optimiseSeconds: number;
  envSeconds: number;
}

export interface TrainingSummary {
  steps: number;
  updates: number;
  elapsedSeconds: number;
  samplesPerSecond: number;
  finalMeanReward: number;
  stoppedEarly: boolean;
}

export interface TrainOptions {
  env: VectorEnv;
  spec: PolicySpec;
  config: PpoConfig;
  rng: UniformSource;
  /** Continue from an existing network instead of a freshly initialised one. */
  network?: ActorCriticNetwork;
  /** Called after every update; return "stop" to end training early. */
  onUpdate?: (progress: TrainingProgress, network: ActorCriticNetwork) => undefined | "stop";
}

/** Runs the network on `rows` observations; returns masked logits and values as JS arrays. */
export function evaluateNetwork(
  network: ActorCriticNetwork,
  observations: Float32Array,
  rows: number,
): { logits: Float32Array; values: Float32Array } {
  const [logits, values] = tf.tidy(() => {
    const input = tf.tensor2d(observations, [rows, network.spec.observationSize]);
    const out = network.forward(input);
    return [out.logits, out.values];
  });
  const result = {
    logits: logits.dataSync() as Float32Array,
    values: values.dataSync() as Float32Array,
  };
  logits.dispose();
  values.dispose();
  return result;
}

export async function trainPpo(options: TrainOptions): Promise<{
  network: ActorCriticNetwork;
  summary: TrainingSummary;
}> {
  const { env, spec, config, rng } = options;
  const network = options.network ?? new ActorCriticNetwork(spec, config.network, rng);
  const N = env.numEnvs;
  const T = config.rolloutSteps;
  const O = env.observationSize;
  const H = spec.levelCount.length;
  const L = network.levels;
  const G = spec.groupCount;
  const K = network.channels; // value channels: G (per-group critic) or 1
  if (env.actionCount !== H || env.observationSize !== spec.observationSize) {
    throw new Error(
      `environment (${env.actionCount} habits, ${O} observations) does not match the policy (${H}, ${spec.observationSize})`,
    );
  }
  const batchSize = N * T;
  const minibatchSize = Math.floor(batchSize / config.minibatches);
  const updates = Math.max(1, Math.floor(config.totalSteps / batchSize));
  const optimizer = new ClippedAdam(network.variables, {
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-5,
    maxGradNorm: config.maxGradNorm,
  });

  // Rollout storage, allocated once.
  const obsBuf = new Float32Array(batchSize * O);
  const actionBuf = new Int32Array(batchSize * H);
  const logProbBuf = new Float32Array(batchSize * H);
  const valueBuf = new Float32Array(batchSize * K);
  const rewardBuf = new Float32Array(batchSize * K);
  const terminatedBuf = new Uint8Array(batchSize);
  const truncatedBuf = new Uint8Array(batchSize);
  const truncationValueBuf = new Float32Array(batchSize * K);
  const advantageBuf = new Float32Array(batchSize * K);
  const returnBuf = new Float32Array(batchSize * K);
  const order = new Int32Array(batchSize);
  const mb = {
    obs: new Float32Array(minibatchSize * O),
    actions: new Int32Array(minibatchSize * H),
    oneHot: new Float32Array(minibatchSize * H * L),
    logProbs: new Float32Array(minibatchSize * H),
    advantages: new Float32Array(minibatchSize * K),
    returns: new Float32Array(minibatchSize * K),
    values: new Float32Array(minibatchSize * K),
  };
  const step = createStepBuffers(env);
  const observations = new Float32Array(N * O);
  const actions = new Int32Array(N * H);
  const logProbs = new Float32Array(N * H);
  const episodeReturn = new Float64Array(N);

  const constants = createLossConstants(spec, K);

  env.reset(observations);
  const start = performance.now();
  let steps = 0;
  let lastMeanReward = 0;
  let stoppedEarly = false;

  for (let update = 1; update <= updates; update++) {
    // 1. Linear learning-rate annealing: full rate at the first update, → 0 at the last.
    const frac = config.annealLearningRate ? 1 - (update - 1) / updates : 1;
    const learningRate = config.learningRate * frac;

    // 2. Rollout.
    const rolloutStart = performance.now();
    let envMs = 0;
    let rewardSum = 0;
    let endedReturnSum = 0;
    let endedCount = 0;
    truncationValueBuf.fill(0);
    for (let t = 0; t < T; t++) {
      obsBuf.set(observations, t * N * O);
      const { logits, values } = evaluateNetwork(network, observations, N);
      sampleMultiCategorical(logits, N, H, L, spec.levelCount, rng, actions, logProbs);
      actionBuf.set(actions, t * N * H);
      logProbBuf.set(logProbs, t * N * H);
      valueBuf.set(values, t * N * K);

      const envStart = performance.now();
      env.step(actions, step);
      envMs += performance.now() - envStart;
      steps += N;
      let anyTruncated = false;
      for (let n = 0; n < N; n++) {
        const row = t * N + n;
        if (K === 1) rewardBuf[row] = step.rewards[n];
        else for (let g = 0; g < G; g++) rewardBuf[row * K + g] = step.groupRewards[n * G + g];
        terminatedBuf[row] = step.terminated[n];
        truncatedBuf[row] = step.truncated[n] && !step.terminated[n] ? 1 : 0;
        anyTruncated ||= truncatedBuf[row] === 1;
        rewardSum += step.rewards[n];
        episodeReturn[n] += step.rewards[n];
        if (step.terminated[n] || step.truncated[n]) {
          endedReturnSum += episodeReturn[n];
          endedCount += 1;
          episodeReturn[n] = 0;
        }
      }
      // 3a. A cut-off episode is not over: keep V(final observation) for its bootstrap.
      if (anyTruncated) {
        const final = evaluateNetwork(network, step.finalObservations, N).values;
        for (let n = 0; n < N; n++) {
          if (truncatedBuf[t * N + n]) {
            for (let k = 0; k < K; k++) truncationValueBuf[(t * N + n) * K + k] = final[n * K + k];
          }
        }
      }
      observations.set(step.observations);
    }
    const nextValues = evaluateNetwork(network, observations, N).values;

    // 3b. GAE per value channel.
    computeGae(
      {
        steps: T,
        envs: N,
        channels: K,
        gamma: config.gamma,
        lambda: config.gaeLambda,
        rewards: rewardBuf,
        values: valueBuf,
        terminated: terminatedBuf,
        truncated: truncatedBuf,
        truncationValues: truncationValueBuf,
        nextValues,
      },
      advantageBuf,
      returnBuf,
    );

    // 4. Optimise: epochs of shuffled minibatches (rows copied in JS; tf.gather is slow on WASM).
    const optimiseStart = performance.now();
    for (let i = 0; i < batchSize; i++) order[i] = i;
    const metricSums = new Float64Array(6);
    let metricCount = 0;
    for (let epoch = 0; epoch < config.epochs; epoch++) {
      shuffleInPlace(order, rng);
      for (let start = 0; start + minibatchSize <= batchSize; start += minibatchSize) {
        for (let j = 0; j < minibatchSize; j++) {
          const row = order[start + j];
          mb.obs.set(obsBuf.subarray(row * O, (row + 1) * O), j * O);
          mb.actions.set(actionBuf.subarray(row * H, (row + 1) * H), j * H);
          mb.logProbs.set(logProbBuf.subarray(row * H, (row + 1) * H), j * H);
          for (let k = 0; k < K; k++) {
            mb.advantages[j * K + k] = advantageBuf[row * K + k];
            mb.returns[j * K + k] = returnBuf[row * K + k];
            mb.values[j * K + k] = valueBuf[row * K + k];
          }
        }
        oneHotLevels(mb.actions, minibatchSize, H, L, mb.oneHot);
        const batch = tf.tidy(() => ({
          obs: tf.keep(tf.tensor2d(mb.obs, [minibatchSize, O])),
          oneHot: tf.keep(tf.tensor2d(mb.oneHot, [minibatchSize, H * L])),
          logProbs: tf.keep(tf.tensor2d(mb.logProbs, [minibatchSize, H])),
          advantages: tf.keep(tf.tensor2d(mb.advantages, [minibatchSize, K])),
          returns: tf.keep(tf.tensor2d(mb.returns, [minibatchSize, K])),
          values: tf.keep(tf.tensor2d(mb.values, [minibatchSize, K])),
        }));
        const { metrics } = optimizer.minimize(
          () => minibatchLoss(network, config, batch, constants),
          learningRate,
        );
        for (const tensor of Object.values(batch)) tensor.dispose();
        if (epoch === config.epochs - 1) {
          for (let m = 0; m < 6; m++) metricSums[m] += metrics[m];
          metricCount += 1;
        }
      }
    }

    // 5. Report.
    lastMeanReward = rewardSum / (N * T);
    const elapsedSeconds = (performance.now() - start) / 1000;
    const mean = (m: number) => metricSums[m] / Math.max(1, metricCount);
    const progress: TrainingProgress = {
      update,
      updates,
      steps,
      totalSteps: updates * batchSize,
      elapsedSeconds,
      samplesPerSecond: steps / elapsedSeconds,
      meanReward: lastMeanReward,
      meanEpisodeReturn: endedCount > 0 ? endedReturnSum / endedCount : null,
      policyLoss: mean(0),
      valueLoss: mean(1),
      entropy: mean(2),
      approxKl: mean(3),
      clipFraction: mean(4),
      jointClipFraction: mean(5),
      learningRate,
      rolloutSeconds: (optimiseStart - rolloutStart) / 1000,
      optimiseSeconds: (performance.now() - optimiseStart) / 1000,
      envSeconds: envMs / 1000,
    };
    if (options.onUpdate?.(progress, network) === "stop") {
      stoppedEarly = update < updates;
      break;
    }
    // Let other work on the event loop (e.g. a worker's message port) run between updates.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  for (const tensor of Object.values(constants)) tensor.dispose();
  optimizer.dispose();
  const elapsedSeconds = (performance.now() - start) / 1000;
  return {
    network,
    summary: {
      steps,
      updates,
      elapsedSeconds,
      samplesPerSecond: steps / elapsedSeconds,
      finalMeanReward: lastMeanReward,
      stoppedEarly,
    },
  };
}

/** Constant tensors of the loss: habit → value channel, habit → group matrix, group shares. */
export interface LossConstants {
  channelOfHabit: tfTypes.Tensor1D;
  habitToGroup: tfTypes.Tensor2D;
  groupWeights: tfTypes.Tensor2D;
}

export function createLossConstants(spec: PolicySpec, channels: number): LossConstants {
  const H = spec.levelCount.length;
  const G = spec.groupCount;
  const habitToGroup = new Float32Array(H * G);
  const groupShare = new Float32Array(G);
  spec.actorGroupOf.forEach((g, h) => {
    habitToGroup[h * G + g] = 1;
    groupShare[g] += 1 / H;
  });
  return {
    channelOfHabit: tf.tensor1d(
      spec.actorGroupOf.map((g) => (channels === 1 ? 0 : g)),
      "int32",
    ),
    habitToGroup: tf.tensor2d(habitToGroup, [H, G]),
    groupWeights: tf.tensor2d(groupShare, [G, 1]),
  };
}

export interface MinibatchTensors {
  obs: tfTypes.Tensor2D;
  /** One-hot of the chosen levels, [M, H·L]. */
  oneHot: tfTypes.Tensor2D;
  logProbs: tfTypes.Tensor2D;
  advantages: tfTypes.Tensor2D;
  returns: tfTypes.Tensor2D;
  values: tfTypes.Tensor2D;
}

/**
 * The PPO loss of one minibatch. Returns the scalar loss and the metrics
 * [policy loss, value loss, joint entropy, approx KL, clip fraction, joint clip fraction].
 */
export function minibatchLoss(
  network: ActorCriticNetwork,
  config: PpoConfig,
  batch: MinibatchTensors,
  constants: LossConstants,
): { loss: tfTypes.Scalar; metrics: tfTypes.Tensor1D } {
  const { channelOfHabit, habitToGroup, groupWeights } = constants;
  const { obs, oneHot, returns } = batch;
  // Per-minibatch advantage normalisation, per value channel.
  const advantages = normaliseAdvantages(batch.advantages);

  const out = network.forward(obs);
  const { logProb, entropy } = multiCategoricalStats(out.logits, network.levelMask, oneHot);
  const habitLogRatio = tf.sub(logProb, batch.logProbs); // [M, H]
  const K = network.channels;

  // The ratio unit: per habit, per actor group (sum of its habits' log-ratios) or joint.
  let logRatio: tfTypes.Tensor;
  let unitAdvantages: tfTypes.Tensor;
  if (config.ratio === "habit") {
    logRatio = habitLogRatio;
    unitAdvantages = tf.gather(advantages, channelOfHabit, 1);
  } else if (config.ratio === "group") {
    logRatio = tf.matMul(habitLogRatio, habitToGroup);
    unitAdvantages = advantages; // [M, G], or [M, 1] broadcast over groups
  } else {
    logRatio = tf.sum(habitLogRatio, 1, true);
    unitAdvantages = K === 1 ? advantages : tf.matMul(advantages, groupWeights);
  }
  const ratio = tf.exp(logRatio);
  const policyLoss = clippedSurrogateLoss(ratio, unitAdvantages, config.clip);
  const vLoss = valueLoss(
    out.values,
    returns,
    batch.values,
    config.clipValueLoss ? config.clip : null,
  );
  const jointEntropy = tf.mean(tf.sum(entropy, 1));
  // The bonus uses the mean entropy per habit so one coefficient suits any number of habits.
  const entropyBonus = tf.div(jointEntropy, network.habitCount);
  const loss = tf.add(
    tf.sub(policyLoss, tf.mul(config.entropyCoef, entropyBonus)),
    tf.mul(config.valueCoef, vLoss),
  ) as tfTypes.Scalar;
  const jointRatio = tf.exp(tf.sum(habitLogRatio, 1));
  const metrics = tf.stack([
    policyLoss,
    vLoss,
    jointEntropy,
    approxKl(logRatio),
    clipFraction(ratio, config.clip),
    clipFraction(jointRatio, config.clip),
  ]) as tfTypes.Tensor1D;
  return { loss, metrics };
}
