/**
 * Upside-down reinforcement learning (Srivastava et al., 2019, "Training Agents using
 * Upside-Down Reinforcement Learning"), written to read top to bottom like ./ppo.ts:
 *
 *   a behaviour function B(observation, command) → one categorical per habit, where the command
 *   is (days left, reward still to reach). It is learnt by supervised learning on what happened:
 *
 *   warm-up: `warmupEpisodes` episodes with uniformly random plans go into the episode store
 *   for each iteration:
 *     1. hindsight samples from the stored episodes: a segment [t1, t2) of an episode (t2 at the
 *        episode's end with probability 0.75, else uniform), input (observation at t1, command
 *        (t2 − t1, reward reached over the segment)), label the action taken at t1
 *     2. fit B with Adam on the cross-entropy of those labels, stopping early when the loss on
 *        held-out episodes stops falling (the best weights are kept)
 *     3. exploration command from the best episodes: days = their mean length, reward drawn
 *        uniformly between their mean return and mean + one standard deviation
 *     4. act with B (sampling) under that command, updating it every step (reward still to
 *        reach − today's reward, days left − 1, both clipped at 0); finished episodes are stored
 *     5. report progress
 *
 * The episode store is a FIFO of the most recent episodes plus a priority store of the best (by
 * total reward, then by length: the same reward in fewer steps ranks higher), 200 each.
 * Every hyperparameter and its reason: `UDRL_DEFAULTS` below and docs/rl.md ("UDRL").
 */
import type * as tfTypes from "@tensorflow/tfjs-core";
import type { Rng } from "../coach/rng.js";
import { tf } from "./backend.js";
import { fastMultiCategoricalStats, MASKED_LOGIT, sampleMultiCategorical } from "./distribution.js";
import { orthogonalMatrix } from "./init.js";
import { ClippedAdam } from "./optimizer.js";
import type { NamedWeights } from "./policy-network.js";
import { shuffleInPlace } from "./random.js";
import { createStepBuffers, type VectorEnv } from "./vector-env.js";

export interface UdrlConfig {
  /** Environment steps to train on (warm-up included), summed over copies. */
  totalSteps: number;
  /** Most recent episodes kept (FIFO). */
  recentEpisodes: number;
  /** Best episodes kept (priority store). */
  bestEpisodes: number;
  /** Episodes with uniformly random plans before the first fit. */
  warmupEpisodes: number;
  /**
   * Share of the copies that follow a demonstrating planner during the warm-up (trainUdrl's
   * `demonstrate`, e.g. the coach core's heuristic) instead of random plans; 0 = all random.
   */
  warmupDemonstrationShare: number;
  /** New exploratory episodes collected per iteration. */
  episodesPerIteration: number;
  /** Probability that a hindsight segment ends at the episode's end. */
  segmentEndAtEpisodeEnd: number;
  /** How many of the best episodes the exploration command is drawn from. */
  commandEpisodes: number;
  /**
   * Command input: days left × horizonScale, and either reward still to reach × rewardScale
   * ("total") or (reward still to reach ÷ days left − rewardCenter) × rewardScale ("per-day").
   */
  horizonScale: number;
  rewardScale: number;
  commandEncoding: "total" | "per-day";
  /** Centre of the per-day encoding; null = the warm-up episodes' mean reward per step. */
  rewardCenter: number | null;
  /**
   * A third command part, the effort still to spend (a hindsight quantity the environment
   * measures per step, e.g. a plan's load), encoded per day as (effort ÷ days left −
   * effortCenter) × effortScale; null = a two-part command (days, reward) as in the paper.
   */
  effortScale: number | null;
  /** Centre of the effort encoding; null = the warm-up episodes' mean effort per step. */
  effortCenter: number | null;
  /**
   * Exploration's per-day effort: the best episodes' mean ± this many standard deviations
   * (uniform), so the stored episodes span lighter and heavier stretches for the dial.
   */
  effortExploration: number;
  /**
   * Share of each iteration's hindsight samples drawn from the priority store only (the rest
   * from every stored episode); 0 = uniform over the stored episodes.
   */
  bestSampleShare: number;
  /** Width of the observation and command embeddings, and of the MLP's hidden layer. */
  embeddingSize: number;
  hiddenSize: number;
  learningRate: number;
  batchSize: number;
  maxGradNorm: number;
  /** Hindsight training samples drawn per iteration (a fresh draw every iteration). */
  samplesPerIteration: number;
  /** Share of episodes held out (flagged when stored) for early stopping. */
  heldOutFraction: number;
  /** Held-out samples drawn per iteration. */
  heldOutSamples: number;
  /** Gradient steps between held-out checks; stop after `patience` checks without improvement. */
  checkEvery: number;
  patience: number;
  /** Upper bound of gradient steps per iteration. */
  maxGradientSteps: number;
}

/** Defaults with the reason for each (also tabled in docs/rl.md). */
export const UDRL_DEFAULTS: UdrlConfig = {
  totalSteps: 200_000,
  // The paper's sizes: enough recent episodes to follow the current behaviour, enough best ones
  // to remember what worked after the FIFO forgot it.
  recentEpisodes: 200,
  bestEpisodes: 200,
  // Random plans cover every level of every habit before the first fit (so B has seen them).
  warmupEpisodes: 50,
  warmupDemonstrationShare: 0,
  episodesPerIteration: 16,
  // The paper: most commands at run time ask for the rest of an episode, so most training
  // segments do too; the other quarter teaches shorter horizons (the chat's "next N days").
  segmentEndAtEpisodeEnd: 0.75,
  commandEpisodes: 50,
  horizonScale: 0.02,
  rewardScale: 0.02,
  commandEncoding: "total",
  rewardCenter: null,
  effortScale: null,
  effortCenter: null,
  effortExploration: 1,
  bestSampleShare: 0,
  embeddingSize: 64,
  hiddenSize: 64,
  learningRate: 1e-3,
  batchSize: 256,
  // Supervised loss with bounded gradients; a loose clip only guards against a bad batch.
  maxGradNorm: 5,
  samplesPerIteration: 8192,
  heldOutFraction: 0.1,
  heldOutSamples: 1024,
  checkEvery: 25,
  patience: 3,
  maxGradientSteps: 400,
};

// ---------------------------------------------------------------------------------------------
// Episodes and the episode store.

export interface Episode {
  /** [T, O] observations before each step. */
  observations: Float32Array;
  /** [T, H] actions (level index per habit). */
  actions: Int32Array;
  /** [T] rewards. */
  rewards: Float32Array;
  /** [T] effort spent each step (only when the command has an effort part). */
  efforts?: Float32Array;
  length: number;
  totalReward: number;
  /** Used only to measure early stopping, never to fit. */
  heldOut: boolean;
}

/** Ranking of the priority store: more total reward first, then the shorter episode. */
export function betterEpisode(a: Episode, b: Episode): number {
  if (a.totalReward !== b.totalReward) return b.totalReward - a.totalReward;
  return a.length - b.length;
}

export class EpisodeStore {
  readonly recent: Episode[] = [];
  readonly best: Episode[] = [];
  /**
   * Episodes kept for the whole training, whatever their reward (a person's own logged days):
   * always sampled for fitting, never evicted; they also compete for the priority store.
   */
  readonly pinned: Episode[] = [];
  constructor(
    readonly recentCapacity: number,
    readonly bestCapacity: number,
  ) {}

  pin(episode: Episode): void {
    this.pinned.push(episode);
    this.addBest(episode);
  }

  add(episode: Episode): void {
    this.recent.push(episode);
    if (this.recent.length > this.recentCapacity) this.recent.shift();
    this.addBest(episode);
  }

  private addBest(episode: Episode): void {
    // Insert in order (stable: an equal episode goes after the ones already there).
    let i = this.best.length;
    while (i > 0 && betterEpisode(episode, this.best[i - 1]) < 0) i--;
    this.best.splice(i, 0, episode);
    if (this.best.length > this.bestCapacity) this.best.pop();
  }

  /** Every stored episode once (an episode may be both recent and among the best). */
  all(): Episode[] {
    const set = new Set<Episode>(this.recent);
    for (const e of this.best) set.add(e);
    for (const e of this.pinned) set.add(e);
    return [...set];
  }

  /**
   * Mean and standard deviation of the total reward, mean length, and mean and standard
   * deviation of the per-day effort (0 without efforts), of the top `k`.
   */
  bestStatistics(k: number): {
    meanReward: number;
    stdReward: number;
    meanLength: number;
    meanEffort: number;
    stdEffort: number;
  } {
    const top = this.best.slice(0, Math.max(1, k));
    const n = top.length;
    if (n === 0) return { meanReward: 0, stdReward: 0, meanLength: 1, meanEffort: 0, stdEffort: 0 };
    const meanReward = top.reduce((s, e) => s + e.totalReward, 0) / n;
    const variance = top.reduce((s, e) => s + (e.totalReward - meanReward) ** 2, 0) / n;
    const meanLength = top.reduce((s, e) => s + e.length, 0) / n;
    const effort = top.map(effortPerDay);
    const meanEffort = effort.reduce((s, x) => s + x, 0) / n;
    const stdEffort = Math.sqrt(effort.reduce((s, x) => s + (x - meanEffort) ** 2, 0) / n);
    return { meanReward, stdReward: Math.sqrt(variance), meanLength, meanEffort, stdEffort };
  }
}

/** An episode's mean effort per step (0 without efforts). */
export function effortPerDay(episode: Episode): number {
  if (!episode.efforts || episode.length === 0) return 0;
  let sum = 0;
  for (let t = 0; t < episode.length; t++) sum += episode.efforts[t];
  return sum / episode.length;
}

// ---------------------------------------------------------------------------------------------
// Commands and hindsight.

export interface Command {
  /** Days (steps) left. */
  daysLeft: number;
  /** Reward still to reach over those days. */
  rewardToGo: number;
  /** Effort still to spend over those days (commands with an effort part only). */
  effortToGo?: number;
}

/**
 * The command after a day that brought `reward` (and spent `effort`): every part moves on and
 * stops at 0.
 */
export function updateCommand(command: Command, reward: number, effort = 0): Command {
  const next: Command = {
    daysLeft: Math.max(0, command.daysLeft - 1),
    rewardToGo: Math.max(0, command.rewardToGo - reward),
  };
  if (command.effortToGo !== undefined) {
    next.effortToGo = Math.max(0, command.effortToGo - effort);
  }
  return next;
}

/** Whether the command has an effort part (checkpoints from before it have no effortScale). */
export function hasEffort(config: Pick<UdrlConfig, "effortScale">): boolean {
  return config.effortScale !== null && config.effortScale !== undefined;
}

/** Inputs of the network's command: 2 (days, reward), 3 with an effort part. */
export function commandSize(config: Pick<UdrlConfig, "effortScale">): number {
  return hasEffort(config) ? 3 : 2;
}

/** The exploration command: mean length of the best, reward in [mean, mean + std]. */
export function explorationCommand(store: EpisodeStore, config: UdrlConfig, rng: Rng): Command {
  const { meanReward, stdReward, meanLength, meanEffort, stdEffort } = store.bestStatistics(
    config.commandEpisodes,
  );
  const daysLeft = Math.max(1, Math.round(meanLength));
  const command: Command = {
    daysLeft,
    rewardToGo: Math.max(0, meanReward + rng.next() * stdReward),
  };
  if (hasEffort(config)) {
    const spread = (2 * rng.next() - 1) * config.effortExploration * stdEffort;
    command.effortToGo = Math.max(0, (meanEffort + spread) * daysLeft);
  }
  return command;
}

export interface HindsightSample {
  episode: Episode;
  /** Step whose observation is the input and whose action is the label. */
  step: number;
  command: Command;
}

/**
 * One hindsight sample: a segment [t1, t2) with t1 uniform; t2 the episode's end with
 * probability `endProbability`, else uniform in (t1, T]; the command is what the segment
 * reached: (t2 − t1 days, the reward summed over the segment).
 */
export function hindsightSample(
  episode: Episode,
  rng: Rng,
  endProbability: number,
): HindsightSample {
  const T = episode.length;
  const t1 = Math.floor(rng.next() * T);
  const t2 = rng.next() < endProbability ? T : t1 + 1 + Math.floor(rng.next() * (T - t1));
  let reward = 0;
  for (let t = t1; t < t2; t++) reward += episode.rewards[t];
  const command: Command = { daysLeft: t2 - t1, rewardToGo: reward };
  if (episode.efforts) {
    let effort = 0;
    for (let t = t1; t < t2; t++) effort += episode.efforts[t];
    command.effortToGo = effort;
  }
  return { episode, step: t1, command };
}

/** Writes the network's command input for `command` at `offset` of `out`. */
export function commandInput(
  command: Command,
  config: Pick<
    UdrlConfig,
    | "horizonScale"
    | "rewardScale"
    | "commandEncoding"
    | "rewardCenter"
    | "effortScale"
    | "effortCenter"
  >,
  out: Float32Array,
  offset: number,
): void {
  out[offset] = command.daysLeft * config.horizonScale;
  out[offset + 1] =
    config.commandEncoding === "total"
      ? command.rewardToGo * config.rewardScale
      : (command.rewardToGo / Math.max(1, command.daysLeft) - (config.rewardCenter ?? 0)) *
        config.rewardScale;
  if (hasEffort(config)) {
    out[offset + 2] =
      ((command.effortToGo ?? 0) / Math.max(1, command.daysLeft) - (config.effortCenter ?? 0)) *
      (config.effortScale as number);
  }
}

// ---------------------------------------------------------------------------------------------
// The behaviour network.

export interface BehaviourSpec {
  observationSize: number;
  /** Levels of each habit (sub-action); the level axis is padded to the largest. */
  levelCount: number[];
}

export interface BehaviourNetworkConfig {
  embeddingSize: number;
  hiddenSize: number;
  /** Inputs of the command (2 when absent: days, reward; 3 with an effort part). */
  commandSize?: number;
}

const VARIABLE_NAMES = [
  "observation/kernel",
  "observation/bias",
  "observation/prelu",
  "command/kernel",
  "command/bias",
  "command/prelu",
  "hidden/kernel",
  "hidden/bias",
  "head/kernel",
  "head/bias",
] as const;

/**
 * observation → linear + PReLU ┐
 *                              ├ × (element-wise) → linear + ReLU → linear → logits [B, H, L]
 * command     → linear + PReLU ┘                                   (missing levels masked)
 * The product lets the command gate which features of the observation matter (the paper's
 * "multiplicative interactions"); PReLU slopes start at 0.25.
 */
export class BehaviourNetwork {
  readonly spec: BehaviourSpec;
  readonly config: BehaviourNetworkConfig;
  readonly habitCount: number;
  readonly levels: number;
  readonly commandSize: number;
  readonly variables: tfTypes.Variable[];
  private readonly maskBias: tfTypes.Tensor2D;

  constructor(spec: BehaviourSpec, config: BehaviourNetworkConfig, rng: Rng) {
    this.spec = spec;
    this.config = config;
    this.habitCount = spec.levelCount.length;
    this.levels = Math.max(...spec.levelCount);
    const O = spec.observationSize;
    const E = config.embeddingSize;
    const D = config.hiddenSize;
    const out = this.habitCount * this.levels;
    this.commandSize = config.commandSize ?? 2;
    const matrix = (rows: number, cols: number, gain: number, name: string) =>
      tf.variable(tf.tensor2d(orthogonalMatrix(rows, cols, gain, rng), [rows, cols]), true, name);
    const vector = (size: number, value: number, name: string) =>
      tf.variable(tf.fill([size], value), true, name);
    const id = `udrl${nextNetworkId++}/`;
    this.variables = [
      matrix(O, E, Math.SQRT2, id + VARIABLE_NAMES[0]),
      vector(E, 0, id + VARIABLE_NAMES[1]),
      vector(E, 0.25, id + VARIABLE_NAMES[2]),
      matrix(this.commandSize, E, Math.SQRT2, id + VARIABLE_NAMES[3]),
      vector(E, 0, id + VARIABLE_NAMES[4]),
      vector(E, 0.25, id + VARIABLE_NAMES[5]),
      matrix(E, D, Math.SQRT2, id + VARIABLE_NAMES[6]),
      vector(D, 0, id + VARIABLE_NAMES[7]),
      // A small head: the first plans are near-uniform, like the random warm-up.
      matrix(D, out, 0.01, id + VARIABLE_NAMES[8]),
      vector(out, 0, id + VARIABLE_NAMES[9]),
    ];
    const bias = new Float32Array(this.habitCount * this.levels);
    spec.levelCount.forEach((count, h) => {
      for (let l = count; l < this.levels; l++) bias[h * this.levels + l] = MASKED_LOGIT;
    });
    this.maskBias = tf.keep(tf.tensor2d(bias, [this.habitCount, this.levels]));
  }

  /** Masked logits [B, H, L] for observations [B, O] and command inputs [B, commandSize]. */
  forward(observations: tfTypes.Tensor2D, commands: tfTypes.Tensor2D): tfTypes.Tensor3D {
    const [ow, ob, oa, cw, cb, ca, hw, hb, w, b] = this.variables;
    const observation = tf.prelu(tf.add(tf.matMul(observations, ow), ob), oa);
    const command = tf.prelu(tf.add(tf.matMul(commands, cw), cb), ca);
    const hidden = tf.relu(tf.add(tf.matMul(tf.mul(observation, command), hw), hb));
    const logits = tf.add(tf.matMul(hidden, w), b);
    const rows = observations.shape[0];
    return tf.add(
      tf.reshape(logits, [rows, this.habitCount, this.levels]),
      this.maskBias,
    ) as tfTypes.Tensor3D;
  }

  /** Masked logits as a JS array [rows, H, L]. */
  logits(observations: Float32Array, commands: Float32Array, rows: number): Float32Array {
    const O = this.spec.observationSize;
    const out = tf.tidy(() =>
      this.forward(
        tf.tensor2d(observations.subarray(0, rows * O), [rows, O]),
        tf.tensor2d(commands.subarray(0, rows * this.commandSize), [rows, this.commandSize]),
      ),
    );
    const data = out.dataSync() as Float32Array;
    out.dispose();
    return data;
  }

  getWeights(): NamedWeights[] {
    return this.variables.map((v, i) => ({
      name: VARIABLE_NAMES[i],
      shape: [...v.shape],
      values: new Float32Array(v.dataSync() as Float32Array),
    }));
  }

  setWeights(weights: NamedWeights[]): void {
    if (weights.length !== this.variables.length) {
      throw new Error(`expected ${this.variables.length} weight tensors, got ${weights.length}`);
    }
    weights.forEach((w, i) => {
      const v = this.variables[i];
      if (w.name !== VARIABLE_NAMES[i] || w.shape.join("x") !== v.shape.join("x")) {
        throw new Error(
          `weight ${i} is ${w.name} [${w.shape}] but the network expects ${VARIABLE_NAMES[i]} [${v.shape}]`,
        );
      }
      tf.tidy(() => v.assign(tf.tensor(w.values, w.shape)));
    });
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
    this.maskBias.dispose();
  }
}

let nextNetworkId = 0;

/**
 * Chooses one level per habit for `rows` observations under their commands (sampled with
 * `rng`, or the most likely level with `rng` null). Levels a habit lacks are never chosen.
 */
export function actWithCommands(
  network: BehaviourNetwork,
  observations: Float32Array,
  commands: Float32Array,
  rows: number,
  rng: Rng | null,
  actions: Int32Array,
): void {
  const logits = network.logits(observations, commands, rows);
  sampleMultiCategorical(
    logits,
    rows,
    network.habitCount,
    network.levels,
    network.spec.levelCount,
    rng,
    actions,
    null,
  );
}

// ---------------------------------------------------------------------------------------------
// Fitting the behaviour function on hindsight samples.

interface SampleArrays {
  rows: number;
  observations: Float32Array;
  commands: Float32Array;
  oneHot: Float32Array;
}

/**
 * `count` hindsight samples: a share `bestShare` from episodes drawn uniformly out of `best`
 * (when it has any), the rest uniformly out of `episodes`.
 */
function drawSamples(
  episodes: Episode[],
  best: Episode[],
  bestShare: number,
  count: number,
  network: BehaviourNetwork,
  config: UdrlConfig,
  rng: Rng,
): SampleArrays {
  const O = network.spec.observationSize;
  const H = network.habitCount;
  const L = network.levels;
  const C = network.commandSize;
  const observations = new Float32Array(count * O);
  const commands = new Float32Array(count * C);
  const oneHot = new Float32Array(count * H * L);
  for (let i = 0; i < count; i++) {
    // (no draw at share 0: the random stream stays the one of uniform sampling)
    const from = bestShare > 0 && best.length > 0 && rng.next() < bestShare ? best : episodes;
    const episode = from[Math.floor(rng.next() * from.length)];
    const sample = hindsightSample(episode, rng, config.segmentEndAtEpisodeEnd);
    observations.set(episode.observations.subarray(sample.step * O, (sample.step + 1) * O), i * O);
    commandInput(sample.command, config, commands, i * C);
    for (let h = 0; h < H; h++) oneHot[(i * H + h) * L + episode.actions[sample.step * H + h]] = 1;
  }
  return { rows: count, observations, commands, oneHot };
}

/** Mean cross-entropy per habit of the labels under the network. */
function crossEntropy(
  network: BehaviourNetwork,
  observations: tfTypes.Tensor2D,
  commands: tfTypes.Tensor2D,
  oneHot: tfTypes.Tensor3D,
): tfTypes.Scalar {
  const { logProb } = fastMultiCategoricalStats(network.forward(observations, commands), oneHot);
  return tf.neg(tf.mean(logProb)) as tfTypes.Scalar;
}

function heldOutLoss(network: BehaviourNetwork, samples: SampleArrays): number {
  const O = network.spec.observationSize;
  return tf.tidy(
    () =>
      crossEntropy(
        network,
        tf.tensor2d(samples.observations, [samples.rows, O]),
        tf.tensor2d(samples.commands, [samples.rows, network.commandSize]),
        tf.tensor3d(samples.oneHot, [samples.rows, network.habitCount, network.levels]),
      ).dataSync()[0],
  );
}

export interface FitResult {
  gradientSteps: number;
  trainLoss: number;
  heldOutLoss: number;
  stoppedEarly: boolean;
}

/**
 * Fits the behaviour function on fresh hindsight samples: Adam on minibatches of the
 * training episodes' samples; every `checkEvery` steps the held-out loss is measured, and after
 * `patience` checks without improvement the best weights are restored and fitting stops.
 */
export function fitBehaviour(
  network: BehaviourNetwork,
  optimizer: ClippedAdam,
  store: EpisodeStore,
  config: UdrlConfig,
  rng: Rng,
): FitResult | null {
  const episodes = store.all();
  const training = episodes.filter((e) => !e.heldOut);
  const heldOut = episodes.filter((e) => e.heldOut);
  if (training.length === 0) return null;
  const O = network.spec.observationSize;
  const H = network.habitCount;
  const L = network.levels;
  const C = network.commandSize;
  const bestTraining = store.best.filter((e) => !e.heldOut);
  const train = drawSamples(
    training,
    bestTraining,
    config.bestSampleShare,
    config.samplesPerIteration,
    network,
    config,
    rng,
  );
  const check =
    heldOut.length > 0
      ? drawSamples(heldOut, [], 0, config.heldOutSamples, network, config, rng)
      : null;
  const B = Math.min(config.batchSize, train.rows);
  const order = new Int32Array(train.rows);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const mbObs = new Float32Array(B * O);
  const mbCmd = new Float32Array(B * C);
  const mbOneHot = new Float32Array(B * H * L);
  // Early stopping: the weights at the best held-out check so far (the starting ones first).
  let best = check ? heldOutLoss(network, check) : Number.POSITIVE_INFINITY;
  let bestWeights: NamedWeights[] | null = check ? network.getWeights() : null;
  let sinceBest = 0;
  let lastTrainLoss = Number.NaN;
  let step = 0;
  let cursor = train.rows;
  let stoppedEarly = false;
  while (step < config.maxGradientSteps) {
    if (cursor + B > train.rows) {
      shuffleInPlace(order, rng);
      cursor = 0;
    }
    for (let j = 0; j < B; j++) {
      const row = order[cursor + j];
      mbObs.set(train.observations.subarray(row * O, (row + 1) * O), j * O);
      for (let c = 0; c < C; c++) mbCmd[j * C + c] = train.commands[row * C + c];
      mbOneHot.set(train.oneHot.subarray(row * H * L, (row + 1) * H * L), j * H * L);
    }
    cursor += B;
    const { loss } = optimizer.minimize(() => {
      const value = crossEntropy(
        network,
        tf.tensor2d(mbObs, [B, O]),
        tf.tensor2d(mbCmd, [B, C]),
        tf.tensor3d(mbOneHot, [B, H, L]),
      );
      return { loss: value, metrics: null };
    }, config.learningRate);
    lastTrainLoss = loss;
    step += 1;
    if (check && step % config.checkEvery === 0) {
      const current = heldOutLoss(network, check);
      if (current < best) {
        best = current;
        bestWeights = network.getWeights();
        sinceBest = 0;
      } else if (++sinceBest >= config.patience) {
        stoppedEarly = true;
        break;
      }
    }
  }
  if (check && sinceBest > 0 && bestWeights) {
    network.setWeights(bestWeights);
    optimizer.syncFromVariables();
  }
  return {
    gradientSteps: step,
    trainLoss: lastTrainLoss,
    heldOutLoss: check ? best : Number.NaN,
    stoppedEarly,
  };
}

// ---------------------------------------------------------------------------------------------
// The training loop.

export interface UdrlProgress {
  iteration: number;
  steps: number;
  totalSteps: number;
  episodes: number;
  elapsedSeconds: number;
  samplesPerSecond: number;
  /** Mean return of the episodes collected in this iteration (null when none ended). */
  meanEpisodeReturn: number | null;
  /** Mean per-step reward of the steps collected in this iteration. */
  meanReward: number;
  /** The best episodes' mean return and standard deviation (what exploration asks for). */
  bestMeanReturn: number;
  bestStdReturn: number;
  fit: FitResult | null;
}

export interface UdrlSummary {
  steps: number;
  iterations: number;
  episodes: number;
  elapsedSeconds: number;
  samplesPerSecond: number;
  finalMeanReward: number;
  stoppedEarly: boolean;
  /** Episodes pinned in the store from elsewhere (a person's logged days), 0 without. */
  pinnedEpisodes: number;
}

export interface UdrlTrainOptions {
  env: VectorEnv;
  spec: BehaviourSpec;
  config: UdrlConfig;
  rng: Rng;
  network?: BehaviourNetwork;
  /**
   * The effort of one copy's step from its actions (one row of [H]); needed when the command
   * has an effort part (config.effortScale not null).
   */
  effortOf?: (actions: Int32Array) => number;
  /**
   * A planner the warm-up's first `warmupDemonstrationShare` of copies follow (fills actions
   * [N, H] for the current state of every copy).
   */
  demonstrate?: (actions: Int32Array) => void;
  /**
   * Episodes that happened elsewhere (a person's own logged days), pinned in the store for the
   * whole training: sampled for fitting like the rest, never evicted (EpisodeStore.pin).
   */
  pinnedEpisodes?: Episode[];
  /** Called after every iteration; return "stop" to end training. */
  onIteration?: (
    progress: UdrlProgress,
    network: BehaviourNetwork,
    store: EpisodeStore,
    /** the configuration in use (rewardCenter resolved after the warm-up) */
    config: UdrlConfig,
  ) => undefined | "stop";
}

/** A growing episode of one environment copy. */
interface EpisodeBuilder {
  observations: number[];
  actions: number[];
  rewards: number[];
  efforts: number[];
}

export async function trainUdrl(options: UdrlTrainOptions): Promise<{
  network: BehaviourNetwork;
  store: EpisodeStore;
  summary: UdrlSummary;
  /** The configuration as used (rewardCenter resolved); acting later must use the same. */
  config: UdrlConfig;
}> {
  const { env, spec, rng } = options;
  let config = options.config;
  const N = env.numEnvs;
  const O = env.observationSize;
  const H = env.actionCount;
  if (H !== spec.levelCount.length || O !== spec.observationSize) {
    throw new Error(
      `environment (${H} habits, ${O} observations) does not match the behaviour spec (${spec.levelCount.length}, ${spec.observationSize})`,
    );
  }
  const withEffort = hasEffort(config);
  const effortOf = options.effortOf;
  if (withEffort && !effortOf) throw new Error("a command with an effort part needs effortOf");
  const C = commandSize(config);
  const network =
    options.network ??
    new BehaviourNetwork(
      spec,
      { embeddingSize: config.embeddingSize, hiddenSize: config.hiddenSize, commandSize: C },
      rng,
    );
  if (network.commandSize !== C) {
    throw new Error(`the network takes ${network.commandSize} command inputs, the config ${C}`);
  }
  const optimizer = new ClippedAdam(network.variables, {
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
    maxGradNorm: config.maxGradNorm,
  });
  const store = new EpisodeStore(config.recentEpisodes, config.bestEpisodes);
  for (const episode of options.pinnedEpisodes ?? []) {
    if (withEffort && !episode.efforts) throw new Error("a pinned episode has no efforts");
    store.pin(episode);
  }
  const step = createStepBuffers(env);
  const observations = new Float32Array(N * O);
  const actions = new Int32Array(N * H);
  const commandInputs = new Float32Array(N * C);
  const commands: Command[] = Array.from({ length: N }, () => ({ daysLeft: 1, rewardToGo: 0 }));
  const building: EpisodeBuilder[] = Array.from({ length: N }, () => ({
    observations: [],
    actions: [],
    rewards: [],
    efforts: [],
  }));
  env.reset(observations);
  const start = performance.now();
  const demonstrating = options.demonstrate
    ? Math.round(Math.min(1, Math.max(0, config.warmupDemonstrationShare)) * N)
    : 0;
  let steps = 0;
  let episodes = 0;
  let stoppedEarly = false;
  let lastMeanReward = 0;

  /** Steps every copy once; returns the returns of the episodes that ended. */
  const stepAll = (random: boolean): number[] => {
    if (random) {
      if (demonstrating > 0) options.demonstrate?.(actions);
      for (let i = demonstrating * H; i < N * H; i++) {
        actions[i] = Math.floor(rng.next() * spec.levelCount[i % H]);
      }
    } else {
      for (let n = 0; n < N; n++) commandInput(commands[n], config, commandInputs, n * C);
      actWithCommands(network, observations, commandInputs, N, rng, actions);
    }
    env.step(actions, step);
    steps += N;
    const ended: number[] = [];
    for (let n = 0; n < N; n++) {
      const b = building[n];
      for (let o = 0; o < O; o++) b.observations.push(observations[n * O + o]);
      for (let h = 0; h < H; h++) b.actions.push(actions[n * H + h]);
      b.rewards.push(step.rewards[n]);
      const effort = effortOf ? effortOf(actions.subarray(n * H, (n + 1) * H)) : 0;
      if (withEffort) b.efforts.push(effort);
      commands[n] = updateCommand(commands[n], step.rewards[n], effort);
      if (step.terminated[n] || step.truncated[n]) {
        const episode: Episode = {
          observations: Float32Array.from(b.observations),
          actions: Int32Array.from(b.actions),
          rewards: Float32Array.from(b.rewards),
          length: b.rewards.length,
          totalReward: b.rewards.reduce((s, r) => s + r, 0),
          heldOut: rng.next() < config.heldOutFraction,
        };
        if (withEffort) episode.efforts = Float32Array.from(b.efforts);
        store.add(episode);
        episodes += 1;
        ended.push(episode.totalReward);
        b.observations = [];
        b.actions = [];
        b.rewards = [];
        b.efforts = [];
        if (!random) commands[n] = explorationCommand(store, config, rng);
      }
    }
    observations.set(step.observations);
    return ended;
  };

  // Warm-up with random plans; the per-day command encoding is centred on what they reached.
  while (episodes < config.warmupEpisodes && steps < config.totalSteps) stepAll(true);
  const warmup = store.recent;
  const warmupLength = warmup.reduce((s, e) => s + e.length, 0);
  if (config.commandEncoding === "per-day" && config.rewardCenter === null) {
    const reward = warmup.reduce((s, e) => s + e.totalReward, 0);
    config = { ...config, rewardCenter: warmupLength > 0 ? reward / warmupLength : 0 };
  }
  if (withEffort && config.effortCenter === null) {
    const effort = warmup.reduce((s, e) => s + effortPerDay(e) * e.length, 0);
    config = { ...config, effortCenter: warmupLength > 0 ? effort / warmupLength : 0 };
  }
  for (let n = 0; n < N; n++) commands[n] = explorationCommand(store, config, rng);

  let iteration = 0;
  while (steps < config.totalSteps) {
    iteration += 1;
    // 1–2. Fit the behaviour function on hindsight samples (early stopping on held-out episodes).
    const fit = fitBehaviour(network, optimizer, store, config, rng);
    // 3–4. Act under exploration commands until enough new episodes ended.
    const returns: number[] = [];
    let rewardSum = 0;
    const stepsBefore = steps;
    while (returns.length < config.episodesPerIteration && steps < config.totalSteps) {
      returns.push(...stepAll(false));
      for (let n = 0; n < N; n++) rewardSum += step.rewards[n];
    }
    lastMeanReward = rewardSum / Math.max(1, steps - stepsBefore);
    // 5. Report.
    const elapsedSeconds = (performance.now() - start) / 1000;
    const statistics = store.bestStatistics(config.commandEpisodes);
    const progress: UdrlProgress = {
      iteration,
      steps,
      totalSteps: config.totalSteps,
      episodes,
      elapsedSeconds,
      samplesPerSecond: steps / elapsedSeconds,
      meanEpisodeReturn:
        returns.length > 0 ? returns.reduce((s, r) => s + r, 0) / returns.length : null,
      meanReward: lastMeanReward,
      bestMeanReturn: statistics.meanReward,
      bestStdReturn: statistics.stdReward,
      fit,
    };
    if (options.onIteration?.(progress, network, store, config) === "stop") {
      stoppedEarly = steps < config.totalSteps;
      break;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  optimizer.dispose();
  const elapsedSeconds = (performance.now() - start) / 1000;
  return {
    network,
    store,
    config,
    summary: {
      steps,
      iterations: iteration,
      episodes,
      elapsedSeconds,
      samplesPerSecond: steps / elapsedSeconds,
      finalMeanReward: lastMeanReward,
      stoppedEarly,
      pinnedEpisodes: store.pinned.length,
    },
  };
}
