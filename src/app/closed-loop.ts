// The closed loop: the whole product run against simulated people whose persona is their true,
// hidden behaviour. Each morning the product's own planning (todaysPlan: the active policy or the
// heuristic) makes the day's plan, the person acts on it as the persona says (HabitVectorEnv, one
// person), reports in the chat's words through the same use case the bot calls (logReport), and
// each night the product's own retrain runs through the training queue (behaviour fit → training
// → guarded activation) with a controllable clock. The product never sees the persona: it knows
// only what was stored, exactly as with a real person.
//
// Baseline arms live the same people — the same generator streams, so the same days would
// bring the same outcomes for the same plans — without a database: the heuristic, the
// capacity-aware heuristic (the k habits furthest behind), and an oracle (a policy trained long
// on the true persona). They plan with the coach core's planForDay and count EMAs with stepEmas
// from the amounts as they would be reported, which is what the product computes from its log
// (a test checks that the product arm without training equals the heuristic arm day by day).

import type { ExplorationSettings } from "../coach/exploration.js";
import {
  addDays,
  alphaFromSpan,
  capacityAwarePlan,
  compileHabits,
  createRng,
  DEFAULT_EMA_SPAN_DAYS,
  dailyReward,
  type HabitSpec,
  type LocalDate,
  planForDay,
  stepEmas,
  weekdayOf,
} from "../coach/index.js";
import { countExploratoryPlans } from "../db/plans.js";
import { trainingRunById } from "../db/training-queue.js";
import type { User } from "../generated/prisma/client.js";
import { type CheckpointHeader, decodeCheckpoint } from "../rl/checkpoint.js";
import type { CoachAlgorithm } from "../rl/coach-policy.js";
import { HabitVectorEnv } from "../rl/habit-env.js";
import { trainOnPersona } from "../rl/habit-training.js";
import type { Persona } from "../rl/persona.js";
import type { HabitPolicy } from "../rl/policy.js";
import { trainUdrlOnPersona, type UdrlHabitPolicy } from "../rl/udrl-policy.js";
import { createStepBuffers, type StepBuffers } from "../rl/vector-env.js";
import { setCoachAlgorithm } from "./coach-algorithm.js";
import { loadCoachState, todayOf } from "./coach-state.js";
import type { AppDeps } from "./deps.js";
import { registerPerson } from "./people.js";
import { planSeed, todaysPlan } from "./planning.js";
import {
  activePolicyPlanners,
  choosePolicyLevels,
  chooseUdrlLevels,
  type PolicyPlannerLoader,
} from "./policy-planner.js";
import {
  habitsOf,
  hash32,
  momentOn,
  personaOnStoredHabits,
  reportedAmount,
  reportSimulatedDay,
  simulatedTelegramId,
} from "./simulated-people.js";
import { createInProcessQueue } from "./training/in-process-queue.js";
import { nightlyRetrainKey } from "./training/nightly.js";
import {
  adoptPopulationPolicy,
  populationPolicy,
  workerThreadPopulationTrainer,
} from "./training/population.js";
import {
  type RetrainOutcome,
  type RetrainRunner,
  recordedOutcome,
  workerThreadRunner,
} from "./training/retrain.js";
import { trainAndEvaluate } from "./training/retrain-job.js";
import { continuedCandidate } from "./training/training-policy.js";

export const ARM_NAMES = ["product", "heuristic", "capacity-aware", "oracle", "udrl"] as const;
export type ArmName = (typeof ARM_NAMES)[number];
/**
 * The arms run when none are named: all but "udrl" (a UDRL coach trained on the true persona,
 * planning under the "normal" command; opt in with arms, it trains much slower than PPO).
 */
export const DEFAULT_ARMS: readonly ArmName[] = [
  "product",
  "heuristic",
  "capacity-aware",
  "oracle",
];

/** Hours (local) of the simulated person's morning plan and of the night's retrain (next day). */
const PLAN_HOUR = 7;
const PLAN_MINUTE = 30;
const RETRAIN_HOUR = 5;

export interface ClosedLoopOptions {
  people: number;
  days: number;
  seed: number;
  /** PPO steps of each nightly retrain (default the configuration's RETRAIN_STEPS). */
  stepsPerNight?: number;
  /** Evaluation before activation, per retrain (default: the configuration's). */
  evalEpisodes?: number;
  evalDays?: number;
  /** Which arms to run (default DEFAULT_ARMS). */
  arms?: readonly ArmName[];
  /** PPO steps of the oracle, trained on the true persona (default 400,000). */
  oracleSteps?: number;
  /** UDRL steps of the "udrl" arm, trained on the true persona (default 200,000). */
  udrlSteps?: number;
  /** Habits a day for the capacity-aware heuristic (default the persona's capacity, rounded). */
  capacityK?: number;
  /** false: no nightly retrain (the product plans with whatever it starts with). */
  retrain?: boolean;
  /**
   * The product's people's coach: "ppo" (default) or "udrl" — their nightly retrains train UDRL
   * on the fitted behaviour plus their own logged days (src/rl/udrl-history.ts).
   */
  coachAlgorithm?: CoachAlgorithm;
  /** false: each night trains from scratch instead of from the active policy. */
  warmStart?: boolean;
  /**
   * Which policy a warm start continues (default the configuration's RETRAIN_WARM_START_FROM;
   * see warmStartFrom).
   */
  warmStartFrom?: "line" | "active";
  /**
   * PPO steps of the habit set's population policy, trained (or found stored) before day 1 and
   * adopted by the product's people; null: none (the product starts with the heuristic).
   */
  populationSteps?: number | null;
  /**
   * Controlled exploration of the product's plans (src/coach/exploration.ts); default the
   * configuration's (PLAN_EXPLORATION_PROBABILITY, off unless set).
   */
  exploration?: ExplorationSettings;
  /**
   * Retrains of a night at a time (default 1): with more, each trains in its own worker thread
   * (the product's runner), so a night of several people uses several cores, and the population
   * policy trains in one while the oracle trains in this thread. The results do not depend on
   * it: every retrain's seed is its run id, queued in the same order.
   */
  workers?: number;
  /**
   * How a retrain trains (default: in this thread, the product's trainAndEvaluate; in a worker
   * thread when `workers` > 1).
   */
  runner?: RetrainRunner;
  /** Called after each simulated day with the mean reward of each arm that day. */
  onDay?: (day: number, rewards: Partial<Record<ArmName, number>>) => void;
  onRetrain?: (night: number, outcome: RetrainOutcome) => void;
}

export interface ArmResult {
  name: ArmName;
  /** mean reward over the people, per day (index 0 = day 1) */
  meanDaily: number[];
  /** reward per person and day */
  perPerson: number[][];
}

export interface NightSummary {
  night: number;
  runs: number;
  activated: number;
  failed: number;
  /** mean CPU-seconds of training per retrain (the training thread's clock) */
  trainingCpuSeconds: number | null;
  /** people whose plan tomorrow comes from a policy */
  withPolicy: number;
  /** runs whose training continued a candidate that was not active (the training line) */
  fromCandidate: number;
}

export interface ClosedLoopResult {
  persona: string;
  people: number;
  days: number;
  seed: number;
  stepsPerNight: number;
  /** what each night's warm start continued ("line" or "active"); null: from scratch every night */
  warmStartFrom: "line" | "active" | null;
  /** the learning algorithm of the product's nightly retrains */
  coachAlgorithm: CoachAlgorithm;
  capacityK: number;
  oracleSteps: number;
  /** UDRL steps of the "udrl" arm (0 when not run) */
  udrlSteps: number;
  arms: ArmResult[];
  /** the product's plan exploration: its settings and how many of its plans explored */
  exploration: { probability: number; maxCost: number; exploratoryPlans: number; plans: number };
  /**
   * Reports of the product's people the product refused (habit name → days), over the run: a
   * lost report lowers the product's reward against arms that count in memory, so it must be 0
   */
  unreported: Record<string, number>;
  /** the population policy the product started from (null: none) */
  population: {
    modelId: number;
    trained: boolean;
    seconds: number;
    steps: number;
    /** which training was kept (1-based) and its new-person check (src/rl/population.ts) */
    attempt: number | null;
    newPersonCheck: NonNullable<CheckpointHeader["training"]>["newPersonCheck"] | null;
  } | null;
  nights: NightSummary[];
  /** the day from which the product's 7-day mean reward stays above the heuristic's; null: never */
  productBeatsHeuristicFromDay: number | null;
  /** product ÷ oracle mean reward over days 1–30, 31–60, 61–90 (null when not simulated) */
  oracleFraction: {
    days1to30: number | null;
    days31to60: number | null;
    days61to90: number | null;
  };
  /** mean reward per arm over days 31–60 (the yardstick) */
  meanDays31to60: Partial<Record<ArmName, number>>;
  seconds: number;
}

/** One simulated person's true behaviour: an environment of one person (their random stream). */
function personEnv(persona: Persona, seed: number, index: number, days: number, first: LocalDate) {
  const env = new HabitVectorEnv(persona, {
    numEnvs: 1,
    seed: hash32(`${persona.name}\u0000closed-loop\u0000${seed}\u0000${index}`),
    episodeDays: days + 1,
  });
  const buffers = createStepBuffers(env);
  env.reset(buffers.observations);
  env.weekday[0] = weekdayOf(first);
  return { env, buffers };
}

/** Level choice of a baseline arm for one person-day (habit order), or undefined: heuristic. */
type BaselinePlanner = (
  habits: HabitSpec[],
  emas: Float64Array,
  day: LocalDate,
) => ArrayLike<number> | undefined;

function capacityAwarePlanner(habits: HabitSpec[], k: number): BaselinePlanner {
  const compiled = compileHabits(habits);
  return (_habits, emas) => capacityAwarePlan(compiled, emas, k);
}

/** The "udrl" arm: a UDRL coach under the "normal" command, as the product would plan with it. */
function udrlArmPlanner(policy: UdrlHabitPolicy, personaHabits: HabitSpec[]): BaselinePlanner {
  return (_habits, emas, day) => {
    const byId = Object.fromEntries(personaHabits.map((h, i) => [h.id, emas[i]]));
    return chooseUdrlLevels(policy, personaHabits, byId, day).policyLevels;
  };
}

function oraclePlanner(policy: HabitPolicy, personaHabits: HabitSpec[]): BaselinePlanner {
  return (_habits, emas, day) => {
    const byId = Object.fromEntries(personaHabits.map((h, i) => [h.id, emas[i]]));
    return choosePolicyLevels(policy, personaHabits, byId, day).policyLevels;
  };
}

/** A person of a baseline arm: EMAs counted in memory from what they would report. */
class BaselinePerson {
  readonly emas: Float64Array;
  readonly rewards: number[] = [];
  private readonly compiled;
  private readonly amounts: Float64Array;
  private readonly alpha = alphaFromSpan(DEFAULT_EMA_SPAN_DAYS);

  constructor(
    private readonly habits: HabitSpec[],
    private readonly sim: { env: HabitVectorEnv; buffers: StepBuffers },
    private readonly planner: BaselinePlanner | null,
    private readonly planSeedId: number,
    private readonly capacityMinutes: number | null,
  ) {
    this.compiled = compileHabits(habits);
    this.emas = new Float64Array(habits.length);
    this.amounts = new Float64Array(habits.length);
  }

  live(day: LocalDate): void {
    const emasById = Object.fromEntries(this.habits.map((h, i) => [h.id, this.emas[i]]));
    const levels = this.planner?.(this.habits, this.emas, day);
    const plan = planForDay(this.habits, emasById, createRng(planSeed(this.planSeedId, day)), {
      capacityMinutes: this.capacityMinutes ?? undefined,
      policyLevels: levels,
      compiled: this.compiled,
    });
    const actions = Int32Array.from(plan, (p) => p.level);
    this.sim.env.step(actions, this.sim.buffers);
    this.habits.forEach((spec, h) => {
      this.amounts[h] = reportedAmount(spec, this.sim.env.doneAmounts[h]);
    });
    stepEmas(this.compiled, this.emas, this.amounts, this.alpha);
    this.rewards.push(dailyReward(this.emas));
  }
}

/** A person of the product arm: registered in the database, planned and trained by the product. */
interface ProductPerson {
  person: User;
  habits: HabitSpec[];
  sim: { env: HabitVectorEnv; buffers: StepBuffers };
  rewards: number[];
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function windowMean(xs: number[], from: number, to: number): number | null {
  if (xs.length < to) return null;
  return mean(xs.slice(from - 1, to));
}

/** The first day from which the product's trailing 7-day mean stays above the heuristic's. */
export function daysUntilAhead(product: number[], heuristic: number[], window = 7): number | null {
  const n = Math.min(product.length, heuristic.length);
  let from: number | null = null;
  for (let d = 0; d < n; d++) {
    const lo = Math.max(0, d - window + 1);
    const ahead = mean(product.slice(lo, d + 1)) > mean(heuristic.slice(lo, d + 1));
    if (ahead && from === null) from = d + 1;
    if (!ahead) from = null;
  }
  return from;
}

/** Mean reward per day over people (people × days → days). */
function meanOverPeople(perPerson: number[][]): number[] {
  const days = perPerson[0]?.length ?? 0;
  return Array.from({ length: days }, (_, d) => mean(perPerson.map((r) => r[d])));
}

/** A retrain runner in this thread: the product's own trainAndEvaluate, no worker thread. */
export const inThreadRunner: RetrainRunner = (request, onProgress) =>
  trainAndEvaluate(request, onProgress);

/**
 * Runs the closed loop over `days` simulated days ending yesterday (real clock), with the people
 * registered now. Needs a database without this persona's simulated people of this seed (a
 * fresh PGlite directory or a Postgres database): a person who already exists is refused.
 */
export async function runClosedLoop(
  deps: Pick<AppDeps, "config" | "db" | "log">,
  persona: Persona,
  options: ClosedLoopOptions,
): Promise<ClosedLoopResult> {
  const started = performance.now();
  const arms = options.arms ?? DEFAULT_ARMS;
  const { people, days, seed } = options;
  if (!Number.isInteger(people) || people < 1)
    throw new RangeError(`people must be ≥ 1, got ${people}`);
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    throw new RangeError(`days must be 1…3650, got ${days}`);
  }
  const capacityK =
    options.capacityK ??
    Math.max(1, Math.min(persona.habits.length, Math.round(persona.behaviour.capacity)));
  const oracleSteps = options.oracleSteps ?? 400_000;
  const stepsPerNight = options.stepsPerNight ?? deps.config.retrainSteps;
  const workers = options.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1) {
    throw new RangeError(`workers must be a whole number ≥ 1, got ${workers}`);
  }
  const warmStart = options.warmStart ?? true;
  const warmStartFrom = options.warmStartFrom ?? deps.config.retrainWarmStartFrom;
  const udrlSteps = options.udrlSteps ?? 200_000;
  let clock = new Date();
  const now = () => clock;
  const config = {
    ...deps.config,
    ...(options.exploration ? { planExploration: options.exploration } : {}),
    // the population policy is trained before day 1 when asked for (below), never on first use:
    // without --population-steps the product starts with the heuristic
    populationPolicySteps: options.populationSteps ?? 0,
  };
  const appDeps = { ...deps, config, now };
  const planners = activePolicyPlanners(deps.db);
  const productLoader: PolicyPlannerLoader = planners.load;
  const queue = createInProcessQueue(
    { ...appDeps },
    {
      runner: options.runner ?? (workers > 1 ? workerThreadRunner : inThreadRunner),
      instance: "closed-loop",
    },
  );
  await queue.work(workers);

  const coachAlgorithm = options.coachAlgorithm ?? "ppo";
  try {
    // The product's people: registered, the persona's habits added through the app.
    const product: ProductPerson[] = [];
    const today = todayOf({ timezone: deps.config.tzDefault, dayStartHour: 4 }, clock);
    const firstDay = addDays(today, -days - 1);
    for (let index = 0; index < people; index++) {
      const telegramId = simulatedTelegramId(`${persona.name}\u0000closed-loop`, seed, index);
      const { person, created } = await registerPerson(appDeps, {
        telegramId,
        chatId: telegramId,
        displayName: `${persona.name} #${index + 1} (closed loop, seed ${seed})`,
      });
      if (!created) {
        throw new Error(
          `simulated person ${telegramId} already exists: run the closed loop on a fresh database or with another --seed`,
        );
      }
      if (coachAlgorithm !== "ppo") await setCoachAlgorithm(appDeps, [person], coachAlgorithm);
      const stored = await habitsOf(appDeps, person, persona);
      const specs = (await loadCoachState(deps.db, person, clock)).specs;
      const habits = stored.map((h) => specs.find((s) => s.id === String(h.id))!);
      const truth = personaOnStoredHabits(persona, habits, person.capacityMinutes);
      product.push({
        person,
        habits,
        sim: personEnv(truth, seed, index, days, firstDay),
        rewards: [],
      });
    }

    // "At install": the habit set's population policy, adopted by everyone before day 1. With
    // worker threads it trains in one while the oracle trains here: the two are independent
    // (their own seeds), so the results are the same either way.
    const populationSteps = options.populationSteps ?? null;
    const trainPopulation = async (steps: number): Promise<ClosedLoopResult["population"]> => {
      const first = product[0];
      const found = await populationPolicy(deps.db, first.habits, first.person.capacityMinutes, {
        steps,
        seed: seed + 104_729,
        ...(workers > 1 ? { train: workerThreadPopulationTrainer } : {}),
      });
      for (const p of product) await adoptPopulationPolicy(deps.db, p.person);
      const training = decodeCheckpoint(new Uint8Array(found.model.bytes)).header.training;
      return {
        modelId: found.model.id,
        trained: found.trained,
        seconds: found.seconds,
        steps,
        attempt: training?.attempt ?? null,
        newPersonCheck: training?.newPersonCheck ?? null,
      };
    };
    // Baseline arms: the same people (same streams), planned in memory.
    const trainOracle = async () =>
      (await trainOnPersona(persona, { steps: oracleSteps, seed: seed + 7919 })).policy;
    const [populationTrained, oracleTrained] = await Promise.allSettled([
      arms.includes("product") && populationSteps !== null
        ? trainPopulation(populationSteps)
        : null,
      arms.includes("oracle") ? trainOracle() : null,
    ]);
    if (populationTrained.status === "rejected") throw populationTrained.reason;
    if (oracleTrained.status === "rejected") throw oracleTrained.reason;
    const population = populationTrained.value;
    const oracle: HabitPolicy | null = oracleTrained.value;
    let udrl: UdrlHabitPolicy | null = null;
    if (arms.includes("udrl")) {
      udrl = (await trainUdrlOnPersona(persona, { steps: udrlSteps, seed: seed + 7927 })).policy;
    }
    const baselines = new Map<ArmName, BaselinePerson[]>();
    for (const arm of arms) {
      if (arm === "product") continue;
      baselines.set(
        arm,
        product.map((p, index) => {
          const truth = personaOnStoredHabits(persona, p.habits, p.person.capacityMinutes);
          const planner =
            arm === "heuristic"
              ? null
              : arm === "capacity-aware"
                ? capacityAwarePlanner(p.habits, capacityK)
                : arm === "udrl"
                  ? udrlArmPlanner(udrl!, persona.habits)
                  : oraclePlanner(oracle!, persona.habits);
          return new BaselinePerson(
            p.habits,
            personEnv(truth, seed, index, days, firstDay),
            planner,
            p.person.id,
            p.person.capacityMinutes,
          );
        }),
      );
    }

    const nights: NightSummary[] = [];
    const unreported: Record<string, number> = {};
    /** Tells onDay the mean reward of each arm on day `day` (1-based). */
    const report = (day: number) => {
      const rewards: Partial<Record<ArmName, number>> = {};
      for (const [arm, group] of baselines)
        rewards[arm] = mean(group.map((b) => b.rewards[day - 1]));
      if (arms.includes("product")) rewards.product = mean(product.map((p) => p.rewards[day - 1]));
      options.onDay?.(day, rewards);
    };
    for (let d = 0; d < days; d++) {
      const day = addDays(firstDay, d);
      if (arms.includes("product")) {
        for (const p of product) {
          clock = momentOn(p.person, day, PLAN_HOUR, PLAN_MINUTE);
          const { plan, items, state } = await todaysPlan(
            { ...appDeps, loadPolicyPlanner: productLoader },
            p.person,
          );
          if (plan === undefined) throw new Error(`${p.person.displayName} has no active habits`);
          if (d > 0)
            p.rewards.push(dailyReward(p.habits.map((h) => state.emasYesterday[h.id] ?? 0)));
          const actions = Int32Array.from(
            p.habits,
            (spec) => items.find((i) => String(i.habitId) === spec.id)?.level ?? 0,
          );
          p.sim.env.step(actions, p.sim.buffers);
          const reported = await reportSimulatedDay(appDeps, p.person, {
            day,
            plan,
            items,
            habits: p.habits,
            doneAmounts: p.sim.env.doneAmounts,
            tapPlanned: false,
          });
          for (const [name, n] of Object.entries(reported.unreported)) {
            unreported[name] = (unreported[name] ?? 0) + n;
          }
        }
      }
      for (const group of baselines.values()) for (const b of group) b.live(day);
      if (arms.includes("product") && options.retrain !== false) {
        nights.push(await retrainNight(d + 1, addDays(day, 1)));
      }
      // the product's reward of a day is known the morning after (from its own log)
      if (d > 0 || !arms.includes("product")) report(arms.includes("product") ? d : d + 1);
    }
    if (arms.includes("product")) {
      // the last day's reward: the EMAs the product computes the morning after
      for (const p of product) {
        const state = await loadCoachState(
          deps.db,
          p.person,
          momentOn(p.person, addDays(firstDay, days), PLAN_HOUR, PLAN_MINUTE),
        );
        p.rewards.push(dailyReward(p.habits.map((h) => state.emasYesterday[h.id] ?? 0)));
      }
      report(days);
    }

    const results: ArmResult[] = arms.map((name) => {
      const perPerson =
        name === "product"
          ? product.map((p) => p.rewards)
          : baselines.get(name)!.map((b) => b.rewards);
      return { name, perPerson, meanDaily: meanOverPeople(perPerson) };
    });
    const daily = (name: ArmName) => results.find((r) => r.name === name)?.meanDaily;
    const productDaily = daily("product");
    const heuristicDaily = daily("heuristic");
    const oracleDaily = daily("oracle");
    const fraction = (from: number, to: number) => {
      if (!productDaily || !oracleDaily) return null;
      const p = windowMean(productDaily, from, to);
      const o = windowMean(oracleDaily, from, to);
      return p === null || o === null ? null : p / o;
    };
    const meanDays31to60: Partial<Record<ArmName, number>> = {};
    for (const r of results) {
      const m = windowMean(r.meanDaily, 31, 60);
      if (m !== null) meanDays31to60[r.name] = m;
    }
    const productPlans = await countExploratoryPlans(
      deps.db,
      product.map((p) => p.person.id),
    );
    oracle?.dispose();
    udrl?.dispose();
    return {
      persona: persona.name,
      people,
      days,
      seed,
      stepsPerNight,
      warmStartFrom: warmStart ? warmStartFrom : null,
      coachAlgorithm,
      capacityK,
      oracleSteps: arms.includes("oracle") ? oracleSteps : 0,
      udrlSteps: arms.includes("udrl") ? udrlSteps : 0,
      arms: results,
      unreported,
      exploration: {
        ...config.planExploration,
        exploratoryPlans: productPlans.exploratory,
        plans: productPlans.plans,
      },
      population,
      nights,
      productBeatsHeuristicFromDay:
        productDaily && heuristicDaily ? daysUntilAhead(productDaily, heuristicDaily) : null,
      oracleFraction: {
        days1to30: fraction(1, 30),
        days31to60: fraction(31, 60),
        days61to90: fraction(61, 90),
      },
      meanDays31to60,
      seconds: (performance.now() - started) / 1000,
    };

    /** The night after `night` days: one retrain per product person, worked by the queue. */
    async function retrainNight(night: number, morning: LocalDate): Promise<NightSummary> {
      const runIds: number[] = [];
      for (const p of product) {
        clock = momentOn(p.person, morning, RETRAIN_HOUR, 0);
        const queued = await queue.enqueue({
          userId: p.person.id,
          trigger: "nightly",
          key: nightlyRetrainKey(p.person.id, clock),
          steps: stepsPerNight,
          cpuSeconds: null,
          warmStart,
          warmStartFrom,
          ...(options.evalEpisodes ? { evalEpisodes: options.evalEpisodes } : {}),
          ...(options.evalDays ? { evalDays: options.evalDays } : {}),
        });
        runIds.push(queued.runId);
      }
      await queue.whenIdle();
      const summary: NightSummary = {
        night,
        runs: runIds.length,
        activated: 0,
        failed: 0,
        trainingCpuSeconds: null,
        withPolicy: 0,
        fromCandidate: 0,
      };
      const cpu: number[] = [];
      for (const [i, runId] of runIds.entries()) {
        const run = await trainingRunById(deps.db, runId);
        const outcome = run ? recordedOutcome(run, product[i].person.displayName) : null;
        if (outcome === null) continue;
        if (outcome.status === "failed") summary.failed++;
        if (outcome.activated) summary.activated++;
        if (continuedCandidate(outcome.startFrom)) summary.fromCandidate++;
        if (outcome.cost) cpu.push(outcome.cost.trainingCpuSeconds);
        options.onRetrain?.(night, outcome);
      }
      for (const p of product) {
        if ((await productLoader(p.person)) !== undefined) summary.withPolicy++;
      }
      summary.trainingCpuSeconds = cpu.length > 0 ? mean(cpu) : null;
      return summary;
    }
  } finally {
    await queue.stop();
    planners.dispose();
  }
}
