/**
 * REFERENCE for tests: the habit environment as first written, calling the coach core's
 * adjustPlan, stepEmas, dailyReward, groupRewards and buildObservation one person at a time.
 * `src/rl/habit-env.ts` is the fast version; test/rl/habit-env.test.ts checks that both give
 * identical results. Do not optimise this file.
 *
 * Batched habit environment: N simulated people (one persona) lived day by day in lockstep.
 *
 * One day for one person:
 *   plan (level index per habit, from the policy)
 *   → adjustPlan (coach core: exclusive groups, minutes capacity)
 *   → simulate what the person does (persona behaviour model)
 *   → stepEmas (coach core) → dailyReward and groupRewards (coach core)
 *   → next observation via buildObservation (coach core).
 * A coaching year (episodeDays, default 365) ends by truncation, never by failure.
 *
 * All state lives in typed arrays allocated in the constructor; `step` allocates nothing.
 * Every random draw comes from one seeded generator, so a seed replays a run exactly.
 */
import { adjustPlan, type CompiledHabits, compileHabits } from "../../../src/coach/adjust.js";
import {
  alphaFromSpan,
  DEFAULT_EMA_SPAN_DAYS,
  dailyReward,
  groupRewards,
  stepEmas,
} from "../../../src/coach/ema.js";
import {
  buildObservation,
  type ObservationSpec,
  observationSpec,
} from "../../../src/coach/observation.js";
import { heuristicPlan } from "../../../src/coach/planner.js";
import { createRng, type Rng } from "../../../src/coach/rng.js";
import { policySpecFor } from "../../../src/rl/habit-env.js";
import type { Persona } from "../../../src/rl/persona.js";
import type { PolicySpec } from "../../../src/rl/policy-network.js";
import type { StepBuffers, VectorEnv } from "../../../src/rl/vector-env.js";

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
  return {
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

export class ReferenceHabitVectorEnv implements VectorEnv {
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

  private readonly rng: Rng;
  private readonly behaviour: CompiledBehaviour;
  private readonly alpha: number;
  private readonly initialEmaMax: number;
  private readonly motivation: Float64Array;
  private readonly crossBoost: Float64Array;
  private readonly emaViews: Float64Array[];
  private readonly planViews: Int32Array[];
  private readonly amountViews: Float64Array[];
  private readonly groupScratch: Float64Array;
  /** All habits' level amounts in one array; habit h's start at levelOffset[h]. */
  private readonly levelValues: Float64Array;
  private readonly levelOffset: Int32Array;
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
    this.rng = createRng(options.seed);
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
    this.groupScratch = new Float64Array(this.groupCount);
    this.levelOffset = new Int32Array(H);
    for (let h = 1; h < H; h++) {
      this.levelOffset[h] = this.levelOffset[h - 1] + this.compiled.levelCount[h - 1];
    }
    this.levelValues = Float64Array.from(this.compiled.levels.flatMap((l) => Array.from(l)));
    // Per-person views, created once so the hot loop never allocates.
    this.emaViews = Array.from({ length: N }, (_, n) => this.emas.subarray(n * H, (n + 1) * H));
    this.planViews = Array.from({ length: N }, (_, n) =>
      this.adjustedPlan.subarray(n * H, (n + 1) * H),
    );
    this.amountViews = Array.from({ length: N }, (_, n) =>
      this.doneAmounts.subarray(n * H, (n + 1) * H),
    );
  }

  private resetPerson(n: number): void {
    const H = this.actionCount;
    for (let h = 0; h < H; h++) {
      this.emas[n * H + h] = this.rng.next() * this.initialEmaMax;
      this.crossBoost[n * H + h] = 0;
    }
    this.weekday[n] = Math.floor(this.rng.next() * 7);
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
    const H = this.actionCount;
    const G = this.groupCount;
    const b = this.behaviour;
    const rng = this.rng;
    const target = this.compiled.target;
    const adjusted = this.adjustedPlan;
    const amounts = this.doneAmounts;
    const boost = this.crossBoost;
    const levelValues = this.levelValues;
    const levelOffset = this.levelOffset;
    // Behaviour arrays in locals: the loop calls functions, so V8 cannot hoist property loads.
    const { plannedChance, unplannedChance, amountMean, amountHalfWidth, isCheck } = b;
    const { crossFrom, crossTo, crossEffect } = b;
    for (let n = 0; n < this.numEnvs; n++) {
      const base = n * H;
      const emas = this.emaViews[n];
      const plan = this.planViews[n];
      // 1. The plan the person sees: the policy's levels, massaged by the coach core.
      for (let h = 0; h < H; h++) plan[h] = actions[base + h];
      adjustPlan(this.compiled, plan, emas, rng, this.adjustOptions);

      // 2. What they do. Overload: each planned habit beyond capacity costs compliance.
      let planned = 0;
      for (let h = 0; h < H; h++) if (adjusted[base + h] > 0) planned++;
      const over = planned - b.capacity;
      let overload = over > 0 ? 1 - b.overloadPenalty * over : 1;
      if (overload < 0) overload = 0;
      const motivation = this.motivation[n];
      const plannedFactor = motivation * overload;
      const weekdayRow = this.weekday[n] * H;
      for (let h = 0; h < H; h++) {
        const level = adjusted[base + h];
        let p: number;
        let amount: number;
        if (level > 0) {
          p = plannedChance[weekdayRow + h] * plannedFactor + boost[base + h];
          amount = levelValues[levelOffset[h] + level];
        } else {
          p = unplannedChance[weekdayRow + h] * motivation + boost[base + h];
          amount = target[h];
        }
        boost[base + h] = 0; // consumed; tomorrow's boosts are added below
        if (rng.next() < p) {
          if (isCheck[h] === 0) {
            // Done/planned ratio: uniform with the persona's mean and standard deviation
            // (one draw: mean ± sd·√3), never below 0.
            const ratio = amountMean[h] + amountHalfWidth[h] * (2 * rng.next() - 1);
            amount = ratio > 0 ? amount * ratio : 0;
          }
          amounts[base + h] = amount;
        } else amounts[base + h] = 0;
      }

      // 3. Lagged cross-habit effects on tomorrow's probabilities.
      for (let e = 0; e < crossFrom.length; e++) {
        if (amounts[base + crossFrom[e]] > 0) boost[base + crossTo[e]] += crossEffect[e];
      }

      // 4. EMAs and rewards (coach core).
      stepEmas(this.compiled, emas, this.amountViews[n], this.alpha);
      out.rewards[n] = dailyReward(emas);
      groupRewards(emas, this.compiled.actorGroupOf, G, this.groupScratch);
      for (let g = 0; g < G; g++) out.groupRewards[n * G + g] = this.groupScratch[g];

      // 5. Next day; slow drift of motivation; the year ends by truncation.
      this.weekday[n] = (this.weekday[n] + 1) % 7;
      this.day[n] += 1;
      if (b.driftPerDay !== 0) {
        let m = motivation * (1 + b.driftPerDay);
        if (m < b.driftMin) m = b.driftMin;
        else if (m > b.driftMax) m = b.driftMax;
        this.motivation[n] = m;
      }
      out.terminated[n] = 0;
      if (this.day[n] >= this.episodeDays) {
        out.truncated[n] = 1;
        this.observe(n, out.finalObservations);
        this.finalEmas.set(emas, base);
        this.resetPerson(n);
      } else out.truncated[n] = 0;
      this.observe(n, out.observations);
    }
  }
}
