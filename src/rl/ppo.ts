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
 *     5. report progress (samples/s, reward, entropy, approximate KL, clip fraction, losses,
 *        explained variance of the critic, learning rate)
 *
 * The production variant is `HABIT_PPO` (src/rl/habit-training.ts): the shared actor (one block
 * of all habits), one value head on the whole day's reward (every actor group's advantage), and
 * the clipped ratio of each actor group's joint action ("group" ratio). The research variants
 * that docs/rl-results.md compares — the independent actors (one block per group), one value
 * head per actor group on its own share of the reward, and the joint or per-habit
 * ratio — share this loop; their ratio units live in ./ppo-research.ts (the production one in ./ratio-units.ts), and the few lines where
 * a variant differs here are marked "Research:".
 */
import type * as tfTypes from "@tensorflow/tfjs-core";
import type { Rng } from "../coach/rng.js";
import { tf } from "./backend.js";
import { fastMultiCategoricalStats, sampleMultiCategorical } from "./distribution.js";
import { computeGae, explainedVariance } from "./gae.js";
import { clipFraction, valueLoss } from "./objective.js";
import { ClippedAdam } from "./optimizer.js";
import {
  ActorCriticNetwork,
  disposeNetworkInput,
  evaluateNetwork,
  InputBuffers,
  type InputLayout,
  type NetworkConfig,
  type NetworkInput,
  type PolicySpec,
} from "./policy-network.js";
import { researchRatioUnits } from "./ppo-research.js";
import { shuffleInPlace } from "./random.js";
import { groupRatioUnits, type RatioMode, type RatioUnits } from "./ratio-units.js";
import { createStepBuffers, type StepBuffers, type VectorEnv } from "./vector-env.js";

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
  /**
   * How much of the variance of this rollout's returns the critic's values (before the update)
   * explained: 1 − Var(returns − values) / Var(returns); NaN when the returns do not vary.
   */
  explainedVariance: number;
  /** Learning rate of this update's Adam steps (annealed linearly towards 0). */
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
  rng: Rng;
  /** Continue from an existing network instead of a freshly initialised one. */
  network?: ActorCriticNetwork;
  /** Called after every update; return "stop" to end training early. */
  onUpdate?: (progress: TrainingProgress, network: ActorCriticNetwork) => undefined | "stop";
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
  const layout = createLossLayout(network, config.ratio);
  const mb = createMinibatchArrays(layout, minibatchSize);
  const rollout: RolloutArrays = {
    observations: obsBuf,
    actions: actionBuf,
    logProbs: logProbBuf,
    advantages: advantageBuf,
    returns: returnBuf,
    values: valueBuf,
  };
  const step = createStepBuffers(env);
  const observations = new Float32Array(N * O);
  const actions = new Int32Array(N * H);
  const logProbs = new Float32Array(N * H);
  const episodeReturn = new Float64Array(N);

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
        channelRewards(step, n, G, K, rewardBuf, row);
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
    const valueFit = explainedVariance(valueBuf, returnBuf);

    // 4. Optimise: epochs of shuffled minibatches (assembled in JS; tf.gather is slow on WASM).
    // Metrics (KL, clip fractions, losses) are only computed in the last epoch, where they
    // are reported from.
    const optimiseStart = performance.now();
    for (let i = 0; i < batchSize; i++) order[i] = i;
    const metricSums = new Float64Array(6);
    let metricCount = 0;
    for (let epoch = 0; epoch < config.epochs; epoch++) {
      shuffleInPlace(order, rng);
      const lastEpoch = epoch === config.epochs - 1;
      for (let start = 0; start + minibatchSize <= batchSize; start += minibatchSize) {
        fillMinibatch(layout, rollout, order, start, O, mb);
        const batch = minibatchTensors(layout, mb);
        const { metrics } = optimizer.minimize(
          () => minibatchLoss(network, config, layout, batch, lastEpoch),
          learningRate,
        );
        disposeMinibatch(batch);
        if (lastEpoch) {
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
      explainedVariance: valueFit,
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

  disposeLossLayout(layout);
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

/**
 * The reward each value channel learns for person n's step, into out[row·K …]: with one value
 * head (`HABIT_PPO`) the whole day's reward, so every actor group's advantage carries what its
 * plan cost the others (overload, cross-effects); with one head per actor group (research) the
 * group's own share.
 */
export function channelRewards(
  step: Pick<StepBuffers, "rewards" | "groupRewards">,
  n: number,
  groups: number,
  channels: number,
  out: Float32Array,
  row: number,
): void {
  if (channels === 1) out[row] = step.rewards[n];
  else for (let g = 0; g < groups; g++) out[row * channels + g] = step.groupRewards[n * groups + g];
}

/**
 * How the loss is laid out for a network and config: the network's training blocks (one per
 * independent actor, or one block of all habits for the shared actor) and the ratio units.
 */
export interface LossLayout {
  mode: RatioMode;
  blocks: number[][];
  units: RatioUnits;
  habits: number;
  levels: number;
  /** Level axis of each block (see ActorCriticNetwork.blockLevels). */
  blockLevels: number[];
  channels: number;
  /** Where the network's inputs sit in an observation (the minibatch builds them in JS). */
  input: InputLayout;
}

export function createLossLayout(network: ActorCriticNetwork, mode: RatioMode): LossLayout {
  return {
    mode,
    blocks: network.blocks,
    units: mode === "group" ? groupRatioUnits(network) : researchRatioUnits(network, mode),
    habits: network.habitCount,
    levels: network.levels,
    blockLevels: network.blockLevels,
    channels: network.channels,
    input: network.inputLayout,
  };
}

export function disposeLossLayout(layout: LossLayout): void {
  layout.units.dispose();
}

/** A minibatch in the loss layout, assembled in JavaScript (buffers reused between calls). */
export interface MinibatchArrays {
  rows: number;
  /** The observations in the network's input layout, with what the weight gradients use. */
  input: InputBuffers;
  /** Per block: one-hot of the chosen levels [M, n_b, L], old log-probabilities [M, n_b]. */
  oneHot: Float32Array[];
  oldLogProbs: Float32Array[];
  /** Normalised advantage of each ratio unit, [M, U] per `RatioUnits.widths` entry. */
  unitAdvantages: Float32Array[];
  returns: Float32Array;
  values: Float32Array;
  /** Scratch: raw, then normalised advantages [M, K]. */
  advantages: Float64Array;
}

export function createMinibatchArrays(layout: LossLayout, rows: number): MinibatchArrays {
  const K = layout.channels;
  return {
    rows,
    input: new InputBuffers(layout.input, rows, { training: true }),
    oneHot: layout.blocks.map((b, i) => new Float32Array(rows * b.length * layout.blockLevels[i])),
    oldLogProbs: layout.blocks.map((b) => new Float32Array(rows * b.length)),
    unitAdvantages: layout.units.widths.map((width) => new Float32Array(rows * width)),
    returns: new Float32Array(rows * K),
    values: new Float32Array(rows * K),
    advantages: new Float64Array(rows * K),
  };
}

/** Rollout storage the minibatches are drawn from. */
export interface RolloutArrays {
  observations: Float32Array;
  actions: Int32Array;
  logProbs: Float32Array;
  advantages: Float32Array;
  returns: Float32Array;
  values: Float32Array;
}

/**
 * Copies rollout rows `order[start .. start + M)` into the minibatch layout and normalises the
 * advantages per value channel (mean 0, std 1 over the minibatch, as in CleanRL).
 */
export function fillMinibatch(
  layout: LossLayout,
  rollout: RolloutArrays,
  order: Int32Array,
  start: number,
  observationSize: number,
  mb: MinibatchArrays,
): void {
  const M = mb.rows;
  const O = observationSize;
  const H = layout.habits;
  const K = layout.channels;
  const { input, advantages } = mb;
  for (let j = 0; j < M; j++) {
    const row = order[start + j];
    input.setRow(j, rollout.observations, row * O);
    for (let k = 0; k < K; k++) {
      advantages[j * K + k] = rollout.advantages[row * K + k];
      mb.returns[j * K + k] = rollout.returns[row * K + k];
      mb.values[j * K + k] = rollout.values[row * K + k];
    }
  }
  layout.blocks.forEach((habits, b) => {
    const n = habits.length;
    const L = layout.blockLevels[b];
    const oneHot = mb.oneHot[b];
    const old = mb.oldLogProbs[b];
    oneHot.fill(0);
    for (let j = 0; j < M; j++) {
      const row = order[start + j];
      for (let k = 0; k < n; k++) {
        const h = habits[k];
        oneHot[(j * n + k) * L + rollout.actions[row * H + h]] = 1;
        old[j * n + k] = rollout.logProbs[row * H + h];
      }
    }
  });
  // Per-minibatch advantage normalisation, per value channel (population variance, like
  // tf.moments; + 1e-8 on the standard deviation).
  for (let k = 0; k < K; k++) {
    let mean = 0;
    for (let j = 0; j < M; j++) mean += advantages[j * K + k];
    mean /= M;
    let variance = 0;
    for (let j = 0; j < M; j++) variance += (advantages[j * K + k] - mean) ** 2;
    variance /= M;
    const scale = Math.sqrt(variance) + 1e-8;
    for (let j = 0; j < M; j++) advantages[j * K + k] = (advantages[j * K + k] - mean) / scale;
  }
  layout.units.fillAdvantages(advantages, M, K, mb.unitAdvantages);
}

/** The minibatch as tensors (dispose with `disposeMinibatch`). */
export interface MinibatchTensors {
  input: NetworkInput;
  oneHot: tfTypes.Tensor3D[];
  oldLogProbs: tfTypes.Tensor2D[];
  unitAdvantages: tfTypes.Tensor2D[];
  returns: tfTypes.Tensor2D;
  values: tfTypes.Tensor2D;
}

export function minibatchTensors(layout: LossLayout, mb: MinibatchArrays): MinibatchTensors {
  const M = mb.rows;
  const K = layout.channels;
  return {
    input: mb.input.tensors(),
    oneHot: layout.blocks.map((b, i) =>
      tf.tensor3d(mb.oneHot[i], [M, b.length, layout.blockLevels[i]]),
    ),
    oldLogProbs: layout.blocks.map((b, i) => tf.tensor2d(mb.oldLogProbs[i], [M, b.length])),
    unitAdvantages: mb.unitAdvantages.map((a) => tf.tensor2d(a, [M, a.length / M])),
    returns: tf.tensor2d(mb.returns, [M, K]),
    values: tf.tensor2d(mb.values, [M, K]),
  };
}

export function disposeMinibatch(batch: MinibatchTensors): void {
  disposeNetworkInput(batch.input);
  for (const t of [batch.returns, batch.values]) t.dispose();
  for (const list of [batch.oneHot, batch.oldLogProbs, batch.unitAdvantages]) {
    for (const t of list) t.dispose();
  }
}

/**
 * The PPO loss of one minibatch: clipped surrogate over the ratio units (mean over all units),
 * ½·(clipped) value error, minus the entropy bonus (mean entropy per habit). With `withMetrics`
 * also [policy loss, value loss, joint entropy, approx KL, clip fraction, joint clip fraction].
 */
export function minibatchLoss(
  network: ActorCriticNetwork,
  config: PpoConfig,
  layout: LossLayout,
  batch: MinibatchTensors,
  withMetrics = true,
): { loss: tfTypes.Scalar; metrics: tfTypes.Tensor1D | null } {
  const M = batch.input.coach.shape[0];
  const units = layout.units;
  const out = network.forwardTraining(batch.input);
  const clip = config.clip;
  const surrogateSums: tfTypes.Tensor[] = [];
  const entropySums: tfTypes.Tensor[] = [];
  const jointParts: tfTypes.Tensor[] = [];
  const unitLogRatios: tfTypes.Tensor[] = [];
  let unitCount = 0;
  const surrogateSum = (logRatio: tfTypes.Tensor, advantages: tfTypes.Tensor) => {
    const ratio = tf.exp(logRatio);
    const negA = tf.neg(advantages);
    return tf.sum(
      tf.maximum(tf.mul(negA, ratio), tf.mul(negA, tf.clipByValue(ratio, 1 - clip, 1 + clip))),
    );
  };
  layout.blocks.forEach((_, b) => {
    const { logProb, entropy } = fastMultiCategoricalStats(out.blockLogits[b], batch.oneHot[b]);
    const habitLogRatio = tf.sub(logProb, batch.oldLogProbs[b]) as tfTypes.Tensor2D; // [M, n_b]
    entropySums.push(tf.sum(entropy));
    if (units.usesJointRatio || withMetrics) jointParts.push(tf.sum(habitLogRatio, 1, true));
    const unit = units.blockLogRatio(b, habitLogRatio);
    if (unit === null) return;
    surrogateSums.push(surrogateSum(unit, batch.unitAdvantages[b]));
    unitLogRatios.push(unit);
    unitCount += M * units.widths[b];
  });
  const jointLogRatio =
    jointParts.length === 0 ? null : jointParts.length === 1 ? jointParts[0] : tf.addN(jointParts);
  if (units.usesJointRatio) {
    // Research: one unit per row, spanning every block.
    const joint = jointLogRatio as tfTypes.Tensor;
    surrogateSums.push(surrogateSum(joint, batch.unitAdvantages[0]));
    unitLogRatios.push(joint);
    unitCount = M;
  }
  const sumAll = (xs: tfTypes.Tensor[]) => (xs.length === 1 ? xs[0] : tf.addN(xs));
  const policyLoss = tf.div(sumAll(surrogateSums), unitCount) as tfTypes.Scalar;
  const vLoss = valueLoss(
    out.values,
    batch.returns,
    batch.values,
    config.clipValueLoss ? clip : null,
  );
  const jointEntropy = tf.div(sumAll(entropySums), M) as tfTypes.Scalar;
  // The bonus uses the mean entropy per habit so one coefficient suits any number of habits.
  const entropyBonus = tf.div(jointEntropy, network.habitCount);
  const loss = tf.add(
    tf.sub(policyLoss, tf.mul(config.entropyCoef, entropyBonus)),
    tf.mul(config.valueCoef, vLoss),
  ) as tfTypes.Scalar;
  if (!withMetrics) return { loss, metrics: null };
  // Approximate KL and clip fraction over all ratio units of the mode in use.
  const klSums = unitLogRatios.map((lr) => tf.sum(tf.sub(tf.sub(tf.exp(lr), 1), lr)));
  const clipSums = unitLogRatios.map((lr) =>
    tf.sum(tf.cast(tf.greater(tf.abs(tf.sub(tf.exp(lr), 1)), clip), "float32")),
  );
  const joint = jointLogRatio as tfTypes.Tensor;
  const metrics = tf.stack([
    policyLoss,
    vLoss,
    jointEntropy,
    tf.div(sumAll(klSums), unitCount),
    tf.div(sumAll(clipSums), unitCount),
    clipFraction(tf.exp(joint), clip),
  ]) as tfTypes.Tensor1D;
  return { loss, metrics };
}
