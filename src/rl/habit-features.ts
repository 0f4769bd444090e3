/**
 * Per-habit features for the shared actor: what the behaviour model a policy is trained on says
 * about each habit (compliance, unplanned rate, amounts, cross-effects, the person's capacity,
 * the habit's weekday factor on the day planned) and what the habit set says (exclusive group,
 * minutes). Without them, habits with equal descriptors (days/week, level count, levels ÷
 * target) get bit-identical logits whenever their EMAs are equal.
 *
 * The network's input is the coach core's observation followed by H × F feature values (habit
 * major). The same function (`appendHabitFeatures`) fills them during training, from each
 * simulated person's behaviour, and when acting, from the table stored with the checkpoint (the
 * behaviour the policy was trained on: the fitted one in the product, never the true person).
 * The weekday is read from the observation's weekday one-hot, so both paths agree by
 * construction.
 */
import type { HabitSpec } from "../coach/habits.js";
import type { ObservationSpec } from "../coach/observation.js";
import type { PersonaBehaviour } from "./persona.js";
import type { PolicySpec } from "./policy-network.js";
import { createStepBuffers, type StepBuffers, type VectorEnv } from "./vector-env.js";

/** Feature names in input order (F = HABIT_FEATURE_NAMES.length). */
export const HABIT_FEATURE_NAMES = [
  "compliance",
  "unplannedRate",
  "amountMean",
  "crossEffectsOut",
  "crossEffectsIn",
  "capacityShare",
  "overloadPenalty",
  "exclusiveGroup",
  "minutesShare",
  "weekdayFactor",
  "plannedChance",
] as const;
export const HABIT_FEATURE_COUNT = HABIT_FEATURE_NAMES.length;
/** Features that do not depend on the weekday (the first ones, in `static` rows). */
const STATIC_COUNT = HABIT_FEATURE_COUNT - 2;

/** The behaviour's features of each habit, stored with a checkpoint (plain JSON). */
export interface HabitFeatureTable {
  version: 1;
  names: string[];
  /** [H][STATIC_COUNT]: the weekday-independent features, spec habit order. */
  static: number[][];
  /** [H][7]: compliance factor on each weekday (persona's × habit's, Monday first). */
  weekday: number[][];
  /** [H]: compliance before weekday factors. */
  compliance: number[];
}

const clamp = (x: number, lo: number, hi: number) =>
  Number.isFinite(x) ? Math.min(hi, Math.max(lo, x)) : 0;

/**
 * The feature table of a habit set under a behaviour model. Habits the behaviour does not
 * describe get neutral values (compliance 0.75, no unplanned habit), like the default behaviour.
 */
export function habitFeatureTable(
  habits: HabitSpec[],
  behaviour: PersonaBehaviour,
  planCapacityMinutes: number | null = null,
): HabitFeatureTable {
  const H = habits.length;
  const crossOut = new Map<string, number>();
  const crossIn = new Map<string, number>();
  for (const e of behaviour.crossEffects) {
    crossOut.set(e.from, (crossOut.get(e.from) ?? 0) + e.effect);
    crossIn.set(e.to, (crossIn.get(e.to) ?? 0) + e.effect);
  }
  const groupSize = new Map<string, number>();
  for (const h of habits) {
    if (h.exclusiveGroup)
      groupSize.set(h.exclusiveGroup, (groupSize.get(h.exclusiveGroup) ?? 0) + 1);
  }
  const capacityShare = clamp(behaviour.capacity / Math.max(1, H), 0, 1.5);
  const overload = clamp(behaviour.overloadPenalty * 4, 0, 4);
  const rows = habits.map((h) => {
    const b = behaviour.habits[h.id];
    const compliance = clamp(b?.compliance ?? 0.75, 0, 1);
    const own = b?.weekdayFactors;
    const weekday = Array.from({ length: 7 }, (_, d) =>
      clamp((behaviour.weekdayFactors[d] ?? 1) * (own ? (own[d] ?? 1) : 1), 0, 2),
    );
    const minutes =
      planCapacityMinutes && h.capacityMinutes ? h.capacityMinutes / planCapacityMinutes : 0;
    const exclusive = h.exclusiveGroup && (groupSize.get(h.exclusiveGroup) ?? 0) > 1 ? 1 : 0;
    return {
      compliance,
      weekday,
      static: [
        compliance,
        clamp(b?.unplannedRate ?? 0.05, 0, 1),
        clamp(b?.amountMean ?? 1, 0, 2),
        clamp(crossOut.get(h.id) ?? 0, -1, 1),
        clamp(crossIn.get(h.id) ?? 0, -1, 1),
        capacityShare,
        overload,
        exclusive,
        clamp(minutes, 0, 1.5),
      ],
    };
  });
  if (rows.some((r) => r.static.length !== STATIC_COUNT)) throw new Error("feature table width");
  return {
    version: 1,
    names: [...HABIT_FEATURE_NAMES],
    static: rows.map((r) => r.static),
    weekday: rows.map((r) => r.weekday),
    compliance: rows.map((r) => r.compliance),
  };
}

/** Why a stored table cannot feed a network with `habits` habits (null when it can). */
export function habitFeatureTableProblem(table: unknown, habits: number): string | null {
  const t = table as Partial<HabitFeatureTable> | null | undefined;
  if (t?.version !== 1) return "it has no habit feature table of version 1";
  if (JSON.stringify(t.names) !== JSON.stringify(HABIT_FEATURE_NAMES)) {
    return `its habit features are [${t.names}], this build uses [${HABIT_FEATURE_NAMES}]`;
  }
  const rowsOk = (rows: unknown, width: number) =>
    Array.isArray(rows) &&
    rows.length === habits &&
    rows.every((r) => Array.isArray(r) && r.length === width && r.every((x) => Number.isFinite(x)));
  if (!rowsOk(t.static, STATIC_COUNT) || !rowsOk(t.weekday, 7)) {
    return `its habit feature table does not hold ${habits} habits of finite numbers`;
  }
  if (!Array.isArray(t.compliance) || t.compliance.length !== habits) {
    return `its habit feature table does not hold ${habits} compliances`;
  }
  return null;
}

/** The weekday (0 = Monday) of an observation row, from its one-hot. */
export function observationWeekday(
  spec: ObservationSpec,
  observation: ArrayLike<number>,
  offset = 0,
): number {
  for (let d = 0; d < 7; d++) if (observation[offset + spec.weekdayOffset + d] === 1) return d;
  throw new RangeError("the observation has no weekday set");
}

/**
 * Copies `rows` coach observations (size spec.size) into `out` (rows of spec.size + H·F) and
 * appends each row's habit features for the observation's weekday; `tableOfRow(r)` is the
 * behaviour of row r.
 */
export function appendHabitFeatures(
  spec: ObservationSpec,
  tableOfRow: (row: number) => HabitFeatureTable,
  observations: Float32Array,
  rows: number,
  out: Float32Array,
): void {
  const O = spec.size;
  const H = spec.habitIds.length;
  const F = HABIT_FEATURE_COUNT;
  const width = O + H * F;
  for (let r = 0; r < rows; r++) {
    const table = tableOfRow(r);
    const src = r * O;
    const dst = r * width;
    for (let o = 0; o < O; o++) out[dst + o] = observations[src + o];
    const weekday = observationWeekday(spec, observations, src);
    for (let h = 0; h < H; h++) {
      const at = dst + O + h * F;
      const row = table.static[h];
      for (let f = 0; f < STATIC_COUNT; f++) out[at + f] = row[f];
      const factor = table.weekday[h][weekday];
      out[at + STATIC_COUNT] = factor;
      out[at + STATIC_COUNT + 1] = Math.min(1, table.compliance[h] * factor);
    }
  }
}

/** Size of the network input for a habit set with features. */
export function featureInputSize(spec: ObservationSpec): number {
  return spec.size + spec.habitIds.length * HABIT_FEATURE_COUNT;
}

/**
 * An environment whose observations carry each simulated person's habit features: rows
 * [0, N) of `inner`, row r living the behaviour `tables[tableIndexOfRow[r]]`.
 */
export class HabitFeatureEnv implements VectorEnv {
  readonly numEnvs: number;
  readonly observationSize: number;
  readonly groupCount: number;
  readonly actionCount: number;
  private readonly inner: VectorEnv;
  private readonly spec: ObservationSpec;
  private readonly tableOfRow: (row: number) => HabitFeatureTable;
  private readonly innerObservations: Float32Array;
  private readonly innerBuffers: StepBuffers;

  constructor(
    inner: VectorEnv,
    spec: ObservationSpec,
    tables: HabitFeatureTable[],
    tableIndexOfRow: ArrayLike<number>,
  ) {
    if (inner.observationSize !== spec.size) {
      throw new Error("the environment's observations do not follow the observation spec");
    }
    this.inner = inner;
    this.spec = spec;
    this.numEnvs = inner.numEnvs;
    this.groupCount = inner.groupCount;
    this.actionCount = inner.actionCount;
    this.observationSize = featureInputSize(spec);
    this.tableOfRow = (row) => tables[tableIndexOfRow[row]];
    const N = inner.numEnvs;
    this.innerObservations = new Float32Array(N * spec.size);
    this.innerBuffers = createStepBuffers(inner);
  }

  reset(observations: Float32Array): void {
    this.inner.reset(this.innerObservations);
    appendHabitFeatures(
      this.spec,
      this.tableOfRow,
      this.innerObservations,
      this.numEnvs,
      observations,
    );
  }

  step(actions: Int32Array, out: StepBuffers): void {
    const b = this.innerBuffers;
    this.inner.step(actions, b);
    out.groupRewards.set(b.groupRewards);
    out.rewards.set(b.rewards);
    out.terminated.set(b.terminated);
    out.truncated.set(b.truncated);
    appendHabitFeatures(this.spec, this.tableOfRow, b.observations, this.numEnvs, out.observations);
    // Final observations are only valid on rows that ended; the others hold no weekday.
    for (let n = 0; n < this.numEnvs; n++) {
      if (b.terminated[n] || b.truncated[n]) {
        appendHabitFeatures(
          this.spec,
          (row) => this.tableOfRow(row + n),
          b.finalObservations.subarray(n * this.spec.size),
          1,
          out.finalObservations.subarray(n * this.observationSize),
        );
      }
    }
  }
}

/** The policy spec of a network fed the coach observation plus the habit features. */
export function withHabitFeatures(spec: PolicySpec, observation: ObservationSpec): PolicySpec {
  return {
    ...spec,
    observationSize: featureInputSize(observation),
    habitFeatureCount: HABIT_FEATURE_COUNT,
    habitFeatureOffset: observation.size,
  };
}

/**
 * The environment and policy spec training uses: `inner` as it is without `tables`, else
 * wrapped so that row r's observations carry `tables[tableOfRow(r)]`.
 */
export function featureEnv(
  inner: VectorEnv & { spec: ObservationSpec },
  spec: PolicySpec,
  tables: HabitFeatureTable[] | null,
  tableOfRow: (row: number) => number,
): { env: VectorEnv; spec: PolicySpec } {
  if (tables === null) return { env: inner, spec };
  const index = Int32Array.from({ length: inner.numEnvs }, (_, r) => tableOfRow(r));
  return {
    env: new HabitFeatureEnv(inner, inner.spec, tables, index),
    spec: withHabitFeatures(spec, inner.spec),
  };
}
