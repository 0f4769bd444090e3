/**
 * Training a habit policy: on a persona file (CLI, benchmarks) or on a bare habit set with a
 * behaviour model (the bot's nightly retrain, typically run inside a worker thread).
 */
import type { HabitSpec, MetricGoal } from "../coach/habits.js";
import { DEFAULT_MAX_GROUP_SIZE } from "../coach/habits.js";
import type { ObservationSpec } from "../coach/observation.js";
import { createRng } from "../coach/rng.js";
import { initBackend } from "./backend.js";
import { HabitVectorEnv } from "./habit-env.js";
import { featureEnv, type HabitFeatureTable, habitFeatureTable } from "./habit-features.js";
import type { Persona, PersonaBehaviour } from "./persona.js";
import { type HabitPolicy, loadPolicy, policyFromNetwork } from "./policy.js";
import type { PolicySpec } from "./policy-network.js";
import { DEFAULT_PPO, type PpoConfig, type TrainingProgress, trainPpo } from "./ppo.js";
import { deriveSeed } from "./random.js";
import type { VectorEnv } from "./vector-env.js";

/**
 * PPO settings for habits. γ = 0.95 (a ~20-day horizon: an EMA with a 14-day span reacts to a
 * plan for about that long); 64 people × 64 days per rollout; 2 epochs × 4 minibatches with
 * learning rate 3e-3 (half the gradient passes of 4 epochs at 1e-3, so training is ~1.8× faster,
 * and it measured as good or better: seed-23 0.601 vs 0.591 independent, 0.646 vs 0.629 shared,
 * overloaded 0.842 vs 0.845 shared; docs/rl-results.md); the group ratio and the shared actor,
 * which measured best; one value head on the whole day's reward, so every actor group's
 * advantage carries what its plan cost the others (overload, cross-effects) — level with one
 * head per group within the training-seed spread at 200,000 steps, ahead at 400,000 on
 * overloaded (docs/rl-results.md, "Learner changes for the closed loop"); per-habit behaviour features on (measured there too: equal
 * from scratch on one persona, and the population policy trained with them plans better for a
 * new person — overloaded 0.671 / 0.627 vs 0.586 / 0.315 adopted, seeds 1–2); the rest as in
 * DEFAULT_PPO.
 */
export const HABIT_PPO: PpoConfig = {
  ...DEFAULT_PPO,
  totalSteps: 300_000,
  rolloutSteps: 64,
  gamma: 0.95,
  gaeLambda: 0.95,
  epochs: 2,
  minibatches: 4,
  learningRate: 3e-3,
  entropyCoef: 0.01,
  ratio: "group",
  network: { actor: "shared", critic: "single", hiddenSize: 64, habitFeatures: true },
};

/**
 * Simulated people per rollout with `HABIT_PPO`: 64 people × 64 days = 4,096 samples per update,
 * enough different people per update for a stable gradient, few enough for ~50–75 updates in the
 * nightly budget of 200,000–300,000 steps.
 */
export const HABIT_NUM_ENVS = 64;

export interface TrainOnPersonaOptions {
  steps: number;
  seed: number;
  numEnvs?: number;
  config?: Partial<PpoConfig>;
  /** Warm start from these checkpoint bytes (must fit the persona's habit set). */
  initialPolicy?: Uint8Array;
  onProgress?: (progress: TrainingProgress) => void;
  /** Stops training after the current update when aborted. */
  signal?: AbortSignal;
}

export async function trainOnPersona(
  persona: Persona,
  options: TrainOnPersonaOptions,
): Promise<{ policy: HabitPolicy; progress: TrainingProgress[] }> {
  return trainInEnv(
    persona,
    (withFeatures) => {
      const habitEnv = new HabitVectorEnv(persona, {
        numEnvs: options.numEnvs ?? HABIT_NUM_ENVS,
        seed: deriveSeed(options.seed, "env"),
      });
      // With habit features the policy sees (and its checkpoint stores) this persona's behaviour.
      const features = withFeatures
        ? habitFeatureTable(persona.habits, persona.behaviour, persona.planCapacityMinutes)
        : null;
      return {
        ...featureEnv(habitEnv, habitEnv.policySpec, features ? [features] : null, () => 0),
        observation: habitEnv.spec,
        actingFeatures: features,
      };
    },
    options,
  );
}

/**
 * Where a habit policy trains: rows of simulated people (`env`, with its policy spec), the
 * observation spec they share, and the habit features the trained policy acts with (null
 * without habit features).
 */
export interface HabitTrainingEnv {
  env: VectorEnv;
  spec: PolicySpec;
  observation: ObservationSpec;
  actingFeatures: HabitFeatureTable | null;
}

/**
 * PPO for `persona`'s habit set in the environment `build` makes (given whether the network
 * takes habit features): one behaviour (trainOnPersona) or several as one batch
 * (src/rl/plausible-people.ts). Warm start, progress and abort as in TrainOnPersonaOptions.
 */
export async function trainInEnv(
  persona: Persona,
  build: (withFeatures: boolean) => HabitTrainingEnv,
  options: TrainOnPersonaOptions,
): Promise<{ policy: HabitPolicy; progress: TrainingProgress[] }> {
  const backend = await initBackend();
  const config: PpoConfig = { ...HABIT_PPO, ...options.config, totalSteps: options.steps };
  const { env, spec, observation, actingFeatures } = build(config.network.habitFeatures === true);
  const warm = options.initialPolicy
    ? await loadPolicy(options.initialPolicy, { habits: persona.habits, metrics: persona.metrics })
    : null;
  if (warm && JSON.stringify(warm.networkConfig) !== JSON.stringify(config.network)) {
    warm.dispose();
    throw new Error("the initial policy uses a different network design than the training config");
  }
  const history: TrainingProgress[] = [];
  const { network, summary } = await trainPpo({
    env,
    spec,
    config,
    rng: createRng(deriveSeed(options.seed, "ppo")),
    network: warm?.network,
    onUpdate: (progress) => {
      history.push(progress);
      options.onProgress?.(progress);
      return options.signal?.aborted ? "stop" : undefined;
    },
  });
  const policy = policyFromNetwork(
    network,
    observation,
    config,
    { ...summary, persona: persona.name, seed: options.seed, backend: backend.backend },
    actingFeatures,
  );
  return { policy, progress: history };
}

/**
 * A generic behaviour model for a habit set without a fitted one: 75 % compliance, 5 % unplanned,
 * amounts ±20 %, capacity of 60 % of the habits (at least 3) with a 10 % penalty per extra habit.
 */
export function defaultBehaviour(habits: HabitSpec[]): PersonaBehaviour {
  return {
    capacity: Math.max(3, Math.ceil(habits.length * 0.6)),
    overloadPenalty: 0.1,
    weekdayFactors: [1, 1, 1, 1, 1, 1, 1],
    drift: null,
    habits: Object.fromEntries(
      habits.map((h) => [
        h.id,
        {
          compliance: 0.75,
          unplannedRate: 0.05,
          amountMean: 1,
          amountSd: h.kind === "check" ? 0 : 0.2,
        },
      ]),
    ),
    crossEffects: [],
  };
}

/** Why a habit list's actor groups cannot be used (null when they can). */
export function actorGroupProblem(habits: HabitSpec[]): string | null {
  if (habits.length === 0) return "there are no habits to train for";
  const sizes = new Map<number, number>();
  for (const h of habits) sizes.set(h.actorGroup, (sizes.get(h.actorGroup) ?? 0) + 1);
  const groups = Math.max(...sizes.keys()) + 1;
  for (let g = 0; g < groups; g++) {
    if (!sizes.has(g))
      return `actor group ${g} has no habits (groups must be numbered 0..${groups - 1} without gaps)`;
  }
  for (const [g, size] of sizes) {
    if (size > DEFAULT_MAX_GROUP_SIZE)
      return `actor group ${g} holds ${size} habits (at most ${DEFAULT_MAX_GROUP_SIZE})`;
  }
  return null;
}

export interface TrainForHabitsInput extends TrainOnPersonaOptions {
  /**
   * The person's habits in their order, with the actor groups the coach core assigned (they are
   * part of the checkpoint's spec, so plan with the same habit objects).
   */
  habits: HabitSpec[];
  metrics?: MetricGoal[];
  /** A behaviour model fitted to the person; `defaultBehaviour(habits)` when omitted. */
  behaviour?: PersonaBehaviour;
  planCapacityMinutes?: number | null;
}

/**
 * The simulated person a habit set trains on: the fitted behaviour when given, else the default
 * one. Refuses actor groups the policy cannot use.
 */
export function habitSetPersona(
  input: Pick<TrainForHabitsInput, "habits" | "metrics" | "behaviour" | "planCapacityMinutes">,
): Persona {
  const habits = input.habits;
  const problem = actorGroupProblem(habits);
  if (problem) throw new Error(`${problem}; assign groups with the coach core's assignActorGroups`);
  return {
    format: 1,
    name: "user",
    description: "trained for one person's habit set",
    habits,
    metrics: input.metrics ?? [],
    planCapacityMinutes: input.planCapacityMinutes ?? null,
    behaviour: input.behaviour ?? defaultBehaviour(habits),
  };
}

/** A trained habit policy as plain data (transferable from a worker thread). */
export interface TrainedHabitPolicy {
  checkpoint: Uint8Array;
  training: NonNullable<HabitPolicy["training"]>;
  progress: TrainingProgress[];
}

/** The checkpoint bytes and summary of a trained policy, which it disposes. */
export function trainedHabitPolicy(trained: {
  policy: HabitPolicy;
  progress: TrainingProgress[];
}): TrainedHabitPolicy {
  const { policy, progress } = trained;
  try {
    return {
      checkpoint: policy.toBytes(),
      training: policy.training as NonNullable<HabitPolicy["training"]>,
      progress,
    };
  } finally {
    policy.dispose();
  }
}

/**
 * Trains a policy for one person's habit set and returns the checkpoint bytes (transferable
 * from a worker thread) and the training summary. Plain data in, plain data out.
 */
export async function trainForHabits(input: TrainForHabitsInput): Promise<TrainedHabitPolicy> {
  return trainedHabitPolicy(await trainOnPersona(habitSetPersona(input), input));
}
