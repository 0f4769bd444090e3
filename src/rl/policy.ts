/**
 * A trained habit policy as the rest of the product uses it: load from checkpoint bytes, plan a
 * day (level index per habit) from an observation, plan many people at once, save back to bytes.
 */
import type { HabitSpec, MetricGoal } from "../coach/habits.js";
import {
  buildObservation,
  type ObservationSpec,
  observationSpec,
  sameSpec,
} from "../coach/observation.js";
import type { Rng } from "../coach/rng.js";
import { initBackend } from "./backend.js";
import { type CheckpointHeader, decodeCheckpoint, encodeCheckpoint } from "./checkpoint.js";
import { sampleMultiCategorical } from "./distribution.js";
import {
  appendHabitFeatures,
  type HabitFeatureTable,
  habitFeatureTableProblem,
} from "./habit-features.js";
import {
  ActorCriticNetwork,
  evaluateNetwork,
  type NetworkConfig,
  type PolicySpec,
} from "./policy-network.js";
import type { PpoConfig } from "./ppo.js";

export interface PlanOptions {
  /** Take the most likely level of each habit (default). With `greedy: false`, pass `rng`. */
  greedy?: boolean;
  rng?: Rng;
}

/** Weights are replaced right after construction, so initialisation randomness is irrelevant. */
const UNUSED_RNG: Rng = { next: () => 0.5 };

export class HabitPolicy {
  readonly network: ActorCriticNetwork;
  readonly observationSpec: ObservationSpec;
  private readonly header: Omit<CheckpointHeader, "weights">;

  constructor(network: ActorCriticNetwork, header: Omit<CheckpointHeader, "weights">) {
    this.network = network;
    this.observationSpec = header.observationSpec;
    this.header = header;
  }

  get policySpec(): PolicySpec {
    return this.network.spec;
  }
  get networkConfig(): NetworkConfig {
    return this.network.config;
  }
  get hyperparameters(): PpoConfig | null {
    return this.header.hyperparameters;
  }
  get training(): CheckpointHeader["training"] {
    return this.header.training;
  }
  /** The behaviour features the policy acts with (those of the behaviour it was trained on). */
  get habitFeatures(): HabitFeatureTable | null {
    return this.header.habitFeatures ?? null;
  }

  /**
   * The network's input for yesterday's EMAs (spec habit order) and a day or weekday: the coach
   * core's observation, followed by the stored habit features when the network reads them.
   */
  observe(
    previousEmas: ArrayLike<number>,
    day: string | number,
    metricDeviations?: ArrayLike<number>,
  ): Float32Array {
    return this.networkInput(
      buildObservation(this.observationSpec, previousEmas, day, metricDeviations),
      1,
    );
  }

  /**
   * Coach-core observations [rows, spec size] → the network's input: as they are, or with the
   * stored habit features appended (for each row's weekday). Rows already of the network's
   * input size are returned as they are.
   */
  networkInput(observations: Float32Array, rows: number): Float32Array {
    const table = this.header.habitFeatures;
    const inputSize = this.network.spec.observationSize;
    if (!table || observations.length === rows * inputSize) return observations;
    const size = this.observationSpec.size;
    if (observations.length !== rows * size) {
      throw new RangeError(
        `expected ${rows} observations of size ${size}, got ${observations.length} numbers`,
      );
    }
    const input = new Float32Array(rows * inputSize);
    appendHabitFeatures(this.observationSpec, () => table, observations, rows, input);
    return input;
  }

  /** Level index per habit (spec habit order) for one observation. */
  plan(observation: Float32Array, options: PlanOptions = {}): Int32Array {
    return this.planBatch(observation, 1, undefined, options);
  }

  /** Plans `rows` people at once; observations are [rows, size] row-major. */
  planBatch(observations: Float32Array, rows: number, out?: Int32Array, options: PlanOptions = {}) {
    const input = this.networkInput(observations, rows);
    const size = this.network.spec.observationSize;
    if (input.length !== rows * size) {
      throw new RangeError(
        `expected ${rows} observations of size ${size}, got ${observations.length} numbers`,
      );
    }
    const H = this.network.habitCount;
    const result = out ?? new Int32Array(rows * H);
    const greedy = options.greedy ?? true;
    if (!greedy && !options.rng) throw new Error("sampling a plan (greedy: false) needs an rng");
    const { logits } = evaluateNetwork(this.network, input, rows);
    sampleMultiCategorical(
      logits,
      rows,
      H,
      this.network.levels,
      this.network.spec.levelCount,
      greedy ? null : (options.rng as Rng),
      result,
      null,
    );
    return result;
  }

  toBytes(): Uint8Array {
    return encodeCheckpoint(this.header, this.network.getWeights());
  }

  dispose(): void {
    this.network.dispose();
  }
}

/** Wraps a freshly trained network with the metadata a checkpoint needs. */
export function policyFromNetwork(
  network: ActorCriticNetwork,
  observation: ObservationSpec,
  hyperparameters: PpoConfig | null,
  training: CheckpointHeader["training"],
  habitFeatures: HabitFeatureTable | null = null,
): HabitPolicy {
  return new HabitPolicy(network, {
    formatVersion: 1,
    observationSpec: observation,
    policySpec: network.spec,
    network: network.config,
    hyperparameters,
    training,
    ...(habitFeatures ? { habitFeatures } : {}),
  });
}

/** Refuses a policy whose observation spec is not that of `habits` (when given), naming every difference. */
export function checkHabitSet(
  trainedFor: ObservationSpec,
  options: { habits?: HabitSpec[]; metrics?: MetricGoal[] },
): void {
  if (!options.habits) return;
  const check = sameSpec(trainedFor, observationSpec(options.habits, options.metrics ?? []));
  if (!check.same) {
    throw new Error(
      `this policy was trained for a different habit set: ${check.differences.join("; ")}`,
    );
  }
}

/**
 * Loads a policy from checkpoint bytes. With `habits` (and `metrics`), refuses a policy trained
 * for a different habit set, naming every difference.
 */
export async function loadPolicy(
  bytes: Uint8Array,
  options: { habits?: HabitSpec[]; metrics?: MetricGoal[] } = {},
): Promise<HabitPolicy> {
  await initBackend();
  const { header, weights } = decodeCheckpoint(bytes);
  checkHabitSet(header.observationSpec, options);
  if ((header.policySpec.habitFeatureCount ?? 0) > 0) {
    const problem = habitFeatureTableProblem(
      header.habitFeatures,
      header.observationSpec.habitIds.length,
    );
    if (problem !== null) {
      throw new Error(`this policy reads per-habit behaviour features, but ${problem}`);
    }
  }
  const network = new ActorCriticNetwork(header.policySpec, header.network, UNUSED_RNG);
  try {
    network.setWeights(weights);
  } catch (error) {
    network.dispose();
    throw error;
  }
  const { weights: _manifest, ...rest } = header;
  return new HabitPolicy(network, rest);
}
