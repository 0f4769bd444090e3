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
import { fastMultiCategoricalStats, sampleMultiCategorical } from "./distribution.js";
import { computeGae } from "./gae.js";
import { clipFraction, valueLoss } from "./objective.js";
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

/**
 * Runs the network on `rows` observations; returns masked logits [rows, H, L] in habit order and
 * values as JS arrays. Uses the training layout (one block per independent actor) and puts the
 * habits in order in JavaScript: ~40 % faster on WASM than reordering with tensor kernels.
 */
export function evaluateNetwork(
  network: ActorCriticNetwork,
  observations: Float32Array,
  rows: number,
): { logits: Float32Array; values: Float32Array } {
  const outputs = tf.tidy(() => {
    const input = tf.tensor2d(observations.subarray(0, rows * network.spec.observationSize), [
      rows,
      network.spec.observationSize,
    ]);
    const out = network.forwardTraining(input, null, { narrow: false });
    return [out.values, ...out.blockLogits];
  });
  const values = outputs[0].dataSync() as Float32Array;
  const blocks = network.blocks;
  let logits: Float32Array;
  if (blocks.length === 1 && blocks[0].every((h, i) => h === i)) {
    logits = outputs[1].dataSync() as Float32Array;
  } else {
    const H = network.habitCount;
    const L = network.levels;
    logits = new Float32Array(rows * H * L);
    blocks.forEach((habits, b) => {
      const data = outputs[b + 1].dataSync() as Float32Array;
      const n = habits.length;
      for (let r = 0; r < rows; r++) {
        for (let k = 0; k < n; k++) {
          const from = (r * n + k) * L;
          const to = (r * H + habits[k]) * L;
          for (let l = 0; l < L; l++) logits[to + l] = data[from + l];
        }
      }
    });
  }
  for (const t of outputs) t.dispose();
  return { logits, values };
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
  const mb = createMinibatchArrays(layout, minibatchSize, O);
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
        const batch = minibatchTensors(layout, mb, O);
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
 * How the loss is laid out for a network and config: the network's training blocks (one per
 * independent actor, or one block of all habits for the shared actor), the probability-ratio
 * units of each block and the value channel whose advantage each unit uses.
 */
export interface LossLayout {
  mode: RatioMode;
  blocks: number[][];
  /** Ratio units per block (habit: its habits; group: the groups it spans; joint: none). */
  unitChannels: Int32Array[];
  /** [n_b, U_b] habit → unit matrices for group-ratio blocks spanning several groups. */
  unitMatrices: (tfTypes.Tensor2D | null)[];
  /** Joint ratio: weight of each value channel in the joint advantage (habit share of group). */
  channelWeights: Float64Array;
  habits: number;
  levels: number;
  /** Level axis of each block (see ActorCriticNetwork.blockLevels). */
  blockLevels: number[];
  channels: number;
}

export function createLossLayout(network: ActorCriticNetwork, mode: RatioMode): LossLayout {
  const spec = network.spec;
  const K = network.channels;
  const H = network.habitCount;
  const channelOf = (habit: number) => (K === 1 ? 0 : spec.actorGroupOf[habit]);
  const unitChannels: Int32Array[] = [];
  const unitMatrices: (tfTypes.Tensor2D | null)[] = [];
  for (const habits of network.blocks) {
    if (mode === "habit") {
      unitChannels.push(Int32Array.from(habits, channelOf));
      unitMatrices.push(null);
    } else if (mode === "group") {
      const groups = [...new Set(habits.map((h) => spec.actorGroupOf[h]))];
      unitChannels.push(Int32Array.from(groups, (g) => (K === 1 ? 0 : g)));
      if (groups.length === 1) unitMatrices.push(null);
      else {
        const matrix = new Float32Array(habits.length * groups.length);
        habits.forEach((h, j) => {
          matrix[j * groups.length + groups.indexOf(spec.actorGroupOf[h])] = 1;
        });
        unitMatrices.push(tf.keep(tf.tensor2d(matrix, [habits.length, groups.length])));
      }
    } else {
      unitChannels.push(new Int32Array(0));
      unitMatrices.push(null);
    }
  }
  const channelWeights = new Float64Array(K);
  if (K === 1) channelWeights[0] = 1;
  else for (let h = 0; h < H; h++) channelWeights[channelOf(h)] += 1 / H;
  return {
    mode,
    blocks: network.blocks,
    unitChannels,
    unitMatrices,
    channelWeights,
    habits: H,
    levels: network.levels,
    blockLevels: network.blockLevels,
    channels: K,
  };
}

export function disposeLossLayout(layout: LossLayout): void {
  for (const m of layout.unitMatrices) m?.dispose();
}

/** A minibatch in the loss layout, assembled in JavaScript (buffers reused between calls). */
export interface MinibatchArrays {
  rows: number;
  obs: Float32Array;
  /** Observations transposed, [O, M]. */
  obsT: Float32Array;
  /** Per block: one-hot of the chosen levels [M, n_b, L], old log-probabilities [M, n_b]. */
  oneHot: Float32Array[];
  oldLogProbs: Float32Array[];
  /** Per block: normalised advantage of each ratio unit [M, U_b] (joint: one array [M, 1]). */
  unitAdvantages: Float32Array[];
  returns: Float32Array;
  values: Float32Array;
  /** Scratch: raw, then normalised advantages [M, K]. */
  advantages: Float64Array;
}

export function createMinibatchArrays(
  layout: LossLayout,
  rows: number,
  observationSize: number,
): MinibatchArrays {
  const K = layout.channels;
  return {
    rows,
    obs: new Float32Array(rows * observationSize),
    obsT: new Float32Array(rows * observationSize),
    oneHot: layout.blocks.map((b, i) => new Float32Array(rows * b.length * layout.blockLevels[i])),
    oldLogProbs: layout.blocks.map((b) => new Float32Array(rows * b.length)),
    unitAdvantages:
      layout.mode === "joint"
        ? [new Float32Array(rows)]
        : layout.unitChannels.map((u) => new Float32Array(rows * u.length)),
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
  const { obs, obsT, advantages } = mb;
  for (let j = 0; j < M; j++) {
    const row = order[start + j];
    const src = row * O;
    for (let o = 0; o < O; o++) {
      const x = rollout.observations[src + o];
      obs[j * O + o] = x;
      obsT[o * M + j] = x;
    }
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
  if (layout.mode === "joint") {
    const out = mb.unitAdvantages[0];
    const w = layout.channelWeights;
    for (let j = 0; j < M; j++) {
      let a = 0;
      for (let k = 0; k < K; k++) a += advantages[j * K + k] * w[k];
      out[j] = a;
    }
  } else {
    layout.unitChannels.forEach((channels, b) => {
      const U = channels.length;
      const out = mb.unitAdvantages[b];
      for (let j = 0; j < M; j++) {
        for (let u = 0; u < U; u++) out[j * U + u] = advantages[j * K + channels[u]];
      }
    });
  }
}

/** The minibatch as tensors (dispose with `disposeMinibatch`). */
export interface MinibatchTensors {
  obs: tfTypes.Tensor2D;
  obsT: tfTypes.Tensor2D;
  oneHot: tfTypes.Tensor3D[];
  oldLogProbs: tfTypes.Tensor2D[];
  unitAdvantages: tfTypes.Tensor2D[];
  returns: tfTypes.Tensor2D;
  values: tfTypes.Tensor2D;
}

export function minibatchTensors(
  layout: LossLayout,
  mb: MinibatchArrays,
  observationSize: number,
): MinibatchTensors {
  const M = mb.rows;
  const K = layout.channels;
  return {
    obs: tf.tensor2d(mb.obs, [M, observationSize]),
    obsT: tf.tensor2d(mb.obsT, [observationSize, M]),
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
  for (const t of [batch.obs, batch.obsT, batch.returns, batch.values]) t.dispose();
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
  const M = batch.obs.shape[0];
  const out = network.forwardTraining(batch.obs, batch.obsT);
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
    const habitLogRatio = tf.sub(logProb, batch.oldLogProbs[b]); // [M, n_b]
    entropySums.push(tf.sum(entropy));
    if (layout.mode === "joint" || withMetrics) jointParts.push(tf.sum(habitLogRatio, 1, true));
    if (layout.mode === "joint") return;
    let unit: tfTypes.Tensor;
    if (layout.mode === "habit") unit = habitLogRatio;
    else {
      const matrix = layout.unitMatrices[b];
      unit = matrix ? tf.matMul(habitLogRatio, matrix) : tf.sum(habitLogRatio, 1, true);
    }
    surrogateSums.push(surrogateSum(unit, batch.unitAdvantages[b]));
    unitLogRatios.push(unit);
    unitCount += M * layout.unitChannels[b].length;
  });
  const jointLogRatio =
    jointParts.length === 0 ? null : jointParts.length === 1 ? jointParts[0] : tf.addN(jointParts);
  if (layout.mode === "joint") {
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
