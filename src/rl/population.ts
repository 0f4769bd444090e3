/**
 * The population policy: one policy for a habit set, trained on many varied simulated people
 * (compliance, capacity and overload, unplanned habits, weekday rhythm, amounts) instead of one
 * behaviour. A person who has just set up their habits knows nothing about themselves yet; the
 * population policy plans for them from day 1 and every nightly retrain starts from it (warm
 * start), so a short training per night adapts it to what their history shows.
 */
import type { HabitSpec } from "../coach/habits.js";
import { type ObservationSpec, observationSpec, sameSpec } from "../coach/observation.js";
import { createRng, type Rng } from "../coach/rng.js";
import { decodeCheckpoint, encodeCheckpoint } from "./checkpoint.js";
import {
  evaluatePlanner,
  heuristicPlanner,
  type PairedComparison,
  type Planner,
  pairedComparison,
  policyPlanner,
} from "./evaluate.js";
import { HabitVectorEnv } from "./habit-env.js";
import { featureEnv, habitFeatureTable } from "./habit-features.js";
import {
  defaultBehaviour,
  HABIT_NUM_ENVS,
  type HabitTrainingEnv,
  trainInEnv,
} from "./habit-training.js";
import type { Persona, PersonaBehaviour } from "./persona.js";
import type { HabitPolicy } from "./policy.js";
import type { PpoConfig, TrainingProgress } from "./ppo.js";
import { deriveSeed } from "./random.js";
import type { StepBuffers, VectorEnv } from "./vector-env.js";

/** Behaviours in the population: each rollout row lives one of them. */
export const POPULATION_BEHAVIOURS = 16;

function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}

/**
 * `count` varied behaviours for a habit set, around the default one: a capacity of 30–100 % of
 * the habits (at least 2) with an overload penalty of 2–15 % per extra habit, per-habit
 * compliance 0.35–0.95 and unplanned rate 0–0.25, a weekday rhythm (each day ×0.6–1.1), done
 * amounts 0.8–1.2 of the plan. Deterministic in `seed`.
 *
 * Why relative: with capacities from 2 habits up and penalties up to 25 %, most of a 23-habit
 * population did nothing of a long plan (2 of 23 → 21 extra habits), and the policy trained on it
 * planned nothing at all for a new person on seed-23's habits (docs/rl-results.md).
 */
export function populationBehaviours(
  habits: HabitSpec[],
  count: number,
  seed: number,
): PersonaBehaviour[] {
  const rng = createRng(deriveSeed(seed, "population-behaviours"));
  const H = habits.length;
  return Array.from({ length: count }, () => {
    const base = defaultBehaviour(habits);
    return {
      ...base,
      capacity: Math.min(H, Math.max(2, Math.round(H * uniform(rng, 0.3, 1)))),
      overloadPenalty: uniform(rng, 0.02, 0.15),
      weekdayFactors: Array.from({ length: 7 }, () => uniform(rng, 0.6, 1.1)),
      habits: Object.fromEntries(
        habits.map((h) => [
          h.id,
          {
            compliance: uniform(rng, 0.35, 0.95),
            unplannedRate: uniform(rng, 0, 0.25),
            amountMean: uniform(rng, 0.8, 1.2),
            amountSd: h.kind === "check" ? 0 : 0.2,
          },
        ]),
      ),
    };
  });
}

/**
 * Several habit environments on one habit set, each with its own behaviour, stepped as one
 * batch: rows [offset_i, offset_i + n_i) are population member i's people.
 */
export class PopulationEnv implements VectorEnv {
  readonly numEnvs: number;
  readonly observationSize: number;
  readonly groupCount: number;
  readonly actionCount: number;
  readonly members: HabitVectorEnv[];
  private readonly buffers: StepBuffers[];

  constructor(
    personas: Persona[],
    options: {
      numEnvs: number;
      seed: number;
      /** How member i's people start (HabitVectorEnv's defaults when absent). */
      start?: (member: number) => { initialEmaMax: number; episodeDays: number } | null;
    },
  ) {
    const M = personas.length;
    if (M < 1 || options.numEnvs < M) {
      throw new RangeError(`${options.numEnvs} people cannot hold ${M} behaviours`);
    }
    this.members = personas.map(
      (persona, i) =>
        new HabitVectorEnv(persona, {
          numEnvs: Math.floor(options.numEnvs / M) + (i < options.numEnvs % M ? 1 : 0),
          seed: deriveSeed(options.seed, `population-${i}`),
          ...options.start?.(i),
        }),
    );
    const first = this.members[0];
    this.numEnvs = options.numEnvs;
    this.observationSize = first.observationSize;
    this.groupCount = first.groupCount;
    this.actionCount = first.actionCount;
    this.buffers = this.members.map((m) => ({
      observations: new Float32Array(m.numEnvs * m.observationSize),
      groupRewards: new Float32Array(m.numEnvs * m.groupCount),
      rewards: new Float32Array(m.numEnvs),
      terminated: new Uint8Array(m.numEnvs),
      truncated: new Uint8Array(m.numEnvs),
      finalObservations: new Float32Array(m.numEnvs * m.observationSize),
    }));
  }

  get policySpec() {
    return this.members[0].policySpec;
  }

  get spec() {
    return this.members[0].spec;
  }

  reset(observations: Float32Array): void {
    let row = 0;
    this.members.forEach((m, i) => {
      m.reset(this.buffers[i].observations);
      observations.set(this.buffers[i].observations, row * this.observationSize);
      row += m.numEnvs;
    });
  }

  step(actions: Int32Array, out: StepBuffers): void {
    const O = this.observationSize;
    const G = this.groupCount;
    const H = this.actionCount;
    let row = 0;
    this.members.forEach((m, i) => {
      const b = this.buffers[i];
      const n = m.numEnvs;
      m.step(actions.subarray(row * H, (row + n) * H), b);
      out.observations.set(b.observations, row * O);
      out.finalObservations.set(b.finalObservations, row * O);
      out.groupRewards.set(b.groupRewards, row * G);
      out.rewards.set(b.rewards, row);
      out.terminated.set(b.terminated, row);
      out.truncated.set(b.truncated, row);
      row += n;
    });
  }
}

/**
 * How half of the population's simulated people start (every even member): like a new person
 * (EMAs drawn from [0, initialEmaMax]), new again after `episodeDays`, so that a person's first
 * weeks (the population policy's job) are a large part of training; the other half start
 * anywhere in [0, 1.3] for a year, as before. Trained only on the latter, the policy for
 * seed-23's habits planned nothing for all-zero EMAs and never left that state; trained only
 * on new people, one for steady's habits planned every habit every day.
 */
export const POPULATION_START = { initialEmaMax: 0.3, episodeDays: 120 } as const;

/** The population's people for training: `numEnvs` rows over the personas, half new people. */
export function populationEnv(personas: Persona[], numEnvs: number, seed: number): PopulationEnv {
  return new PopulationEnv(personas, {
    numEnvs,
    seed,
    start: (member) => (member % 2 === 0 ? POPULATION_START : null),
  });
}

export interface PopulationTraining {
  habits: HabitSpec[];
  planCapacityMinutes?: number | null;
  steps: number;
  seed: number;
  behaviours?: number;
  /** Trainings tried until one passes the new-person check (default POPULATION_ATTEMPTS). */
  attempts?: number;
  config?: Partial<PpoConfig>;
  onProgress?: (progress: TrainingProgress) => void;
}

/**
 * The population policy's check for a new person: greedy, as the product plans, on the default
 * behaviour (what is known of someone who just set up their habits), `NEW_PERSON_CHECK.episodes`
 * people whose EMAs all start at 0 for `NEW_PERSON_CHECK.days` days, against the plain heuristic
 * on the same people. It passes unless it loses by more than the noise of the paired difference.
 * Why: a population policy for seed-23's habits planned nothing at all from all-zero EMAs, a
 * state it never left (training seed 2 of recipe 2: 0.220 vs the heuristic's 0.491 over days
 * 31–60), while from the usual evaluation start (EMAs anywhere in [0, 1.3]) it beat the
 * heuristic — so no check that starts people there could catch it (docs/rl-results.md).
 */
export const NEW_PERSON_CHECK = { episodes: 32, days: 60 } as const;

export interface NewPersonCheck extends PairedComparison {
  /** mean daily reward of the policy and of the heuristic on the same new people */
  policy: number;
  heuristic: number;
  passed: boolean;
}

/** `planner` for new people on `persona` against the heuristic (see NEW_PERSON_CHECK). */
export function checkForNewPerson(
  persona: Persona,
  planner: Planner,
  seed: number,
): NewPersonCheck {
  const options = {
    ...NEW_PERSON_CHECK,
    seed: deriveSeed(seed, "new-person-check"),
    initialEmaMax: 0,
  };
  const policy = evaluatePlanner(persona, planner, options);
  const heuristic = evaluatePlanner(persona, heuristicPlanner(), options);
  const comparison = pairedComparison(policy.perEpisode, heuristic.perEpisode);
  return {
    policy: policy.meanReward,
    heuristic: heuristic.meanReward,
    ...comparison,
    passed: !(comparison.difference < -comparison.noise),
  };
}

/**
 * Trainings tried for a habit set's population policy: the first whose policy passes the
 * new-person check is kept; when none does, the one that did best in it. Recipe 2 collapsed on
 * one training seed of three for seed-23's habits, so three attempts make a collapsed policy
 * rare (about 1 in 27 if seeds fail independently) at the cost of retraining only when one fails.
 */
export const POPULATION_ATTEMPTS = 3;

/** The training seed of attempt `i` (attempt 0 keeps the seed asked for). */
export function populationAttemptSeed(seed: number, attempt: number): number {
  return attempt === 0 ? seed : deriveSeed(seed, `population-attempt-${attempt}`);
}

/**
 * Trains the population policy for a habit set and returns its checkpoint bytes: up to
 * POPULATION_ATTEMPTS trainings (seeds from populationAttemptSeed) until one passes the
 * new-person check; the checkpoint's training summary records the attempt, its seed and check.
 */
export async function trainPopulationPolicy(input: PopulationTraining): Promise<Uint8Array> {
  const attempts = Math.max(1, input.attempts ?? POPULATION_ATTEMPTS);
  // trained as, and checked for, someone who just set up their habits: the default behaviour
  const newPerson: Persona = {
    format: 1,
    name: "population",
    description: "a varied simulated person for the population policy",
    habits: input.habits,
    metrics: [],
    planCapacityMinutes: input.planCapacityMinutes ?? null,
    behaviour: defaultBehaviour(input.habits),
  };
  const checks: NewPersonCheck[] = [];
  let best: { policy: HabitPolicy; attempt: number } | null = null;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const seed = populationAttemptSeed(input.seed, attempt);
    const policy = await trainPopulationOnce(input, newPerson, seed);
    const check = checkForNewPerson(newPerson, policyPlanner(policy), seed);
    checks.push(check);
    if (best === null || check.difference > checks[best.attempt].difference) {
      best?.policy.dispose();
      best = { policy, attempt };
    } else {
      policy.dispose();
    }
    if (check.passed) break;
  }
  const kept = best as { policy: HabitPolicy; attempt: number };
  try {
    const training = kept.policy.training;
    if (training) {
      training.attempt = kept.attempt + 1;
      training.newPersonCheck = checks[kept.attempt];
      training.newPersonChecks = checks;
    }
    return kept.policy.toBytes();
  } finally {
    kept.policy.dispose();
  }
}

/** One training of the population policy with `seed` (behaviours, people and PPO). */
async function trainPopulationOnce(
  input: PopulationTraining,
  persona: Persona,
  seed: number,
): Promise<HabitPolicy> {
  const members = memberPersonas(
    persona,
    populationBehaviours(input.habits, input.behaviours ?? POPULATION_BEHAVIOURS, seed),
  );
  const { policy } = await trainInEnv(
    persona,
    (withFeatures) =>
      populationTrainingEnv(
        persona,
        members,
        populationEnv(members, HABIT_NUM_ENVS, deriveSeed(seed, "env")),
        withFeatures,
      ),
    { steps: input.steps, seed, config: input.config, onProgress: input.onProgress },
  );
  return policy;
}

/** `persona` lived with each of `behaviours`: the members of a batch of several behaviours. */
export function memberPersonas(persona: Persona, behaviours: PersonaBehaviour[]): Persona[] {
  return behaviours.map((behaviour, i) => ({
    ...persona,
    name: `${persona.name}-${i}`,
    behaviour,
  }));
}

/**
 * Where a policy for `persona`'s habit set trains on several behaviours as one batch:
 * `population` (built over `members`; member i holds rows [offset_i, offset_i + n_i)), every
 * row seeing its own member's habit features when `withFeatures`, while the trained policy acts
 * with `persona.behaviour`'s — the default behaviour for the population policy (a person with
 * no fitted behaviour yet), the point estimate for plausible people (src/rl/plausible-people.ts).
 */
export function populationTrainingEnv(
  persona: Persona,
  members: Persona[],
  population: PopulationEnv,
  withFeatures: boolean,
): HabitTrainingEnv {
  const memberOfRow = population.members.flatMap((m, i) => Array<number>(m.numEnvs).fill(i));
  const table = (p: Persona) => habitFeatureTable(p.habits, p.behaviour, p.planCapacityMinutes);
  return {
    ...featureEnv(
      population,
      population.policySpec,
      withFeatures ? members.map(table) : null,
      (row) => memberOfRow[row],
    ),
    observation: population.spec,
    actingFeatures: withFeatures ? table(persona) : null,
  };
}

/**
 * The population checkpoint `bytes` for another person's habits of the same shape: only the
 * habit ids and names in its observation spec change (weights, levels, groups stay). Refuses
 * habits whose levels, actor groups or count differ, naming the difference.
 */
export function populationCheckpointFor(bytes: Uint8Array, habits: HabitSpec[]): Uint8Array {
  const { header, weights } = decodeCheckpoint(bytes);
  const stored = header.observationSpec;
  const wanted = observationSpec(habits, []);
  const renamed: ObservationSpec = {
    ...stored,
    habitIds: wanted.habitIds,
    habitNames: wanted.habitNames,
  };
  const check = sameSpec(renamed, wanted);
  if (!check.same) {
    throw new Error(
      `the population policy was trained for another habit set: ${check.differences.join("; ")}`,
    );
  }
  const { weights: _manifest, formatVersion: _version, ...rest } = header;
  return encodeCheckpoint({ ...rest, observationSpec: renamed }, weights);
}
