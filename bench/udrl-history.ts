/**
 * Does a person's own logged days help a UDRL coach trained on a behaviour other than theirs?
 * The true person: persona P; training: the same habits with the default behaviour (no fit),
 * with and without one true person's 90 logged days under the heuristic (stored plan = the
 * adjusted plan, done = what the simulator did), pinned as episodes (src/rl/udrl-history.ts);
 * evaluation on the true persona (32 people × 365 days, seed 12345). JSON lines on stdout
 * (docs/rl-results.md, "UDRL trained on a person's own days").
 *
 *   P=weekday STEPS=60000 SEEDS=1,2 nice -n 10 npx tsx bench/udrl-history.ts
 */
import os from "node:os";
import { initBackend } from "../src/rl/backend.js";
import { evaluatePlanner, heuristicPlanner } from "../src/rl/evaluate.js";
import type { HistoryDay } from "../src/rl/fit-behaviour.js";
import { HabitVectorEnv } from "../src/rl/habit-env.js";
import { defaultBehaviour } from "../src/rl/habit-training.js";
import { loadPersonaFile } from "../src/rl/persona.js";
import { trainUdrlOnPersona, udrlPlanner } from "../src/rl/udrl-policy.js";
import { createStepBuffers } from "../src/rl/vector-env.js";

await initBackend();
const truth = await loadPersonaFile(`personas/${process.env.P ?? "weekday"}.json`);
const steps = Number(process.env.STEPS ?? 60000);
const people = 1;
const seeds = (process.env.SEEDS ?? "1").split(",").map(Number);
const assumed = { ...truth, behaviour: defaultBehaviour(truth.habits) };
// one true person's logged days
const env = new HabitVectorEnv(truth, { numEnvs: people, seed: 777 });
const H = env.actionCount;
const obs = new Float32Array(people * env.observationSize);
const actions = new Int32Array(people * H);
const b = createStepBuffers(env);
env.reset(obs);
const histories: HistoryDay[][] = Array.from({ length: people }, () => []);
for (let d = 0; d < 90; d++) {
  const weekdays = Array.from(env.weekday);
  env.heuristicActions(actions);
  env.step(actions, b);
  for (let n = 0; n < people; n++) {
    const planned: Record<string, number> = {};
    const done: Record<string, number> = {};
    truth.habits.forEach((h, i) => {
      planned[h.id] = env.compiled.levels[i][env.adjustedPlan[n * H + i]];
      done[h.id] = env.doneAmounts[n * H + i];
    });
    histories[n].push({ weekday: weekdays[n], planned, done });
  }
}
const history = histories.flat();
const EVAL = { seed: 12345, episodes: 32, days: 365 };
const heur = evaluatePlanner(truth, heuristicPlanner(), EVAL).meanReward;
console.log(
  JSON.stringify({
    persona: truth.name,
    steps,
    people,
    historyDays: history.length,
    heuristic: heur,
    load: os.loadavg()[0],
  }),
);
for (const seed of seeds) {
  for (const withHistory of [false, true]) {
    const t = performance.now();
    const { policy } = await trainUdrlOnPersona(assumed, {
      steps,
      seed,
      history: withHistory ? history : undefined,
    });
    const r = evaluatePlanner(truth, udrlPlanner(policy), EVAL);
    console.log(
      JSON.stringify({
        seed,
        withHistory,
        pinned: policy.training?.pinnedEpisodes,
        reward: r.meanReward,
        ci: r.ci95,
        sec: Math.round((performance.now() - t) / 1000),
        load: os.loadavg()[0],
      }),
    );
    policy.dispose();
  }
}
