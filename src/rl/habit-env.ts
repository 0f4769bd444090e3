/**
 * Batched habit environment: N simulated people (one persona) lived day by day in lockstep.
 *
 * One day for one person:
 *   plan (level index per habit, from the policy)
 *   → adjustPlan (coach core: exclusive groups, minutes capacity)
 *   → simulate what the person does (persona behaviour model)
 *   → stepEmas → dailyReward and groupRewards → next observation via buildObservation (coach
 *     core rules, run fused by `finishDay` in habit-day.ts; proven bit-identical by tests).
 * A coaching year (episodeDays, default 365) ends by truncation, never by failure.
 *
 * All state lives in typed arrays allocated in the constructor; `step` allocates nothing.
 * Every random draw comes from one seeded generator (the coach core's sfc32, written out inline
 * in the hot loop), so a seed replays a run exactly — the same run as the first version of this
 * environment (test/rl/support/reference-habit-env.ts, compared in test/rl/habit-env.test.ts).
 */
import { adjustPlan, type CompiledHabits, compileHabits } from "../coach/adjust.js";
import { alphaFromSpan, DEFAULT_EMA_SPAN_DAYS } from "../coach/ema.js";
import { buildObservation, type ObservationSpec, observationSpec } from "../coach/observation.js";
import { heuristicPlan } from "../coach/planner.js";
import { createRng, type Rng, Sfc32, sfc32Step, TWO_TO_MINUS_32 } from "../coach/rng.js";
import { type DayTables, dayTables, finishDay } from "./habit-day.js";
import type { Persona } from "./persona.js";
import type { PolicySpec } from "./policy-network.js";
import type { StepBuffers, VectorEnv } from "./vector-env.js";

export interface HabitEnvOptions {
  numEnvs: number;
  seed: number;
  /** Days per episode (a coaching year by default). */
  episodeDays?: number;
  emaSpanDays?: number;
  /** Starting EMAs are drawn uniformly from [0, initialEmaMax]. */
  initialEmaMax?: number;
}

/** The persona's behaviour flattened into arrays (habit order = persona habit order). */
interface CompiledBehaviour {
  amountMean: Float64Array;
  /** √3 · amountSd: half-width of the uniform done/planned ratio. */
  amountHalfWidth: Float64Array;
  isCheck: Uint8Array;
  /** [7 · H]: compliance × persona weekday factor × habit weekday factor. */
  plannedChance: Float64Array;
  /** [7 · H]: unplanned rate × the same weekday factors. */
  unplannedChance: Float64Array;
  /** [7 · H · 2]: (unplannedChance, plannedChance) interleaved, indexed by "is planned". */
  chance: Float64Array;
  capacity: number;
  overloadPenalty: number;
  driftPerDay: number;
  driftMin: number;
  driftMax: number;
  crossFrom: Int32Array;
  crossTo: Int32Array;
  crossEffect: Float64Array;
}

function compileBehaviour(persona: Persona): CompiledBehaviour {
  const habits = persona.habits;
  const H = habits.length;
  const b = persona.behaviour;
  const index = new Map(habits.map((h, i) => [h.id, i]));
  const plannedChance = new Float64Array(7 * H);
  const unplannedChance = new Float64Array(7 * H);
  habits.forEach((h, i) => {
    const hb = b.habits[h.id];
    const own = hb.weekdayFactors;
    for (let d = 0; d < 7; d++) {
      const factor = b.weekdayFactors[d] * (own ? own[d] : 1);
      plannedChance[d * H + i] = hb.compliance * factor;
      unplannedChance[d * H + i] = hb.unplannedRate * factor;
    }
  });
  const chance = new Float64Array(14 * H);
  for (let i = 0; i < 7 * H; i++) {
    chance[2 * i] = unplannedChance[i];
    chance[2 * i + 1] = plannedChance[i];
  }
  return {
    chance,
    amountMean: Float64Array.from(habits, (h) => b.habits[h.id].amountMean),
    amountHalfWidth: Float64Array.from(habits, (h) => Math.sqrt(3) * b.habits[h.id].amountSd),
    isCheck: Uint8Array.from(habits, (h) => (h.kind === "check" ? 1 : 0)),
    plannedChance,
    unplannedChance,
    capacity: b.capacity,
    overloadPenalty: b.overloadPenalty,
    driftPerDay: b.drift?.perDay ?? 0,
    driftMin: b.drift?.min ?? 1,
    driftMax: b.drift?.max ?? 1,
    crossFrom: Int32Array.from(b.crossEffects, (e) => index.get(e.from) ?? 0),
    crossTo: Int32Array.from(b.crossEffects, (e) => index.get(e.to) ?? 0),
    crossEffect: Float64Array.from(b.crossEffects, (e) => e.effect),
  };
}

/** Static per-habit features for the shared actor: days/week, level fractions, level count. */
export function habitDescriptors(compiled: CompiledHabits, maxLevels: number): number[][] {
  const rows: number[][] = [];
  for (let h = 0; h < compiled.count; h++) {
    const row = [compiled.daysPerWeek[h] / 7, compiled.levelCount[h] / maxLevels];
    for (let l = 0; l < maxLevels; l++) {
      row.push(
        l < compiled.levelCount[h] ? Math.min(compiled.levels[h][l] / compiled.target[h], 3) : 0,
      );
    }
    rows.push(row);
  }
  return rows;
}

/** The policy's view of a habit set: observation layout, levels and actor groups. */
export function policySpecFor(spec: ObservationSpec, compiled: CompiledHabits): PolicySpec {
  const levelCount = Array.from(compiled.levelCount);
  const maxLevels = Math.max(...levelCount);
  return {
    observationSize: spec.size,
    levelCount,
    actorGroupOf: Array.from(compiled.actorGroupOf),
    groupCount: compiled.groupCount,
    habitDescriptors: habitDescriptors(compiled, maxLevels),
    emaIndex: levelCount.map((_, h) => spec.emaOffset + h),
  };
}

export class HabitVectorEnv implements VectorEnv {
  readonly numEnvs: number;
  readonly observationSize: number;
  readonly groupCount: number;
  readonly actionCount: number;
  readonly persona: Persona;
  readonly compiled: CompiledHabits;
  readonly spec: ObservationSpec;
  readonly policySpec: PolicySpec;
  readonly episodeDays: number;
  /** [N, H] current EMAs (after yesterday). */
  readonly emas: Float64Array;
  /** [N] weekday (0 = Monday) of the day about to be planned. */
  readonly weekday: Int32Array;
  /** [N] days lived in the current episode. */
  readonly day: Int32Array;
  /** [N, H] the plan after adjustment, from the last step (for inspection and evaluation). */
  readonly adjustedPlan: Int32Array;
  /** [N, H] EMAs at the end of the episode that just ended (valid where truncated). */
  readonly finalEmas: Float64Array;
  /** [N, H] amounts done on the last step. */
  readonly doneAmounts: Float64Array;

  /** sfc32 state of the environment's generator (one stream per environment, from the seed). */
  private readonly rngState: Int32Array;
  /** The same generator as an `Rng` for the coach core's functions (shares `rngState`). */
  private readonly stateRng: Rng;
  private readonly behaviour: CompiledBehaviour;
  private readonly alpha: number;
  private readonly initialEmaMax: number;
  private readonly motivation: Float64Array;
  private readonly crossBoost: Float64Array;
  private readonly emaViews: Float64Array[];
  private readonly planViews: Int32Array[];
  /**
   * Amount done when a habit is done, by level: habit h's level l at levelOffset[h] + l; level
   * 0 (not planned, done anyway) holds the habit's target.
   */
  private readonly amountTable: Float64Array;
  private readonly levelOffset: Int32Array;
  private readonly dayTables: DayTables;
  /** [unplanned, planned] compliance factors of the person being stepped. */
  private readonly factorScratch: Float64Array;
  private readonly adjustOptions: { capacityMinutes?: number };

  constructor(persona: Persona, options: HabitEnvOptions) {
    const N = options.numEnvs;
    if (!Number.isInteger(N) || N < 1) throw new RangeError(`numEnvs must be ≥ 1, got ${N}`);
    this.numEnvs = N;
    this.persona = persona;
    this.compiled = compileHabits(persona.habits);
    this.spec = observationSpec(persona.habits, persona.metrics);
    this.policySpec = policySpecFor(this.spec, this.compiled);
    this.observationSize = this.spec.size;
    this.groupCount = this.compiled.groupCount;
    const H = this.compiled.count;
    this.actionCount = H;
    this.episodeDays = options.episodeDays ?? 365;
    this.alpha = alphaFromSpan(options.emaSpanDays ?? DEFAULT_EMA_SPAN_DAYS);
    this.initialEmaMax = options.initialEmaMax ?? 1.3;
    this.rngState = Int32Array.from(createRng(options.seed).state());
    this.stateRng = new Sfc32(this.rngState);
    this.behaviour = compileBehaviour(persona);
    this.adjustOptions =
      persona.planCapacityMinutes === null ? {} : { capacityMinutes: persona.planCapacityMinutes };

    this.emas = new Float64Array(N * H);
    this.weekday = new Int32Array(N);
    this.day = new Int32Array(N);
    this.adjustedPlan = new Int32Array(N * H);
    this.doneAmounts = new Float64Array(N * H);
    this.finalEmas = new Float64Array(N * H);
    this.motivation = new Float64Array(N);
    this.crossBoost = new Float64Array(N * H);
    this.levelOffset = Int32Array.from(this.compiled.levelOffset);
    this.amountTable = Float64Array.from(this.compiled.levelsFlat);
    for (let h = 0; h < H; h++) this.amountTable[this.levelOffset[h]] = this.compiled.target[h];
    this.dayTables = dayTables(this.compiled, this.spec, this.alpha);
    this.factorScratch = new Float64Array(2);
    // Per-person views, created once so the hot loop never allocates.
    this.emaViews = Array.from({ length: N }, (_, n) => this.emas.subarray(n * H, (n + 1) * H));
    this.planViews = Array.from({ length: N }, (_, n) =>
      this.adjustedPlan.subarray(n * H, (n + 1) * H),
    );
  }

  private resetPerson(n: number): void {
    const H = this.actionCount;
    for (let h = 0; h < H; h++) {
      this.emas[n * H + h] = this.stateRng.next() * this.initialEmaMax;
      this.crossBoost[n * H + h] = 0;
    }
    this.weekday[n] = Math.floor(this.stateRng.next() * 7);
    this.day[n] = 0;
    this.motivation[n] = 1;
  }

  private observe(n: number, out: Float32Array): void {
    buildObservation(
      this.spec,
      this.emaViews[n],
      this.weekday[n],
      undefined,
      out,
      n * this.observationSize,
    );
  }

  reset(observations: Float32Array): void {
    for (let n = 0; n < this.numEnvs; n++) {
      this.resetPerson(n);
      this.observe(n, observations);
    }
  }

  /** The coach core's heuristic plan for every person's current state, into `actions` [N, H]. */
  heuristicActions(actions: Int32Array): void {
    const H = this.actionCount;
    for (let n = 0; n < this.numEnvs; n++) {
      heuristicPlan(this.compiled, this.emaViews[n], actions.subarray(n * H, (n + 1) * H));
    }
  }

  step(actions: Int32Array, out: StepBuffers): void {
    const N = this.numEnvs;
    const H = this.actionCount;
    const G = this.groupCount;
    const O = this.observationSize;
    const b = this.behaviour;
    const compiled = this.compiled;
    const adjusted = this.adjustedPlan;
    const amounts = this.doneAmounts;
    const boost = this.crossBoost;
    const amountTable = this.amountTable;
    const levelOffset = this.levelOffset;
    const weekdays = this.weekday;
    const days = this.day;
    const motivations = this.motivation;
    const emas = this.emas;
    const emaViews = this.emaViews;
    const planViews = this.planViews;
    const tables = this.dayTables;
    const factor = this.factorScratch;
    const adjustOptions = this.adjustOptions;
    const stateRng = this.stateRng;
    const s = this.rngState;
    const episodeDays = this.episodeDays;
    const { rewards, observations, terminated, truncated } = out;
    const groupRewardsOut = out.groupRewards;
    const { chance, amountMean, amountHalfWidth, isCheck } = b;
    const { crossFrom, crossTo, crossEffect } = b;
    const crossCount = crossFrom.length;
    const capacity = b.capacity;
    const overloadPenalty = b.overloadPenalty;
    const driftPerDay = b.driftPerDay;
    const driftMin = b.driftMin;
    const driftMax = b.driftMax;
    for (let n = 0; n < N; n++) {
      const base = n * H;
      // 1. The plan the person sees: the policy's levels, massaged by the coach core.
      for (let h = 0; h < H; h++) adjusted[base + h] = actions[base + h];
      adjustPlan(compiled, planViews[n], emaViews[n], stateRng, adjustOptions);

      // 2. What they do. Overload: each planned habit beyond capacity costs compliance.
      let planned = 0;
      for (let h = 0; h < H; h++) planned += -adjusted[base + h] >>> 31; // levels are ≥ 0
      const over = planned - capacity;
      let overload = over > 0 ? 1 - overloadPenalty * over : 1;
      if (overload < 0) overload = 0;
      const motivation = motivations[n];
      factor[0] = motivation; // unplanned habits
      factor[1] = motivation * overload; // planned habits
      const weekdayRow = weekdays[n] * H;
      for (let h = 0; h < H; h++) {
        const i = base + h;
        const level = adjusted[i];
        const isPlanned = -level >>> 31;
        // chance[2·(weekday·H + h) + planned]: the unplanned rate or the compliance.
        const p = chance[((weekdayRow + h) << 1) | isPlanned] * factor[isPlanned] + boost[i];
        boost[i] = 0; // consumed; tomorrow's boosts are added below
        // One draw from the shared state (the coach core's generator).
        if (sfc32Step(s) * TWO_TO_MINUS_32 < p) {
          // Planned: the planned amount; unplanned: the target (amountTable's level-0 entry).
          let amount = amountTable[levelOffset[h] + level];
          if (isCheck[h] === 0) {
            // Done/planned ratio: uniform with the persona's mean and standard deviation
            // (one draw: mean ± sd·√3), never below 0.
            const ratio =
              amountMean[h] + amountHalfWidth[h] * (2 * (sfc32Step(s) * TWO_TO_MINUS_32) - 1);
            amount = ratio > 0 ? amount * ratio : 0;
          }
          amounts[i] = amount;
        } else amounts[i] = 0;
      }

      // 3. Lagged cross-habit effects on tomorrow's probabilities.
      for (let e = 0; e < crossCount; e++) {
        if (amounts[base + crossFrom[e]] > 0) boost[base + crossTo[e]] += crossEffect[e];
      }

      // 4. Next day; slow drift of motivation.
      const weekday = weekdays[n] === 6 ? 0 : weekdays[n] + 1;
      weekdays[n] = weekday;
      const day = days[n] + 1;
      days[n] = day;
      if (driftPerDay !== 0) {
        let m = motivation * (1 + driftPerDay);
        if (m < driftMin) m = driftMin;
        else if (m > driftMax) m = driftMax;
        motivations[n] = m;
      }

      // 5. EMAs, rewards and the next observation: the coach core's stepEmas, dailyReward,
      // groupRewards and buildObservation, fused (habit-day.ts; proven identical by tests).
      rewards[n] = finishDay(
        tables,
        emas,
        base,
        amounts,
        base,
        groupRewardsOut,
        n * G,
        observations,
        n * O,
        weekday,
      );

      // 6. The year ends by truncation (never by failure); a new person starts.
      terminated[n] = 0;
      if (day >= episodeDays) {
        truncated[n] = 1;
        this.endEpisode(n, out);
      } else truncated[n] = 0;
    }
  }

  /** Truncation: keep the final observation and EMAs, start a new person in row n. */
  private endEpisode(n: number, out: StepBuffers): void {
    const H = this.actionCount;
    const O = this.observationSize;
    const { observations, finalObservations } = out;
    for (let i = n * O; i < (n + 1) * O; i++) finalObservations[i] = observations[i];
    for (let i = n * H; i < (n + 1) * H; i++) this.finalEmas[i] = this.emas[i];
    this.resetPerson(n);
    this.observe(n, out.observations);
  }
}
