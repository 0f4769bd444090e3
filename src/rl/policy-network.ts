/**
 * The actor-critic network of the split multi-actor policy.
 *
 * Habits are split into actor groups (≤ 5 habits each, decided by the coach core). Two actor
 * designs are selectable:
 *  - "independent": one MLP per group maps the whole observation to logits for that group's
 *    habits (the original design);
 *  - "shared": one MLP is applied to every habit, fed a summary of the whole observation plus
 *    the habit's own descriptor (days per week, its levels as fractions of target, its EMA), so
 *    every group trains the same weights.
 * The critic outputs a single value of the whole day's reward (production) or, as a research
 * option, one value per actor group (each trained on its group's reward). With per-habit
 * behaviour features (./habit-features.ts) the shared actor also reads each habit's features.
 * Levels a habit lacks are masked out (logit −1e9), so all habits share one padded level axis.
 */
import type * as tfTypes from "@tensorflow/tfjs-core";
import type { Rng } from "../coach/rng.js";
import { tf } from "./backend.js";
import { applyLevelMask, MASKED_LOGIT } from "./distribution.js";
import {
  denseLinear,
  denseOnInput,
  denseTanh,
  markHabitColumns,
  packsInput,
  sharedFirstLayer,
  sharedPreActivation,
  tanhFromDoubled,
} from "./fast-ops.js";
import { orthogonalMatrix } from "./init.js";

export type ActorDesign = "independent" | "shared";
export type CriticDesign = "per-group" | "single";

/** What the network sees and what it decides; stored in checkpoints. */
export interface PolicySpec {
  observationSize: number;
  /** Number of levels of each sub-action (habit); max over habits is the padded level axis. */
  levelCount: number[];
  /** Actor group of each habit, 0-based and dense. */
  actorGroupOf: number[];
  groupCount: number;
  /** Static per-habit features for the shared actor ([H][D]); may be empty rows. */
  habitDescriptors: number[][];
  /** Observation index of each habit's EMA for the shared actor, −1 when there is none. */
  emaIndex: number[];
  /**
   * Per-habit behaviour features (./habit-features.ts) per habit at the end of the input: H × F
   * values from `habitFeatureOffset`, habit major. Absent or 0 in checkpoints from before them.
   */
  habitFeatureCount?: number;
  habitFeatureOffset?: number;
}

export interface NetworkConfig {
  actor: ActorDesign;
  critic: CriticDesign;
  hiddenSize: number;
  /**
   * Train with per-habit behaviour features in the input (./habit-features.ts); absent in
   * configs from before them (= false).
   */
  habitFeatures?: boolean;
}

export interface NamedWeights {
  name: string;
  shape: number[];
  values: Float32Array;
}

export interface NetworkOutput {
  /** Masked logits [B, H, L]. */
  logits: tfTypes.Tensor3D;
  /** Values [B, K] with K = groupCount (per-group critic) or 1. */
  values: tfTypes.Tensor2D;
}

/**
 * Training layout of the actor's output: one block per independent actor (its group's habits)
 * or a single block of all habits (shared actor); see `ActorCriticNetwork.blocks`.
 */
export interface TrainingOutput {
  /** Masked logits [B, n_b, L] per block, habits in `blocks[b]` order. */
  blockLogits: tfTypes.Tensor3D[];
  values: tfTypes.Tensor2D;
}

/**
 * The network's input as its layers read it: the coach part of the observation (critic, shared
 * summary), each habit's own inputs (shared actor: its EMA and behaviour features) and the whole
 * observation (independent actors), with what their weight gradients use (null: made in the
 * backward pass, or no gradient needed): the transposes of inputs wider than the layer they
 * feed (`packsInput`) and the shared actor's habit selection. Built in JavaScript by
 * `InputBuffers` for training and acting — on WASM cheaper than slicing, selecting and
 * concatenating with kernels — or with kernels from a bare observation tensor
 * (`ActorCriticNetwork.inputOf`).
 */
export interface NetworkInput {
  /** [B, O] for independent actors, else null. */
  observations: tfTypes.Tensor2D | null;
  observationsT: tfTypes.Tensor2D | null;
  /** [B, C], C = `coachSize` (the observations themselves when C = O). */
  coach: tfTypes.Tensor2D;
  coachT: tfTypes.Tensor2D | null;
  /** [B·H, 1 + F] for the shared actor (its EMA, 0 without one, then its F features), else null. */
  perHabit: tfTypes.Tensor2D | null;
  /** perHabit followed by each row's habit as a one-hot column: [B·H, 1 + F + H] (`sharedFirstLayer`). */
  perHabitSelect: tfTypes.Tensor2D | null;
}

/** Where the network's inputs sit in an observation row (`ActorCriticNetwork.inputLayout`). */
export interface InputLayout {
  observationSize: number;
  coachSize: number;
  /** The independent actors read the whole observation. */
  wholeObservation: boolean;
  /** Each habit's EMA index (−1: none) for the shared actor; null for independent actors. */
  emaIndex: number[] | null;
  featureOffset: number;
  featureCount: number;
  /** Width of the layers the inputs feed (whether a weight gradient uses an input's transpose). */
  hiddenSize: number;
}

/**
 * Reused JavaScript buffers of `rows` observations in the network's input layout: `setRow`
 * copies one observation in (every part, and for training what the weight gradients use),
 * `tensors` uploads them.
 */
export class InputBuffers {
  readonly rows: number;
  private readonly layout: InputLayout;
  private readonly observations: Float32Array | null;
  private readonly observationsT: Float32Array | null;
  /** The coach part; the same array as `observations` when it is the whole observation. */
  private readonly coach: Float32Array;
  private readonly coachT: Float32Array | null;
  private readonly coachIsWhole: boolean;
  private readonly perHabit: Float32Array | null;
  private readonly perHabitSelect: Float32Array | null;

  constructor(layout: InputLayout, rows: number, { training }: { training: boolean }) {
    this.layout = layout;
    this.rows = rows;
    const O = layout.observationSize;
    const C = layout.coachSize;
    const vector = (n: number, wanted: boolean) => (wanted ? new Float32Array(n) : null);
    const transposed = (width: number) => training && !packsInput(width, layout.hiddenSize);
    this.observations = vector(rows * O, layout.wholeObservation);
    this.observationsT = vector(rows * O, layout.wholeObservation && transposed(O));
    this.coachIsWhole = C === O && this.observations !== null;
    this.coach = this.coachIsWhole
      ? (this.observations as Float32Array)
      : new Float32Array(rows * C);
    this.coachT = this.coachIsWhole ? this.observationsT : vector(rows * C, transposed(C));
    const H = layout.emaIndex?.length ?? 0;
    const E = 1 + layout.featureCount;
    this.perHabit = vector(rows * H * E, layout.emaIndex !== null);
    this.perHabitSelect = vector(rows * H * (E + H), layout.emaIndex !== null && training);
    // each row's one-hot habit column (constant)
    if (this.perHabitSelect !== null) markHabitColumns(this.perHabitSelect, rows, H, E + H, E);
  }

  /** Copies observation `source[offset .. offset + O)` into row `j` of every part. */
  setRow(j: number, source: Float32Array, offset: number): void {
    const {
      observationSize: O,
      coachSize: C,
      emaIndex,
      featureOffset,
      featureCount: F,
    } = this.layout;
    const M = this.rows;
    const { observations, observationsT, coachT, perHabit, perHabitSelect } = this;
    if (observations !== null) {
      for (let o = 0; o < O; o++) {
        const x = source[offset + o];
        observations[j * O + o] = x;
        if (observationsT !== null) observationsT[o * M + j] = x;
      }
    }
    if (!this.coachIsWhole) {
      for (let o = 0; o < C; o++) {
        const x = source[offset + o];
        this.coach[j * C + o] = x;
        if (coachT !== null) coachT[o * M + j] = x;
      }
    }
    if (emaIndex !== null && perHabit !== null) {
      const H = emaIndex.length;
      const E = 1 + F;
      for (let h = 0; h < H; h++) {
        const r = j * H + h;
        const index = emaIndex[h];
        const ema = index >= 0 ? source[offset + index] : 0;
        perHabit[r * E] = ema;
        if (perHabitSelect !== null) perHabitSelect[r * (E + H)] = ema;
        for (let f = 0; f < F; f++) {
          const x = source[offset + featureOffset + h * F + f];
          perHabit[r * E + 1 + f] = x;
          if (perHabitSelect !== null) perHabitSelect[r * (E + H) + 1 + f] = x;
        }
      }
    }
  }

  /** Copies `rows` consecutive observations from `source` (row-major [rows, O]). */
  setRows(source: Float32Array): void {
    const O = this.layout.observationSize;
    for (let j = 0; j < this.rows; j++) this.setRow(j, source, j * O);
  }

  /** The buffers as tensors (free them with `disposeNetworkInput`). */
  tensors(): NetworkInput {
    const { observationSize: O, coachSize: C, emaIndex, featureCount } = this.layout;
    const M = this.rows;
    const BH = M * (emaIndex?.length ?? 0);
    const E = 1 + featureCount;
    const matrix = (values: Float32Array | null, rows: number, cols: number) =>
      values === null ? null : tf.tensor2d(values, [rows, cols]);
    const observations = matrix(this.observations, M, O);
    const observationsT = matrix(this.observationsT, O, M);
    return {
      observations,
      observationsT,
      coach: this.coachIsWhole
        ? (observations as tfTypes.Tensor2D)
        : tf.tensor2d(this.coach, [M, C]),
      coachT: this.coachIsWhole ? observationsT : matrix(this.coachT, C, M),
      perHabit: matrix(this.perHabit, BH, E),
      perHabitSelect: matrix(this.perHabitSelect, BH, E + (emaIndex?.length ?? 0)),
    };
  }
}

/** Frees the tensors of an input from `InputBuffers.tensors` (each once). */
export function disposeNetworkInput(input: NetworkInput): void {
  const tensors = new Set(
    [
      input.observations,
      input.observationsT,
      input.coach,
      input.coachT,
      input.perHabit,
      input.perHabitSelect,
    ].filter((t): t is tfTypes.Tensor2D => t !== null),
  );
  for (const t of tensors) t.dispose();
}

export function valueChannels(spec: PolicySpec, config: NetworkConfig): number {
  return config.critic === "per-group" ? spec.groupCount : 1;
}

export function maxLevels(spec: PolicySpec): number {
  return Math.max(...spec.levelCount);
}

export class ActorCriticNetwork {
  readonly spec: PolicySpec;
  readonly config: NetworkConfig;
  readonly habitCount: number;
  readonly levels: number;
  readonly channels: number;
  /** Per-habit behaviour features in the input (0: none). */
  readonly featureCount: number;
  /**
   * Input columns the critic and the shared actor's summary read: the coach observation only.
   * The behaviour features reach the shared actor per habit (and the independent actors with
   * the whole input); fed to the summary and the critic, their ~H·F columns, constant for one
   * person, measured worse (seed-23 0.598 vs 0.646, seed 1): they act as hundreds of copies of
   * a bias that Adam moves at once.
   */
  readonly coachSize: number;
  /** Trainable variables in a fixed order (the checkpoint order). */
  readonly variables: tfTypes.Variable[] = [];
  /** Logical names of `variables` (tfjs variable names must be unique per process). */
  readonly variableNames: string[] = [];
  private readonly byName = new Map<string, tfTypes.Variable>();
  private readonly mask: tfTypes.Tensor2D;
  private readonly maskBias: tfTypes.Tensor2D;
  private readonly groupMembers: number[][];
  /** Permutation matrix from group order to habit order, null when they coincide. */
  private readonly groupOrderToHabit: tfTypes.Tensor2D | null;
  private readonly descriptors: tfTypes.Tensor2D | null;
  /** [O, H] selection matrix picking each habit's EMA out of the observation. */
  private readonly emaSelect: tfTypes.Tensor2D | null;
  /** Mask bias [n_b, L] of each training block. */
  private readonly blockMaskBias: tfTypes.Tensor2D[];
  /** Mask bias [n_b, L] of each block on the full level axis (planning, no narrowing). */
  private readonly blockFullMaskBias: tfTypes.Tensor2D[];
  /**
   * Habits of each training block, in the order of the block's logits: the members of each
   * actor group (independent actor) or all habits in habit order (shared actor).
   */
  readonly blocks: number[][];
  /**
   * Level axis of each block: the largest level count among its habits (≤ levels). Training
   * computes only these logit columns (seed-23: 300 instead of 460 per sample).
   */
  readonly blockLevels: number[];
  /** [n_b·L, n_b·L_b] column selection for independent blocks narrower than L, else null. */
  private readonly blockSelect: (tfTypes.Tensor2D | null)[];
  /** `actingBuffers` by row count. */
  private readonly acting = new Map<number, InputBuffers>();
  /** `actingWeights` and the weights' data they were made from. */
  private actingCache: { from: object[]; weights: Map<string, tfTypes.Tensor> } | null = null;

  constructor(spec: PolicySpec, config: NetworkConfig, rng: Rng) {
    this.spec = spec;
    this.config = config;
    this.habitCount = spec.levelCount.length;
    this.levels = maxLevels(spec);
    this.channels = valueChannels(spec, config);
    this.featureCount = spec.habitFeatureCount ?? 0;
    this.coachSize = this.featureCount > 0 ? (spec.habitFeatureOffset ?? 0) : spec.observationSize;
    const h = config.hiddenSize;
    const obs = spec.observationSize;
    const sqrt2 = Math.SQRT2;

    const maskValues = new Float32Array(this.habitCount * this.levels);
    spec.levelCount.forEach((count, habit) => {
      for (let l = 0; l < count; l++) maskValues[habit * this.levels + l] = 1;
    });
    this.mask = tf.keep(tf.tensor2d(maskValues, [this.habitCount, this.levels]));
    this.maskBias = tf.keep(
      tf.tensor2d(
        maskValues.map((m) => (m === 1 ? 0 : MASKED_LOGIT)),
        [this.habitCount, this.levels],
      ),
    );

    this.groupMembers = Array.from({ length: spec.groupCount }, () => [] as number[]);
    spec.actorGroupOf.forEach((group, habit) => {
      this.groupMembers[group].push(habit);
    });
    // Matrix products instead of tf.gather: gather's gradient has no WASM kernel.
    const groupOrder = this.groupMembers.flat();
    const permutation = new Float32Array(this.habitCount * this.habitCount);
    groupOrder.forEach((habit, position) => {
      permutation[position * this.habitCount + habit] = 1;
    });
    this.groupOrderToHabit = groupOrder.every((habit, position) => habit === position)
      ? null
      : tf.keep(tf.tensor2d(permutation, [this.habitCount, this.habitCount]));

    this.blocks =
      config.actor === "independent" ? this.groupMembers : [spec.levelCount.map((_, i) => i)];
    this.blockLevels = this.blocks.map((habits) =>
      config.actor === "independent"
        ? Math.max(...habits.map((h) => spec.levelCount[h]))
        : this.levels,
    );
    this.blockMaskBias = this.blocks.map((habits, b) => {
      const width = this.blockLevels[b];
      const bias = new Float32Array(habits.length * width);
      habits.forEach((habit, j) => {
        for (let l = spec.levelCount[habit]; l < width; l++) bias[j * width + l] = MASKED_LOGIT;
      });
      return tf.keep(tf.tensor2d(bias, [habits.length, width]));
    });
    this.blockFullMaskBias = this.blocks.map((habits) => {
      const bias = new Float32Array(habits.length * this.levels);
      habits.forEach((habit, j) => {
        for (let l = spec.levelCount[habit]; l < this.levels; l++) {
          bias[j * this.levels + l] = MASKED_LOGIT;
        }
      });
      return tf.keep(tf.tensor2d(bias, [habits.length, this.levels]));
    });
    this.blockSelect = this.blocks.map((habits, b) => {
      const width = this.blockLevels[b];
      if (width === this.levels) return null;
      const n = habits.length;
      const select = new Float32Array(n * this.levels * n * width);
      for (let k = 0; k < n; k++) {
        for (let l = 0; l < width; l++)
          select[(k * this.levels + l) * n * width + k * width + l] = 1;
      }
      return tf.keep(tf.tensor2d(select, [n * this.levels, n * width]));
    });

    // Critic: obs → h → h → K (value head gain 1).
    this.dense("critic/1", this.coachSize, h, sqrt2, rng);
    this.dense("critic/2", h, h, sqrt2, rng);
    this.dense("critic/out", h, this.channels, 1, rng);

    if (config.actor === "independent") {
      this.descriptors = null;
      this.emaSelect = null;
      this.groupMembers.forEach((members, group) => {
        this.dense(`actor${group}/1`, obs, h, sqrt2, rng);
        this.dense(`actor${group}/2`, h, h, sqrt2, rng);
        this.dense(`actor${group}/out`, h, members.length * this.levels, 0.01, rng);
      });
    } else {
      const width = spec.habitDescriptors[0]?.length ?? 0;
      const flat = new Float32Array(this.habitCount * width);
      spec.habitDescriptors.forEach((row, habit) => {
        flat.set(row, habit * width);
      });
      this.descriptors = tf.keep(tf.tensor2d(flat, [this.habitCount, width]));
      const select = new Float32Array(obs * this.habitCount);
      spec.emaIndex.forEach((index, habit) => {
        if (index >= 0) select[index * this.habitCount + habit] = 1;
      });
      this.emaSelect = tf.keep(tf.tensor2d(select, [obs, this.habitCount]));
      this.dense("shared/summary", this.coachSize, h, sqrt2, rng);
      // First per-habit layer, split by input: summary, descriptor, own EMA.
      this.dense("shared/1", h, h, sqrt2, rng);
      this.weight("shared/1-descriptor", width, h, sqrt2, rng);
      this.weight("shared/1-ema", 1, h, sqrt2, rng);
      // Zero: the first policy is the one without features; training moves what helps.
      if (this.featureCount > 0) this.weight("shared/1-features", this.featureCount, h, 0, rng);
      this.dense("shared/2", h, h, sqrt2, rng);
      this.dense("shared/out", h, this.levels, 0.01, rng);
    }
  }

  private weight(name: string, rows: number, cols: number, gain: number, rng: Rng) {
    const values = rows === 0 ? new Float32Array(0) : orthogonalMatrix(rows, cols, gain, rng);
    // tidy disposes the initial-value tensor; the variable keeps its own copy.
    const variable = tf.tidy(() => tf.variable(tf.tensor2d(values, [rows, cols]), true));
    this.variables.push(variable);
    this.variableNames.push(name);
    this.byName.set(name, variable);
  }

  private dense(name: string, rows: number, cols: number, gain: number, rng: Rng) {
    this.weight(`${name}/kernel`, rows, cols, gain, rng);
    const bias = tf.tidy(() => tf.variable(tf.zeros([cols]), true));
    this.variables.push(bias);
    this.variableNames.push(`${name}/bias`);
    this.byName.set(`${name}/bias`, bias);
  }

  private v(name: string): tfTypes.Variable {
    const variable = this.byName.get(name);
    if (!variable) throw new Error(`network has no variable ${name}`);
    return variable;
  }

  private linear(name: string, x: tfTypes.Tensor2D): tfTypes.Tensor2D {
    return denseLinear(x, this.v(`${name}/kernel`), this.v(`${name}/bias`));
  }

  private tanhLayer(name: string, x: tfTypes.Tensor2D): tfTypes.Tensor2D {
    return denseTanh(x, this.v(`${name}/kernel`), this.v(`${name}/bias`));
  }

  /** First layer on the observations (no input gradient; xᵀ may be given). */
  private inputLayer(name: string, x: tfTypes.Tensor2D, xT: tfTypes.Tensor2D | null) {
    return denseOnInput(x, xT, this.v(`${name}/kernel`), this.v(`${name}/bias`), "tanh");
  }

  /** Where the inputs sit in an observation row (for `InputBuffers`). */
  get inputLayout(): InputLayout {
    const shared = this.config.actor === "shared";
    return {
      observationSize: this.spec.observationSize,
      coachSize: this.coachSize,
      wholeObservation: !shared,
      emaIndex: shared ? [...this.spec.emaIndex] : null,
      featureOffset: this.spec.habitFeatureOffset ?? 0,
      featureCount: this.featureCount,
      hiddenSize: this.config.hiddenSize,
    };
  }

  /**
   * The input parts derived with kernels from bare observations [B, O] (and optionally their
   * transpose [O, B]); call inside a tidy or gradient scope.
   */
  inputOf(
    observations: tfTypes.Tensor2D,
    observationsT: tfTypes.Tensor2D | null = null,
  ): NetworkInput {
    const rows = observations.shape[0];
    const whole = this.coachSize === this.spec.observationSize;
    const coach = whole ? observations : tf.slice(observations, [0, 0], [rows, this.coachSize]);
    const coachT =
      observationsT === null || whole
        ? observationsT
        : tf.slice(observationsT, [0, 0], [this.coachSize, rows]);
    if (this.config.actor === "independent") {
      return {
        observations,
        observationsT,
        coach,
        coachT,
        perHabit: null,
        perHabitSelect: null,
      };
    }
    const H = this.habitCount;
    const F = this.featureCount;
    const emas = tf.matMul(observations, this.emaSelect as tfTypes.Tensor2D) as tfTypes.Tensor2D;
    let perHabit = tf.reshape(emas, [rows * H, 1]) as tfTypes.Tensor2D;
    if (F > 0) {
      const features = tf.reshape(
        tf.slice(observations, [0, this.spec.habitFeatureOffset ?? 0], [rows, H * F]),
        [rows * H, F],
      );
      perHabit = tf.concat([perHabit, features], 1) as tfTypes.Tensor2D;
    }
    return {
      observations: null,
      observationsT: null,
      coach,
      coachT,
      perHabit,
      perHabitSelect: null,
    };
  }

  /** Values [B, K]. */
  private critic(input: NetworkInput) {
    const critic1 = this.inputLayer("critic/1", input.coach, input.coachT);
    const critic2 = this.tanhLayer("critic/2", critic1);
    return this.linear("critic/out", critic2);
  }

  /**
   * Raw logits [B, n_g · L] of independent actor g (its group's habits in group order), or only
   * the columns `select` picks ([n_g·L, n_g·L_g]: the levels its habits have).
   */
  private independentActor(
    group: number,
    input: NetworkInput,
    select: tfTypes.Tensor2D | null = null,
  ): tfTypes.Tensor2D {
    const observations = input.observations as tfTypes.Tensor2D;
    const a1 = this.inputLayer(`actor${group}/1`, observations, input.observationsT);
    const a2 = this.tanhLayer(`actor${group}/2`, a1);
    if (select === null) return this.linear(`actor${group}/out`, a2);
    const kernel = this.v(`actor${group}/out/kernel`) as tfTypes.Tensor2D;
    const bias = this.v(`actor${group}/out/bias`);
    const narrowBias = tf.reshape(tf.matMul(tf.reshape(bias, [1, bias.size]), select), [
      select.shape[1],
    ]);
    return denseLinear(a2, tf.matMul(kernel, select), narrowBias);
  }

  /** The habit descriptors' part of the shared actor's first layer, [H, hidden]. */
  private descriptorPart(): tfTypes.Tensor2D {
    const descriptors = this.descriptors as tfTypes.Tensor2D;
    return descriptors.shape[1] === 0
      ? tf.zeros([this.habitCount, this.config.hiddenSize])
      : tf.matMul(descriptors, this.v("shared/1-descriptor") as tfTypes.Tensor2D);
  }

  /** The weight of each habit's own inputs in the shared actor: its EMA's, then its features'. */
  private ownInputWeight(): tfTypes.Tensor2D {
    const ema = this.v("shared/1-ema") as tfTypes.Tensor2D;
    return this.featureCount > 0
      ? tf.concat([ema, this.v("shared/1-features") as tfTypes.Tensor2D], 0)
      : ema;
  }

  /** Raw logits [B, H, L] of the shared actor, habit order. */
  private sharedActor(input: NetworkInput): tfTypes.Tensor3D {
    const batch = input.coach.shape[0];
    const summary = this.inputLayer("shared/summary", input.coach, input.coachT);
    const fromSummary = this.linear("shared/1", summary);
    const flat = sharedFirstLayer(
      fromSummary,
      this.descriptorPart(),
      this.ownInputWeight(),
      input.perHabit as tfTypes.Tensor2D,
      input.perHabitSelect,
    );
    const layer2 = this.tanhLayer("shared/2", flat);
    return tf.reshape(this.linear("shared/out", layer2), [
      batch,
      this.habitCount,
      this.levels,
    ]) as tfTypes.Tensor3D;
  }

  /**
   * Forward pass in the training layout (call inside a tidy / gradient scope): masked logits
   * per block, values. The input: its parts built in JavaScript (`InputBuffers`; for training
   * with what the weight gradients use), or bare observations [B, O] (and optionally their
   * transpose [O, B]) from which kernels derive them.
   */
  forwardTraining(
    input: NetworkInput | tfTypes.Tensor2D,
    observationsT: tfTypes.Tensor2D | null = null,
    { narrow = true }: { narrow?: boolean } = {},
  ): TrainingOutput {
    const parts = "coach" in input ? input : this.inputOf(input, observationsT);
    const batch = parts.coach.shape[0];
    const values = this.critic(parts);
    const raw =
      this.config.actor === "independent"
        ? this.groupMembers.map((members, group) =>
            tf.reshape(
              this.independentActor(group, parts, narrow ? this.blockSelect[group] : null),
              [batch, members.length, narrow ? this.blockLevels[group] : this.levels],
            ),
          )
        : [this.sharedActor(parts)];
    const maskBias = narrow ? this.blockMaskBias : this.blockFullMaskBias;
    return {
      blockLogits: raw.map((r, b) => tf.add(r, maskBias[b]) as tfTypes.Tensor3D),
      values,
    };
  }

  /** Reused input buffers (without the training parts) for acting on `rows` observations at a time. */
  actingBuffers(rows: number): InputBuffers {
    let buffers = this.acting.get(rows);
    if (buffers === undefined) {
      buffers = new InputBuffers(this.inputLayout, rows, { training: false });
      this.acting.set(rows, buffers);
    }
    return buffers;
  }

  /**
   * What the shared actor's acting pass multiplies by, made once per set of weights (PPO
   * changes them only between rollouts; a changed variable has new data, which drops the set):
   * each tanh layer's kernel and bias doubled, the descriptors' part doubled, and the weight of
   * each habit's own inputs joined and doubled. tanh(z) = 2·sigmoid(2z) − 1 then needs no
   * product by 2 over the whole activation: doubling a float is exact, so x·(2W) + 2b is
   * 2·(x·W + b) bit for bit.
   */
  private actingWeights(): Map<string, tfTypes.Tensor> {
    const from = this.variables.map((variable) => variable.dataId);
    const cached = this.actingCache;
    if (cached?.from.every((id, i) => id === from[i])) return cached.weights;
    this.disposeActingWeights();
    const weights = new Map<string, tfTypes.Tensor>();
    tf.tidy(() => {
      const twice = (name: string, value: tfTypes.Tensor) => {
        weights.set(name, tf.keep(tf.mul(value, 2)));
      };
      for (const layer of ["critic/1", "critic/2", "shared/summary", "shared/1", "shared/2"]) {
        twice(`${layer}/kernel`, this.v(`${layer}/kernel`));
        twice(`${layer}/bias`, this.v(`${layer}/bias`));
      }
      twice("descriptors", this.descriptorPart());
      twice("own", this.ownInputWeight());
    });
    this.actingCache = { from, weights };
    return weights;
  }

  private disposeActingWeights(): void {
    for (const tensor of this.actingCache?.weights.values() ?? []) tensor.dispose();
    this.actingCache = null;
  }

  /**
   * The shared actor's acting pass (no gradients; call inside `tf.tidy`): values [B, K] and
   * masked logits [B, H, L], the numbers `forwardTraining` gives without narrowing, bit for
   * bit, from fewer kernels (`actingWeights`; no custom-gradient wrappers, which copy their
   * outputs).
   */
  private sharedActing(input: NetworkInput): { values: tfTypes.Tensor2D; logits: tfTypes.Tensor } {
    const w = this.actingWeights();
    const weight = (name: string) => w.get(name) as tfTypes.Tensor2D;
    const tanhLayer = (name: string, x: tfTypes.Tensor2D) =>
      tanhFromDoubled(
        tf.add(tf.matMul(x, weight(`${name}/kernel`)), weight(`${name}/bias`)),
      ) as tfTypes.Tensor2D;
    const linear = (name: string, x: tfTypes.Tensor2D) =>
      tf.add(tf.matMul(x, this.v(`${name}/kernel`)), this.v(`${name}/bias`)) as tfTypes.Tensor2D;
    const critic2 = tanhLayer("critic/2", tanhLayer("critic/1", input.coach));
    const values = linear("critic/out", critic2);
    const summary = tanhLayer("shared/summary", input.coach);
    const fromSummary = tf.add(
      tf.matMul(summary, weight("shared/1/kernel")),
      weight("shared/1/bias"),
    );
    const z2 = sharedPreActivation(
      fromSummary,
      weight("descriptors"),
      weight("own"),
      input.perHabit as tfTypes.Tensor2D,
    );
    const batch = input.coach.shape[0];
    const first = tf.reshape(tanhFromDoubled(z2), [
      batch * this.habitCount,
      this.config.hiddenSize,
    ]) as tfTypes.Tensor2D;
    const raw = tf.reshape(linear("shared/out", tanhLayer("shared/2", first)), [
      batch,
      this.habitCount,
      this.levels,
    ]);
    return { values, logits: tf.add(raw, this.blockFullMaskBias[0]) };
  }

  /**
   * The acting pass on an input from `actingBuffers` (call inside `tf.tidy`): values [B, K] and
   * masked logits per block on the full level axis, as `forwardTraining` without narrowing.
   */
  forwardActing(input: NetworkInput): { values: tfTypes.Tensor2D; blockLogits: tfTypes.Tensor[] } {
    if (this.config.actor === "shared") {
      const { values, logits } = this.sharedActing(input);
      return { values, blockLogits: [logits] };
    }
    const out = this.forwardTraining(input, null, { narrow: false });
    return { values: out.values, blockLogits: out.blockLogits };
  }

  /** Forward pass; call inside `tf.tidy` (or dispose the outputs). Logits in habit order. */
  forward(observations: tfTypes.Tensor2D): NetworkOutput {
    const batch = observations.shape[0];
    const input = this.inputOf(observations);
    const values = this.critic(input);
    let raw: tfTypes.Tensor3D;
    if (this.config.actor === "independent") {
      const perGroup = this.groupMembers.map((members, group) =>
        tf.reshape(this.independentActor(group, input), [batch, members.length, this.levels]),
      );
      const grouped = perGroup.length === 1 ? perGroup[0] : tf.concat(perGroup, 1);
      if (this.groupOrderToHabit === null) raw = grouped as tfTypes.Tensor3D;
      else {
        // [B, H, L] → [B·L, H] · P → back to [B, H, L] in habit order.
        const byLevel = tf.reshape(tf.transpose(grouped, [0, 2, 1]), [
          batch * this.levels,
          this.habitCount,
        ]) as tfTypes.Tensor2D;
        const reordered = tf.matMul(byLevel, this.groupOrderToHabit);
        raw = tf.transpose(tf.reshape(reordered, [batch, this.levels, this.habitCount]), [0, 2, 1]);
      }
    } else {
      raw = this.sharedActor(input);
    }
    return { logits: applyLevelMask(raw, this.maskBias) as tfTypes.Tensor3D, values };
  }

  get levelMask(): tfTypes.Tensor2D {
    return this.mask;
  }

  /** Copies every weight out (checkpoint order). */
  getWeights(): NamedWeights[] {
    return this.variables.map((variable, i) => ({
      name: this.variableNames[i],
      shape: [...variable.shape],
      values: new Float32Array(variable.dataSync() as Float32Array),
    }));
  }

  /** Replaces every weight; names and shapes must match exactly. */
  setWeights(weights: NamedWeights[]): void {
    if (weights.length !== this.variables.length) {
      throw new Error(`expected ${this.variables.length} weight tensors, got ${weights.length}`);
    }
    weights.forEach((w, i) => {
      const variable = this.variables[i];
      const name = this.variableNames[i];
      if (w.name !== name || w.shape.join("x") !== variable.shape.join("x")) {
        throw new Error(
          `weight ${i} is ${w.name} [${w.shape}] but the network expects ${name} [${variable.shape}]`,
        );
      }
      tf.tidy(() => variable.assign(tf.tensor(w.values, w.shape)));
    });
  }

  dispose(): void {
    this.disposeActingWeights();
    for (const variable of this.variables) variable.dispose();
    this.mask.dispose();
    this.maskBias.dispose();
    this.groupOrderToHabit?.dispose();
    this.descriptors?.dispose();
    this.emaSelect?.dispose();
    for (const bias of [...this.blockMaskBias, ...this.blockFullMaskBias]) bias.dispose();
    for (const select of this.blockSelect) select?.dispose();
  }
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
  const buffers = network.actingBuffers(rows);
  buffers.setRows(observations);
  const outputs = tf.tidy(() => {
    const out = network.forwardActing(buffers.tensors());
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
