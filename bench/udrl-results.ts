/**
 * UDRL beside PPO on the shipped personas at equal simulated days: for every persona and seed,
 * trains UDRL and PPO (HABIT_PPO) for the same number of steps (person-days), evaluates each
 * learning curve every EVAL_EVERY steps against the heuristic on the same fresh people, and
 * reports the final mean daily reward (32 people × 365 days, seed 12345, greedy plans), the
 * first step count at which each algorithm beat the heuristic, and UDRL's three intensities.
 * Prints JSON on stdout, progress on stderr (docs/rl-results.md, "UDRL beside PPO").
 *
 *   UDRL_PERSONAS=steady,overloaded UDRL_STEPS=100000 UDRL_SEEDS=1,2 nice -n 10 npx tsx bench/udrl-results.ts
 *   (UDRL_EVAL_EVERY=20000, UDRL_CURVE_EPISODES=16: the curve's evaluation is smaller)
 */
import os from "node:os";
import { pairedComparison } from "../src/app/training/training-policy.js";
import { createRng } from "../src/coach/rng.js";
import { initBackend } from "../src/rl/backend.js";
import {
  evaluatePlanner,
  heuristicPlanner,
  type Planner,
  policyPlanner,
  randomPlanner,
} from "../src/rl/evaluate.js";
import { HabitVectorEnv } from "../src/rl/habit-env.js";
import { HABIT_NUM_ENVS, HABIT_PPO } from "../src/rl/habit-training.js";
import { loadPersonaFile, type Persona } from "../src/rl/persona.js";
import { policyFromNetwork } from "../src/rl/policy.js";
import { trainPpo } from "../src/rl/ppo.js";
import { deriveSeed } from "../src/rl/random.js";
import { trainUdrlOnPersona, udrlPlanner } from "../src/rl/udrl-policy.js";

const PERSONAS = (
  process.env.UDRL_PERSONAS ?? "steady,overloaded,weekday,cross-effects,seed-23"
).split(",");
const STEPS = Number(process.env.UDRL_STEPS ?? 100_000);
const SEEDS = (process.env.UDRL_SEEDS ?? "1").split(",").map(Number);
const EVAL_EVERY = Number(process.env.UDRL_EVAL_EVERY ?? 20_000);
const CURVE = { seed: 54321, episodes: Number(process.env.UDRL_CURVE_EPISODES ?? 16), days: 365 };
const EVAL = { seed: 12345, episodes: 32, days: 365 };

const backend = await initBackend();
const loadStart = os.loadavg()[0];
const log = (x: unknown) => process.stderr.write(`${JSON.stringify(x)}\n`);

/** Records (steps, reward) every EVAL_EVERY steps and the first step count beating the heuristic. */
function curve(persona: Persona, heuristic: number) {
  const points: { steps: number; meanReward: number }[] = [];
  let next = EVAL_EVERY;
  return {
    points,
    maybe(steps: number, planner: () => Planner) {
      if (steps < next) return;
      next = steps + EVAL_EVERY;
      points.push({ steps, meanReward: evaluatePlanner(persona, planner(), CURVE).meanReward });
    },
    firstBeat: () => points.find((p) => p.meanReward > heuristic)?.steps ?? null,
  };
}

const rows = [];
for (const name of PERSONAS) {
  const persona = await loadPersonaFile(`personas/${name}.json`);
  const heuristic = evaluatePlanner(persona, heuristicPlanner(), EVAL);
  const random = evaluatePlanner(persona, randomPlanner(1), EVAL);
  const heuristicOnCurve = evaluatePlanner(persona, heuristicPlanner(), CURVE).meanReward;
  for (const seed of SEEDS) {
    // UDRL
    const udrlCurve = curve(persona, heuristicOnCurve);
    const udrlStart = performance.now();
    const { policy } = await trainUdrlOnPersona(persona, {
      steps: STEPS,
      seed,
      onPolicy: (p, current) => udrlCurve.maybe(p.steps, () => udrlPlanner(current)),
    });
    const udrlSeconds = (performance.now() - udrlStart) / 1000;
    const udrlEvaluations = Object.fromEntries(
      (["easy", "normal", "push"] as const).map((intensity) => [
        intensity,
        evaluatePlanner(persona, udrlPlanner(policy, { intensity }), EVAL),
      ]),
    );
    const udrlNormal = udrlEvaluations.normal;
    const udrl = Object.fromEntries(
      Object.entries(udrlEvaluations).map(([intensity, e]) => [intensity, e.meanReward]),
    );
    const intensityRewards = policy.intensity;
    policy.dispose();
    // PPO at the same number of simulated days
    const ppoCurve = curve(persona, heuristicOnCurve);
    const env = new HabitVectorEnv(persona, {
      numEnvs: HABIT_NUM_ENVS,
      seed: deriveSeed(seed, "env"),
    });
    const config = { ...HABIT_PPO, totalSteps: STEPS };
    const ppoStart = performance.now();
    const { network, summary } = await trainPpo({
      env,
      spec: env.policySpec,
      config,
      rng: createRng(deriveSeed(seed, "ppo")),
      onUpdate: (p, net) => {
        ppoCurve.maybe(p.steps, () =>
          policyPlanner(policyFromNetwork(net, env.spec, config, null)),
        );
        return undefined;
      },
    });
    const ppoSeconds = (performance.now() - ppoStart) / 1000;
    const ppoPolicy = policyFromNetwork(network, env.spec, config, summary as never);
    const ppo = evaluatePlanner(persona, policyPlanner(ppoPolicy), EVAL).meanReward;
    ppoPolicy.dispose();
    const udrlVersusHeuristic = pairedComparison(udrlNormal.perEpisode, heuristic.perEpisode);
    const row = {
      persona: name,
      seed,
      steps: STEPS,
      random: random.meanReward,
      heuristic: heuristic.meanReward,
      heuristicCi95: heuristic.ci95,
      udrl,
      udrlIntensityRewards: intensityRewards,
      udrlVersusHeuristic,
      udrlSeconds,
      udrlFirstBeatsHeuristicAt: udrlCurve.firstBeat(),
      udrlCurve: udrlCurve.points,
      ppo,
      ppoSeconds,
      ppoFirstBeatsHeuristicAt: ppoCurve.firstBeat(),
      ppoCurve: ppoCurve.points,
    };
    log(row);
    rows.push(row);
  }
}
console.log(
  JSON.stringify(
    {
      backend: backend.backend,
      steps: STEPS,
      seeds: SEEDS,
      evaluation: EVAL,
      curveEvaluation: CURVE,
      loadAverage: { start: loadStart, end: os.loadavg()[0] },
      rows,
    },
    null,
    2,
  ),
);
