/**
 * The population policy of a persona's habit set, open loop, planning as the product plans for a
 * new person: trained with `trainPopulationPolicy` (training seeds as `simulate --seed s` uses:
 * s + 104,729), adopted (acting with the default behaviour's features) and run for 60 days on
 * fresh people whose EMAs start at 0 (as in the closed loop), on the true persona and on the
 * default behaviour, beside the heuristic and the capacity-aware heuristic. Three ways to plan:
 * greedy (the product's: each habit's most likely level), sampled, and "plan or not" (a habit is
 * planned when P(level > 0) > 0.5, at its most likely non-zero level), and the mean number of
 * habits planned a day. Also greedy from the usual evaluation start (EMAs in [0, 1.3], 90 days).
 *
 *   npx tsx bench/population-policy.ts     (JSON lines on stdout)
 *
 * Environment: POP_PERSONA (seed-23), POP_SEEDS (1,2,3: simulate seeds), POP_STEPS (200000),
 * POP_PEOPLE (64), POP_ATTEMPTS (1: each seed's own training; the product tries up to
 * POPULATION_ATTEMPTS until one passes the new-person check).
 */
import os from "node:os";
import { createRng } from "../src/coach/rng.js";
import {
  capacityAwarePlanner,
  evaluatePlanner,
  heuristicPlanner,
  type Planner,
} from "../src/rl/evaluate.js";
import { HabitVectorEnv } from "../src/rl/habit-env.js";
import { defaultBehaviour } from "../src/rl/habit-training.js";
import { loadPersonaFile, type Persona } from "../src/rl/persona.js";
import { type HabitPolicy, loadPolicy } from "../src/rl/policy.js";
import { evaluateNetwork } from "../src/rl/policy-network.js";
import { populationCheckpointFor, trainPopulationPolicy } from "../src/rl/population.js";
import { createStepBuffers } from "../src/rl/vector-env.js";

const NAME = process.env.POP_PERSONA ?? "seed-23";
const SEEDS = (process.env.POP_SEEDS ?? "1,2,3").split(",").map(Number);
const STEPS = Number(process.env.POP_STEPS ?? 200_000);
const PEOPLE = Number(process.env.POP_PEOPLE ?? 64);
const ATTEMPTS = Number(process.env.POP_ATTEMPTS ?? 1);
const round = (x: number) => Math.round(x * 10_000) / 10_000;

const truth = await loadPersonaFile(`personas/${NAME}.json`);
const byDefault: Persona = { ...truth, behaviour: defaultBehaviour(truth.habits) };
const H = truth.habits.length;

/** New people (EMAs 0) for 60 days: mean reward of day 1, days 1–30, 31–60; habits planned a day. */
function newPeople(persona: Persona, planner: Planner) {
  const env = new HabitVectorEnv(persona, {
    numEnvs: PEOPLE,
    seed: 999,
    episodeDays: 61,
    initialEmaMax: 0,
  });
  const obs = new Float32Array(PEOPLE * env.observationSize);
  const actions = new Int32Array(PEOPLE * H);
  const buffers = createStepBuffers(env);
  env.reset(obs);
  const sums = { day1: 0, first30: 0, next30: 0, planned: 0 };
  for (let d = 0; d < 60; d++) {
    planner(env, obs, actions);
    for (const a of actions) if (a > 0) sums.planned++;
    env.step(actions, buffers);
    for (const r of buffers.rewards) {
      if (d === 0) sums.day1 += r;
      if (d < 30) sums.first30 += r;
      else sums.next30 += r;
    }
    obs.set(buffers.observations);
  }
  return {
    day1: round(sums.day1 / PEOPLE),
    days1to30: round(sums.first30 / (30 * PEOPLE)),
    days31to60: round(sums.next30 / (30 * PEOPLE)),
    plannedPerDay: round(sums.planned / (60 * PEOPLE)),
  };
}

const greedy =
  (policy: HabitPolicy): Planner =>
  (env, obs, actions) => {
    policy.planBatch(obs, env.numEnvs, actions);
  };
const sampled = (policy: HabitPolicy): Planner => {
  const rng = createRng(7);
  return (env, obs, actions) => {
    policy.planBatch(obs, env.numEnvs, actions, { greedy: false, rng });
  };
};
/** Plan or not: P(level > 0) > 0.5 plans the habit, at its most likely non-zero level. */
const planOrNot =
  (policy: HabitPolicy): Planner =>
  (env, obs, actions) => {
    const rows = env.numEnvs;
    const { logits } = evaluateNetwork(policy.network, policy.networkInput(obs, rows), rows);
    const L = policy.network.levels;
    const count = policy.network.spec.levelCount;
    for (let i = 0; i < rows * H; i++) {
      const base = i * L;
      let max = -Infinity;
      for (let l = 0; l < count[i % H]; l++) max = Math.max(max, logits[base + l]);
      let total = 0;
      let best = 1;
      for (let l = 0; l < count[i % H]; l++) {
        total += Math.exp(logits[base + l] - max);
        if (l > 0 && logits[base + l] > logits[base + best]) best = l;
      }
      actions[i] = Math.exp(logits[base] - max) / total >= 0.5 ? 0 : best;
    }
  };

const out = (row: object) => process.stdout.write(`${JSON.stringify(row)}\n`);
const k = Math.min(H, Math.max(1, Math.round(truth.behaviour.capacity)));
out({
  persona: NAME,
  heuristic: {
    truth: newPeople(truth, heuristicPlanner()),
    default: newPeople(byDefault, heuristicPlanner()),
  },
  capacityAware: { k, truth: newPeople(truth, capacityAwarePlanner(k)) },
  load: os.loadavg().map(round),
});
for (const seed of SEEDS) {
  const t0 = performance.now();
  const bytes = await trainPopulationPolicy({
    habits: truth.habits,
    steps: STEPS,
    seed: seed + 104_729,
    attempts: ATTEMPTS,
  });
  const seconds = (performance.now() - t0) / 1000;
  const policy = await loadPolicy(populationCheckpointFor(bytes, truth.habits), {
    habits: truth.habits,
  });
  const evaluation = { seed: 12345, episodes: PEOPLE, days: 90 };
  out({
    persona: NAME,
    seed,
    trainingSeed: seed + 104_729,
    steps: STEPS,
    seconds: Math.round(seconds),
    // which training was kept and its new-person check (default behaviour, all EMAs 0)
    attempt: policy.training?.attempt ?? null,
    newPersonCheck: policy.training?.newPersonCheck ?? null,
    greedy: {
      truth: newPeople(truth, greedy(policy)),
      default: newPeople(byDefault, greedy(policy)),
    },
    sampled: { truth: newPeople(truth, sampled(policy)) },
    planOrNot: { truth: newPeople(truth, planOrNot(policy)) },
    greedyUsualStart: {
      truth: round(evaluatePlanner(truth, greedy(policy), evaluation).meanReward),
      default: round(evaluatePlanner(byDefault, greedy(policy), evaluation).meanReward),
      heuristicDefault: round(
        evaluatePlanner(byDefault, heuristicPlanner(), evaluation).meanReward,
      ),
    },
    load: os.loadavg().map(round),
  });
  policy.dispose();
}
