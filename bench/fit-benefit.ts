/**
 * Does training on a behaviour fitted to 90 days of history give better plans for the real
 * person than training on the default behaviour (the claim behind the nightly retrain)?
 *
 * For each shipped persona taken as the "true person":
 *   1. live HISTORY_DAYS days of that person under the coach's heuristic plans (the situation
 *      before any policy exists) in the batched environment, and turn them into fitBehaviour's
 *      input as src/db/history.ts + src/bot/retrain.ts would: per day the weekday, the stored
 *      plan (the plan after the coach core's adjustPlan: amount per habit, 0 = not planned) and
 *      the amount done per habit;
 *   2. build two training personas with the true person's habits: the default behaviour (what
 *      the retrain used before) and the fitted behaviour (plus, as an upper bound, the true
 *      behaviour itself);
 *   3. train one PPO policy on each (same seed, same steps; HABIT_PPO as the bot uses it) and
 *      evaluate them and the heuristic on the TRUE persona with common seeds.
 * Replicate r (FIT_FIRST_SEED … FIT_FIRST_SEED + FIT_SEEDS − 1, default 1 … 3) uses history
 * seed r and training seed r, so the spread over replicates holds both the fit noise (which 90
 * days the person happened to live) and the training noise. Same seed ⇒ same default-arm and
 * truth-arm policy, so runs with other FIT_HISTORY_PEOPLE can be compared replicate by replicate.
 *
 *   npx tsx bench/fit-benefit.ts > fit.json          (JSON on stdout, progress on stderr)
 *
 * Environment: FIT_PERSONAS (default steady,overloaded,weekday,cross-effects,seed-23),
 * FIT_STEPS (200000, the bot's RETRAIN_STEPS default), FIT_SEEDS (3), FIT_FIRST_SEED (1),
 * FIT_HISTORY_PEOPLE (1: one person's history, as the bot has; more pools several simulated
 * people's 90 days, to separate fit noise from what the fit cannot see),
 * FIT_EPISODES (32), FIT_DAYS (365), FIT_ORACLE (1: also train on the true behaviour; 0: skip),
 * FIT_BASELINE ("default": the arm compared with is the default behaviour; "flat": the fit without
 * per-habit weekday factors and cross-effects, fitBehaviour's `structure: false`, to measure them;
 * the JSON's `baseline` names it and its numbers stay under "default").
 */
import os from "node:os";
import { HISTORY_WINDOW_DAYS } from "../src/app/training/training-policy.js";
import { initBackend } from "../src/rl/backend.js";
import {
  type EvaluationResult,
  evaluatePlanner,
  heuristicPlanner,
  policyPlanner,
} from "../src/rl/evaluate.js";
import { type FitQuality, fitBehaviour, type HistoryDay } from "../src/rl/fit-behaviour.js";
import { HabitVectorEnv } from "../src/rl/habit-env.js";
import { defaultBehaviour, HABIT_PPO, trainOnPersona } from "../src/rl/habit-training.js";
import { loadPersonaFile, type Persona, type PersonaBehaviour } from "../src/rl/persona.js";
import { deriveSeed } from "../src/rl/random.js";
import { createStepBuffers } from "../src/rl/vector-env.js";

const PERSONAS = (
  process.env.FIT_PERSONAS ?? "steady,overloaded,weekday,cross-effects,seed-23"
).split(",");
const STEPS = Number(process.env.FIT_STEPS ?? 200_000);
const SEEDS = Number(process.env.FIT_SEEDS ?? 3);
const FIRST_SEED = Number(process.env.FIT_FIRST_SEED ?? 1);
const HISTORY_PEOPLE = Number(process.env.FIT_HISTORY_PEOPLE ?? 1);
const HISTORY_DAYS = HISTORY_WINDOW_DAYS; // loadHistory's window (90 complete days)
const ORACLE = (process.env.FIT_ORACLE ?? "1") !== "0";
const BASELINE = process.env.FIT_BASELINE === "flat" ? "flat" : "default";
const EVAL = {
  seed: 12345,
  episodes: Number(process.env.FIT_EPISODES ?? 32),
  days: Number(process.env.FIT_DAYS ?? 365),
};

const log = (message: string) => process.stderr.write(`${message}\n`);
const round = (x: number, digits = 4) => Number(x.toFixed(digits));
const loadAverage = () => os.loadavg().map((x) => round(x, 2));

/**
 * `people` simulated people living `days` days of `persona` under the heuristic's plans, as the
 * history the retrain would load: the days of person 0, then person 1, … Every simulated day
 * has a stored plan (the heuristic plans every day), so loadHistory's window starts on day 1.
 */
function heuristicHistory(persona: Persona, days: number, seed: number, people: number) {
  const env = new HabitVectorEnv(persona, {
    numEnvs: people,
    seed: deriveSeed(seed, "fit-history"),
    episodeDays: days + 1, // no reset inside the window
  });
  const H = env.actionCount;
  env.reset(new Float32Array(people * env.observationSize));
  const buffers = createStepBuffers(env);
  const actions = new Int32Array(people * H);
  const perPerson: HistoryDay[][] = Array.from({ length: people }, () => []);
  for (let d = 0; d < days; d++) {
    const weekdays = Array.from(env.weekday); // the weekday of the day being planned
    env.heuristicActions(actions);
    env.step(actions, buffers);
    for (let n = 0; n < people; n++) {
      // The stored plan is the one the person saw (after adjustPlan); loadHistory keys both
      // records by habit id and fitBehaviour counts amounts > 0 as planned / done.
      const planned: Record<string, number> = {};
      const done: Record<string, number> = {};
      persona.habits.forEach((h, i) => {
        const amount = h.levels[env.adjustedPlan[n * H + i]];
        if (amount > 0) planned[h.id] = amount;
        const did = env.doneAmounts[n * H + i];
        if (did > 0) done[h.id] = did;
      });
      perPerson[n].push({ weekday: weekdays[n], planned, done });
    }
  }
  return perPerson.flat();
}

/** Compact view of a behaviour for the report (truth vs fit). */
function describe(persona: Persona, b: PersonaBehaviour) {
  const habits = persona.habits.map((h) => {
    const hb = b.habits[h.id];
    return {
      id: h.id,
      compliance: round(hb.compliance, 3),
      unplannedRate: round(hb.unplannedRate, 3),
      amountMean: round(hb.amountMean, 3),
      amountSd: round(hb.amountSd, 3),
      ...(hb.weekdayFactors ? { weekdayFactors: hb.weekdayFactors } : {}),
    };
  });
  return {
    capacity: b.capacity,
    overloadPenalty: round(b.overloadPenalty, 3),
    weekdayFactors: (b.weekdayFactors ?? [1, 1, 1, 1, 1, 1, 1]).map((x) => round(x, 3)),
    drift: b.drift,
    crossEffects: b.crossEffects,
    habits,
  };
}

interface ArmResult {
  meanReward: number;
  ci95: number;
  meanRewardLast90: number;
  trainSeconds: number;
  samplesPerSecond: number;
  steps: number;
}

async function trainAndEvaluate(
  truth: Persona,
  behaviour: PersonaBehaviour,
  seed: number,
  label: string,
): Promise<ArmResult> {
  const persona: Persona = { ...truth, name: `${truth.name}/${label}`, behaviour };
  const start = performance.now();
  const { policy, progress } = await trainOnPersona(persona, { steps: STEPS, seed });
  const trainSeconds = (performance.now() - start) / 1000;
  try {
    const evaluation = evaluatePlanner(truth, policyPlanner(policy), EVAL);
    const last = progress.at(-1);
    return {
      ...summary(evaluation),
      trainSeconds: round(trainSeconds, 1),
      samplesPerSecond: Math.round((last?.steps ?? 0) / trainSeconds),
      steps: last?.steps ?? 0,
    };
  } finally {
    policy.dispose();
  }
}

function summary(r: EvaluationResult) {
  return {
    meanReward: round(r.meanReward),
    ci95: round(r.ci95),
    meanRewardLast90: round(r.meanRewardLast90),
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Sample standard deviation (0 for one value). */
const sd = (xs: number[]) => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
};

interface Replicate {
  seed: number;
  fit: { quality: FitQuality; behaviour: ReturnType<typeof describe> };
  default: ArmResult;
  fitted: ArmResult;
  truth: ArmResult | null;
  /** fitted − default on the true persona (same evaluation people). */
  difference: number;
}

async function main() {
  const started = new Date();
  const t0 = performance.now();
  const loadStart = loadAverage();
  const backend = await initBackend();
  log(
    `fit-benefit: personas ${PERSONAS.join(", ")}; ${STEPS} steps; seeds ${FIRST_SEED}..${FIRST_SEED + SEEDS - 1}; ` +
      `history ${HISTORY_PEOPLE} × ${HISTORY_DAYS} days; backend ${backend.backend}; load ${loadStart.join(", ")}`,
  );
  const rows = [];
  for (const name of PERSONAS) {
    const truth = await loadPersonaFile(`personas/${name}.json`);
    const personaStart = performance.now();
    const heuristic = summary(evaluatePlanner(truth, heuristicPlanner(), EVAL));
    log(`${name}: heuristic ${heuristic.meanReward} ± ${heuristic.ci95}`);
    const replicates: Replicate[] = [];
    for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
      const history = heuristicHistory(truth, HISTORY_DAYS, seed, HISTORY_PEOPLE);
      const fit = fitBehaviour(truth.habits, history);
      const fitted = await trainAndEvaluate(truth, fit.behaviour, seed, "fitted");
      const base =
        BASELINE === "flat"
          ? fitBehaviour(truth.habits, history, { structure: false }).behaviour
          : defaultBehaviour(truth.habits);
      const dflt = await trainAndEvaluate(truth, base, seed, BASELINE);
      const oracle = ORACLE ? await trainAndEvaluate(truth, truth.behaviour, seed, "truth") : null;
      const difference = round(fitted.meanReward - dflt.meanReward);
      log(
        `${name} seed ${seed}: ${BASELINE} ${dflt.meanReward} ± ${dflt.ci95}, fitted ${fitted.meanReward} ± ${fitted.ci95}` +
          `${oracle ? `, truth ${oracle.meanReward} ± ${oracle.ci95}` : ""}; fitted − default ${difference}` +
          ` (capacity ${fit.quality.capacity}, gain ${round(fit.quality.capacityGain, 1)} nats;` +
          ` train ${dflt.trainSeconds}+${fitted.trainSeconds}${oracle ? `+${oracle.trainSeconds}` : ""} s; load ${loadAverage().join(", ")})`,
      );
      replicates.push({
        seed,
        fit: { quality: fit.quality, behaviour: describe(truth, fit.behaviour) },
        default: dflt,
        fitted,
        truth: oracle,
        difference,
      });
    }
    const arm = (pick: (r: Replicate) => ArmResult | null) => {
      const xs = replicates.map(pick).filter((x): x is ArmResult => x !== null);
      if (xs.length === 0) return null;
      const values = xs.map((x) => x.meanReward);
      return {
        mean: round(mean(values)),
        sd: round(sd(values)),
        min: round(Math.min(...values)),
        max: round(Math.max(...values)),
        meanCi95: round(mean(xs.map((x) => x.ci95))),
      };
    };
    const diffs = replicates.map((r) => r.difference);
    rows.push({
      persona: name,
      habits: truth.habits.length,
      heuristic,
      default: arm((r) => r.default),
      fitted: arm((r) => r.fitted),
      truth: arm((r) => r.truth),
      difference: {
        mean: round(mean(diffs)),
        sd: round(sd(diffs)),
        min: round(Math.min(...diffs)),
        max: round(Math.max(...diffs)),
        positive: diffs.filter((d) => d > 0).length,
      },
      trueBehaviour: describe(truth, truth.behaviour),
      replicates,
      wallSeconds: round((performance.now() - personaStart) / 1000, 1),
      loadAverageEnd: loadAverage(),
    });
    log(`${name}: done in ${rows.at(-1)?.wallSeconds} s`);
  }
  const output = {
    started: started.toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    backend: backend.backend,
    steps: STEPS,
    baseline: BASELINE,
    seeds: Array.from({ length: SEEDS }, (_, i) => FIRST_SEED + i),
    history: { people: HISTORY_PEOPLE, days: HISTORY_DAYS, planner: "heuristic" },
    evaluation: EVAL,
    ppo: { ...HABIT_PPO, totalSteps: STEPS },
    loadAverage: { start: loadStart, end: loadAverage() },
    wallSeconds: round((performance.now() - t0) / 1000, 1),
    rows,
  };
  process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : error}\n`);
  process.exit(1);
});
