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
 * The critic outputs one value per actor group (each trained on its group's reward) or, as an
 * option, a single value of the whole day's reward.
 * Levels a habit lacks are masked out (logit −1e9), so all habits share one padded level axis.
 */
import type * as tfTypes from "@tensorflow/tfjs";
import { tf } from "./backend.js";
import { applyLevelMask, MASKED_LOGIT } from "./distribution.js";
import { orthogonalMatrix } from "./init.js";
import type { UniformSource } from "./random.js";

/**
 * Dense layer x·W + b with its gradient written using explicit transposes: the WASM backend's
 * matrix product is several times slower with its transpose flags set (measured 2.4 ms vs
 * 9.7 ms for 1024×64·64×100), which is what the default gradient uses.
 */
const denseLayer = tf.customGrad(
  // biome-ignore lint/suspicious/noExplicitAny: tfjs types customGrad's arguments loosely
  (x: any, w: any, b: any, save: any) => {
    save([x, w]);
    const value = tf.add(tf.matMul(x, w), b);
    return {
      value,
      gradFunc: (dy: tfTypes.Tensor, saved: tfTypes.Tensor[]) => {
        const [xs, ws] = saved as [tfTypes.Tensor2D, tfTypes.Tensor2D];
        const dy2 = dy as tfTypes.Tensor2D;
        return [tf.matMul(dy2, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy2), tf.sum(dy2, 0)];
      },
    };
  },
) as (x: tfTypes.Tensor2D, w: tfTypes.Tensor, b: tfTypes.Tensor) => tfTypes.Tensor2D;

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
}

export interface NetworkConfig {
  actor: ActorDesign;
  critic: CriticDesign;
  hiddenSize: number;
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

  constructor(spec: PolicySpec, config: NetworkConfig, rng: UniformSource) {
    this.spec = spec;
    this.config = config;
    this.habitCount = spec.levelCount.length;
    this.levels = maxLevels(spec);
    this.channels = valueChannels(spec, config);
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

    // Critic: obs → h → h → K (value head gain 1).
    this.dense("critic/1", obs, h, sqrt2, rng);
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
      this.dense("shared/summary", obs, h, sqrt2, rng);
      // First per-habit layer, split by input: summary, descriptor, own EMA.
      this.dense("shared/1", h, h, sqrt2, rng);
      this.weight("shared/1-descriptor", width, h, sqrt2, rng);
      this.weight("shared/1-ema", 1, h, sqrt2, rng);
      this.dense("shared/2", h, h, sqrt2, rng);
      this.dense("shared/out", h, this.levels, 0.01, rng);
    }
  }

  private weight(name: string, rows: number, cols: number, gain: number, rng: UniformSource) {
    const values = rows === 0 ? new Float32Array(0) : orthogonalMatrix(rows, cols, gain, rng);
    // tidy disposes the initial-value tensor; the variable keeps its own copy.
    const variable = tf.tidy(() => tf.variable(tf.tensor2d(values, [rows, cols]), true));
    this.variables.push(variable);
    this.variableNames.push(name);
    this.byName.set(name, variable);
  }

  private dense(name: string, rows: number, cols: number, gain: number, rng: UniformSource) {
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

  private apply(name: string, x: tfTypes.Tensor2D): tfTypes.Tensor2D {
    return denseLayer(x, this.v(`${name}/kernel`), this.v(`${name}/bias`));
  }

  /** Forward pass; call inside `tf.tidy` (or dispose the outputs). */
  forward(observations: tfTypes.Tensor2D): NetworkOutput {
    const batch = observations.shape[0];
    const critic1 = tf.tanh(this.apply("critic/1", observations));
    const critic2 = tf.tanh(this.apply("critic/2", critic1));
    const values = this.apply("critic/out", critic2);

    let raw: tfTypes.Tensor3D;
    if (this.config.actor === "independent") {
      const perGroup = this.groupMembers.map((members, group) => {
        const a1 = tf.tanh(this.apply(`actor${group}/1`, observations));
        const a2 = tf.tanh(this.apply(`actor${group}/2`, a1));
        return tf.reshape(this.apply(`actor${group}/out`, a2), [
          batch,
          members.length,
          this.levels,
        ]);
      });
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
      const hidden = this.config.hiddenSize;
      const summary = tf.tanh(this.apply("shared/summary", observations));
      const fromSummary = tf.reshape(this.apply("shared/1", summary), [batch, 1, hidden]);
      const descriptors = this.descriptors as tfTypes.Tensor2D;
      const fromDescriptor =
        descriptors.shape[1] === 0
          ? tf.zeros([1, this.habitCount, hidden])
          : tf.reshape(tf.matMul(descriptors, this.v("shared/1-descriptor") as tfTypes.Tensor2D), [
              1,
              this.habitCount,
              hidden,
            ]);
      const emas = tf.reshape(tf.matMul(observations, this.emaSelect as tfTypes.Tensor2D), [
        batch,
        this.habitCount,
        1,
      ]);
      const fromEma = tf.mul(emas, tf.reshape(this.v("shared/1-ema"), [1, 1, hidden]));
      const layer1 = tf.tanh(tf.add(tf.add(fromSummary, fromDescriptor), fromEma));
      const flat = tf.reshape(layer1, [batch * this.habitCount, hidden]) as tfTypes.Tensor2D;
      const layer2 = tf.tanh(this.apply("shared/2", flat));
      raw = tf.reshape(this.apply("shared/out", layer2), [batch, this.habitCount, this.levels]);
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
    for (const variable of this.variables) variable.dispose();
    this.mask.dispose();
    this.maskBias.dispose();
    this.groupOrderToHabit?.dispose();
    this.descriptors?.dispose();
    this.emaSelect?.dispose();
  }
}
