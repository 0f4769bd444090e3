/**
 * UDRL for habits: training the command-conditioned behaviour function (./udrl.ts) on simulated
 * people, the trained policy as the rest of the product uses it (commands from the chat's
 * intensity, plans, checkpoint bytes), and its planner for evaluation (command updated daily).
 */
import { type CompiledHabits, type Intensity, plannedLoad } from "../coach/adjust.js";
import { dailyReward } from "../coach/ema.js";
import type { HabitSpec, MetricGoal } from "../coach/habits.js";
import { buildObservation, type ObservationSpec } from "../coach/observation.js";
import { createRng, type Rng } from "../coach/rng.js";
import { initBackend } from "./backend.js";
import {
  decodeAnyCheckpoint,
  encodeCheckpoint,
  type IntensityRewards,
  type UdrlCheckpointHeader,
} from "./checkpoint.js";
import type { Planner } from "./evaluate.js";
import type { HistoryDay } from "./fit-behaviour.js";
import { HabitVectorEnv } from "./habit-env.js";
import { habitSetPersona, type TrainForHabitsInput } from "./habit-training.js";
import type { Persona } from "./persona.js";
import { checkHabitSet } from "./policy.js";
import type { PolicySpec } from "./policy-network.js";
import { deriveSeed } from "./random.js";
import {
  actWithCommands,
  BehaviourNetwork,
  type Command,
  commandInput,
  commandSize,
  type EpisodeStore,
  effortPerDay,
  hasEffort,
  trainUdrl,
  UDRL_DEFAULTS,
  type UdrlConfig,
  type UdrlProgress,
  updateCommand,
} from "./udrl.js";
import { historyEpisodes } from "./udrl-history.js";

/**
 * Days per simulated stretch UDRL trains on: four weeks cover the chat's "next N days" (at most
 * 28) and give 13 finished episodes per simulated person-year instead of one.
 */
export const UDRL_HABIT_EPISODE_DAYS = 28;

/**
 * UDRL settings for habits (the rest as UDRL_DEFAULTS): the command is scaled to about [0, 1]
 * (days ÷ 28; a day's reward is at most 1, so reward ÷ 28); one finished stretch per simulated
 * person per iteration (64 people → 64 episodes); two batches of random plans as warm-up.
 */
export const UDRL_HABIT: UdrlConfig = {
  ...UDRL_DEFAULTS,
  totalSteps: 200_000,
  horizonScale: 1 / UDRL_HABIT_EPISODE_DAYS,
  commandEncoding: "per-day",
  rewardScale: 10,
  warmupEpisodes: 128,
  // Half of the warm-up's people follow the coach core's heuristic (what real people's logged
  // days mostly are), half random plans (every level seen): the stores start at the heuristic's
  // level, not at random plans' (steady, 100,000 steps, seed 1: 0.871 against 0.799 all random).
  warmupDemonstrationShare: 0.5,
  episodesPerIteration: 64,
  // The dial: the command's third part is the plan's load per day (plannedLoad: Σ amount ÷
  // target), hindsight-observable like the reward; ×2 around the warm-up's mean puts one
  // habit's worth of load (1) at 2 input units, the reward's scale.
  effortScale: 2,
  // Exploration asks for loads over ± 2 std of the best stretches': over-planning is found
  // (steady, 60,000 steps, seed 2: 0.8724 against 0.8632 at ± 1 std; ± 3 std: 0.8723).
  effortExploration: 2,
};

/**
 * The chat's intensities for a UDRL coach (checkpoint header `intensity`): the per-day reward
 * each asks for and, for a coach whose command has a load part, the per-day planned load.
 */
export interface UdrlIntensity extends IntensityRewards {
  effort?: { easy: number; normal: number; push: number };
}

export const UDRL_NUM_ENVS = 64;

/**
 * The least a UDRL coach's "easy" and "push" move the load per day from "normal" (× 0.8 and
 * × 1.2: about one habit of five, a change a person notices), whatever the stored episodes' spread.
 */
export const INTENSITY_LOAD = { easy: 0.8, push: 1.2 } as const;

/**
 * The per-day reward each intensity asks for, from the episodes in the store: "normal" the mean
 * per-day reward of the best `commandEpisodes` plus half their standard deviation (the middle
 * of the exploration range), "push" one standard deviation above the mean (its top), "easy"
 * the lower quartile of every stored episode's per-day reward, at most the mean − one std.
 */
export function intensityRewards(store: EpisodeStore, config: UdrlConfig): UdrlIntensity {
  const perDay = (e: { totalReward: number; length: number }) => e.totalReward / e.length;
  const top = store.best.slice(0, Math.max(1, config.commandEpisodes)).map(perDay);
  const mean = top.reduce((s, x) => s + x, 0) / top.length;
  const std = Math.sqrt(top.reduce((s, x) => s + (x - mean) ** 2, 0) / top.length);
  // the middle of the exploration range [mean, mean + std]: the command training asked for on
  // average (steady, 60,000 steps, seed 2, measured with bestSampleShare 0.5: 0.8655 against
  // 0.8631 at the mean)
  const normal = mean + 0.5 * std;
  const all = store
    .all()
    .map(perDay)
    .sort((a, b) => a - b);
  const quartile = all[Math.floor(0.25 * (all.length - 1))];
  const statistics = store.bestStatistics(config.commandEpisodes);
  const horizonDays = Math.round(statistics.meanLength);
  const rewards = {
    horizonDays,
    easy: Math.min(quartile, mean - std),
    normal,
    push: mean + std,
  };
  if (!hasEffort(config)) return rewards;
  // The load dial: "normal" the best episodes' load per day, "easy" and "push" the lower and
  // upper quartile of every stored episode's (kept on their side of "normal"); the rewards stay
  // as without it.
  const loads = store
    .all()
    .map(effortPerDay)
    .sort((a, b) => a - b);
  const at = (q: number) => loads[Math.floor(q * (loads.length - 1))];
  const normalLoad = statistics.meanEffort;
  return {
    ...rewards,
    effort: {
      easy: Math.min(at(0.25), normalLoad - statistics.stdEffort, INTENSITY_LOAD.easy * normalLoad),
      normal: normalLoad,
      push: Math.max(at(0.75), normalLoad + statistics.stdEffort, INTENSITY_LOAD.push * normalLoad),
    },
  };
}

/** Candidate per-day rewards tried by calibrateIntensities. */
const CALIBRATION_CANDIDATES = 9;
/** Stored states the candidates' plans are compared on. */
const CALIBRATION_STATES = 512;

/**
 * Calibrates the intensities on the trained behaviour function so that the dial does what the
 * person asks: a lower reward target is not always a lighter plan (the reward is the distance of
 * the EMAs from the goals, so overshooting also lowers it). Candidates from the lower quartile of
 * the stored episodes' per-day reward up to "push" (as `intensityRewards`) are tried on up to 512
 * stored states (the training horizon as days left); "easy" becomes the candidate at or below
 * "normal" whose greedy plans have the least planned load (Σ amount ÷ target, before the coach
 * core's adjustment), "push" the one at or above "normal" with the most. Without such a
 * candidate (no lighter or heavier plans) the uncalibrated value stays. A coach whose command
 * has a load part needs none of this: the load is the dial (`intensityRewards`).
 */
export function calibrateIntensities(
  network: BehaviourNetwork,
  store: EpisodeStore,
  config: UdrlConfig,
  compiled: CompiledHabits,
  rng: Rng,
): UdrlIntensity {
  const base = intensityRewards(store, config);
  if (hasEffort(config)) return base;
  const episodes = store.all();
  const O = network.spec.observationSize;
  const H = network.habitCount;
  const rows = Math.min(
    CALIBRATION_STATES,
    episodes.reduce((n, e) => n + e.length, 0),
  );
  const observations = new Float32Array(rows * O);
  for (let r = 0; r < rows; r++) {
    const e = episodes[Math.floor(rng.next() * episodes.length)];
    const t = Math.floor(rng.next() * e.length);
    observations.set(e.observations.subarray(t * O, (t + 1) * O), r * O);
  }
  const C = commandSize(config);
  const inputs = new Float32Array(rows * C);
  const actions = new Int32Array(rows * H);
  const loadAt = (perDay: number) => {
    const command = { daysLeft: base.horizonDays, rewardToGo: perDay * base.horizonDays };
    for (let r = 0; r < rows; r++) commandInput(command, config, inputs, r * C);
    actWithCommands(network, observations, inputs, rows, null, actions);
    let load = 0;
    for (let r = 0; r < rows; r++)
      load += plannedLoad(compiled, actions.subarray(r * H, (r + 1) * H));
    return load / Math.max(1, rows);
  };
  const low = Math.min(base.easy, base.normal);
  const high = Math.max(base.push, base.normal);
  const normalLoad = loadAt(base.normal);
  let easy = { reward: base.easy, load: normalLoad };
  let push = { reward: base.push, load: normalLoad };
  for (let i = 0; i < CALIBRATION_CANDIDATES; i++) {
    const reward = low + ((high - low) * i) / (CALIBRATION_CANDIDATES - 1);
    const load = loadAt(reward);
    if (reward <= base.normal && load < easy.load) easy = { reward, load };
    if (reward >= base.normal && load > push.load) push = { reward, load };
  }
  return { ...base, easy: easy.reward, push: push.reward };
}

export interface UdrlPlanOptions {
  greedy?: boolean;
  rng?: Rng;
}

export class UdrlHabitPolicy {
  readonly algorithm = "udrl" as const;
  readonly network: BehaviourNetwork;
  readonly observationSpec: ObservationSpec;
  readonly policySpec: PolicySpec;
  readonly intensity: UdrlIntensity;
  readonly hyperparameters: UdrlConfig;
  readonly training: UdrlCheckpointHeader["training"];
  private readonly commandInputs: Float32Array;

  constructor(network: BehaviourNetwork, header: Omit<UdrlCheckpointHeader, "weights">) {
    this.network = network;
    this.observationSpec = header.observationSpec;
    this.policySpec = header.policySpec;
    this.intensity = header.intensity;
    this.hyperparameters = header.hyperparameters;
    this.training = header.training;
    this.commandInputs = new Float32Array(commandSize(this.hyperparameters));
  }

  /** The command for an intensity over `daysLeft` days (the training horizon by default). */
  command(intensity: Intensity, daysLeft = this.intensity.horizonDays): Command {
    const days = Math.max(1, Math.min(daysLeft, this.intensity.horizonDays));
    const command: Command = {
      daysLeft: days,
      rewardToGo: Math.max(0, this.intensity[intensity] * days),
    };
    const effort = this.intensity.effort;
    if (effort && hasEffort(this.hyperparameters)) {
      command.effortToGo = Math.max(0, effort[intensity] * days);
    }
    return command;
  }

  observe(
    previousEmas: ArrayLike<number>,
    day: string | number,
    metricDeviations?: ArrayLike<number>,
  ) {
    return buildObservation(this.observationSpec, previousEmas, day, metricDeviations);
  }

  /** Level index per habit (spec order) for one observation under `command`. */
  plan(observation: Float32Array, command: Command, options: UdrlPlanOptions = {}): Int32Array {
    return this.planBatch(observation, 1, [command], undefined, options);
  }

  /** Plans `rows` people at once, each under its own command. */
  planBatch(
    observations: Float32Array,
    rows: number,
    commands: readonly Command[],
    out?: Int32Array,
    options: UdrlPlanOptions = {},
  ): Int32Array {
    const size = this.observationSpec.size;
    if (observations.length !== rows * size) {
      throw new RangeError(
        `expected ${rows} observations of size ${size}, got ${observations.length} numbers`,
      );
    }
    const greedy = options.greedy ?? true;
    if (!greedy && !options.rng) throw new Error("sampling a plan (greedy: false) needs an rng");
    const C = this.commandInputs.length;
    const inputs = rows === 1 ? this.commandInputs : new Float32Array(rows * C);
    for (let r = 0; r < rows; r++) commandInput(commands[r], this.hyperparameters, inputs, r * C);
    const result = out ?? new Int32Array(rows * this.network.habitCount);
    actWithCommands(
      this.network,
      observations,
      inputs,
      rows,
      greedy ? null : (options.rng as Rng),
      result,
    );
    return result;
  }

  toBytes(): Uint8Array {
    return encodeCheckpoint(
      {
        algorithm: "udrl",
        observationSpec: this.observationSpec,
        policySpec: this.policySpec,
        network: this.network.config,
        hyperparameters: this.hyperparameters,
        intensity: this.intensity,
        training: this.training,
      },
      this.network.getWeights(),
    );
  }

  dispose(): void {
    this.network.dispose();
  }
}

/** Weights are replaced right after construction, so initialisation randomness is irrelevant. */
const UNUSED_RNG: Rng = { next: () => 0.5 };

/** Loads a UDRL checkpoint; with `habits`, refuses one trained for a different habit set. */
export async function loadUdrlPolicy(
  bytes: Uint8Array,
  options: { habits?: HabitSpec[]; metrics?: MetricGoal[] } = {},
): Promise<UdrlHabitPolicy> {
  await initBackend();
  const { header, weights } = decodeAnyCheckpoint(bytes);
  if (!("algorithm" in header) || header.algorithm !== "udrl") {
    throw new Error("this is a PPO checkpoint, not a UDRL one (load it with loadPolicy)");
  }
  checkHabitSet(header.observationSpec, options);
  const network = new BehaviourNetwork(
    {
      observationSize: header.policySpec.observationSize,
      levelCount: header.policySpec.levelCount,
    },
    header.network,
    UNUSED_RNG,
  );
  try {
    network.setWeights(weights);
  } catch (error) {
    network.dispose();
    throw error;
  }
  const { weights: _manifest, ...rest } = header;
  return new UdrlHabitPolicy(network, rest);
}

/**
 * Plans simulated people under an intensity's command, updated every day (reward still to
 * reach minus the day's reward — the coach core's dailyReward of the EMAs after it — and days
 * left minus one); a person's command starts afresh on their first day and whenever its days
 * run out (a new stretch of the same intensity).
 */
export function udrlPlanner(
  policy: UdrlHabitPolicy,
  options: { intensity?: Intensity; greedy?: boolean; seed?: number } = {},
): Planner {
  const intensity = options.intensity ?? "normal";
  const greedy = options.greedy ?? true;
  const rng = greedy ? undefined : createRng(deriveSeed(options.seed ?? 0, "udrl-planner"));
  let commands: Command[] = [];
  // the plans of the day before (their planned load is the effort the command moves on by)
  let last = new Int32Array(0);
  return (env, observations, actions) => {
    const N = env.numEnvs;
    const H = env.actionCount;
    if (commands.length !== N) {
      commands = Array.from({ length: N }, () => policy.command(intensity));
      last = new Int32Array(N * H);
    }
    for (let n = 0; n < N; n++) {
      if (env.day[n] === 0) commands[n] = policy.command(intensity);
      else {
        const reward = dailyReward(env.emas.subarray(n * H, (n + 1) * H));
        const load = plannedLoad(env.compiled, last.subarray(n * H, (n + 1) * H));
        commands[n] = updateCommand(commands[n], reward, load);
        if (commands[n].daysLeft === 0) commands[n] = policy.command(intensity);
      }
    }
    policy.planBatch(observations, N, commands, actions, { greedy, rng });
    last.set(actions);
  };
}

export interface TrainUdrlOnPersonaOptions {
  steps: number;
  seed: number;
  numEnvs?: number;
  config?: Partial<UdrlConfig>;
  onProgress?: (progress: UdrlProgress) => void;
  /**
   * Called after every iteration with the policy as it stands (its network is the one still
   * training: use it before returning, do not dispose it). For learning curves.
   */
  onPolicy?: (progress: UdrlProgress, policy: UdrlHabitPolicy) => void;
  signal?: AbortSignal;
  /**
   * The person's own logged days (oldest first, as fitBehaviour takes them): turned into
   * hindsight episodes (./udrl-history.ts) pinned in the store beside the simulated ones.
   */
  history?: readonly HistoryDay[];
}

/** Trains UDRL on a persona's simulated people (28-day stretches). */
export async function trainUdrlOnPersona(
  persona: Persona,
  options: TrainUdrlOnPersonaOptions,
): Promise<{ policy: UdrlHabitPolicy; progress: UdrlProgress[] }> {
  const backend = await initBackend();
  const config: UdrlConfig = { ...UDRL_HABIT, ...options.config, totalSteps: options.steps };
  const env = new HabitVectorEnv(persona, {
    numEnvs: options.numEnvs ?? UDRL_NUM_ENVS,
    seed: deriveSeed(options.seed, "env"),
    episodeDays: UDRL_HABIT_EPISODE_DAYS,
  });
  const history: UdrlProgress[] = [];
  const pinnedEpisodes = options.history
    ? historyEpisodes(env.compiled, env.spec, options.history, {
        episodeDays: UDRL_HABIT_EPISODE_DAYS,
      })
    : [];
  const trained = await trainUdrl({
    pinnedEpisodes,
    env,
    spec: { observationSize: env.observationSize, levelCount: env.policySpec.levelCount },
    config,
    rng: createRng(deriveSeed(options.seed, "udrl")),
    effortOf: (actions) => plannedLoad(env.compiled, actions),
    demonstrate: (actions) => env.heuristicActions(actions),
    onIteration: (progress, network, store, used) => {
      history.push(progress);
      options.onProgress?.(progress);
      options.onPolicy?.(progress, wrap(network, store, used, null));
      return options.signal?.aborted ? "stop" : undefined;
    },
  });
  const { network, store, summary } = trained;
  const training = {
    ...summary,
    persona: persona.name,
    seed: options.seed,
    backend: backend.backend,
  };
  const calibrated = calibrateIntensities(
    network,
    store,
    trained.config,
    env.compiled,
    createRng(deriveSeed(options.seed, "udrl-intensity")),
  );
  return {
    policy: wrap(network, store, trained.config, training, calibrated),
    progress: history,
  };

  function wrap(
    network: BehaviourNetwork,
    store: EpisodeStore,
    used: UdrlConfig,
    training: UdrlCheckpointHeader["training"],
    intensity: UdrlIntensity = intensityRewards(store, used),
  ): UdrlHabitPolicy {
    return new UdrlHabitPolicy(network, {
      formatVersion: 1,
      algorithm: "udrl",
      observationSpec: env.spec,
      policySpec: env.policySpec,
      network: network.config,
      hyperparameters: used,
      intensity,
      training,
    });
  }
}

/**
 * Trains UDRL for one person's habit set (as trainForHabits does PPO) and returns the checkpoint
 * bytes and the training summary. UDRL always starts from scratch (no warm start).
 */
export async function trainUdrlForHabits(
  input: TrainUdrlOnPersonaOptions &
    Pick<TrainForHabitsInput, "habits" | "metrics" | "behaviour" | "planCapacityMinutes">,
): Promise<{
  checkpoint: Uint8Array;
  training: NonNullable<UdrlHabitPolicy["training"]>;
  progress: UdrlProgress[];
}> {
  const { policy, progress } = await trainUdrlOnPersona(habitSetPersona(input), input);
  try {
    return {
      checkpoint: policy.toBytes(),
      training: policy.training as NonNullable<UdrlHabitPolicy["training"]>,
      progress,
    };
  } finally {
    policy.dispose();
  }
}
