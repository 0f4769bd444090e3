// UDRL on habits: a coach trained on the steady persona (60,000 steps, once) beats random plans
// and the heuristic on fresh people (paired, beyond the evaluation noise) and its checkpoint
// round trips; "easy" plans a lighter load than "push" on the same states — for the UDRL coach
// the load is part of its command, for a PPO coach the coach core's applyIntensity scales its
// plan. Training seeds 1–3 at this budget: docs/rl-results.md ("UDRL beside PPO").
import { beforeAll, describe, expect, it } from "vitest";
import { pairedComparison } from "../../src/app/training/training-policy.js";
import { adjustPlan, applyIntensity, type Intensity, plannedLoad } from "../../src/coach/adjust.js";
import { createRng } from "../../src/coach/rng.js";
import { initBackend } from "../../src/rl/backend.js";
import { algorithmOf, loadCoachPolicy } from "../../src/rl/coach-policy.js";
import { evaluatePlanner, heuristicPlanner, randomPlanner } from "../../src/rl/evaluate.js";
import { HabitVectorEnv } from "../../src/rl/habit-env.js";
import { trainOnPersona } from "../../src/rl/habit-training.js";
import { loadPersonaFile, type Persona } from "../../src/rl/persona.js";
import type { HabitPolicy } from "../../src/rl/policy.js";
import { trainUdrlOnPersona, type UdrlHabitPolicy, udrlPlanner } from "../../src/rl/udrl-policy.js";
import { createStepBuffers } from "../../src/rl/vector-env.js";

await initBackend();

let steady: Persona;
let udrl: UdrlHabitPolicy;
beforeAll(async () => {
  steady = await loadPersonaFile("personas/steady.json");
  udrl = (await trainUdrlOnPersona(steady, { steps: 60_000, seed: 1 })).policy;
}, 900_000);

/**
 * Lives `days` days of simulated steady people under heuristic plans and hands every state
 * (observations and EMAs of the day about to be planned) to `visit`.
 */
function visitStates(
  seed: number,
  days: number,
  visit: (env: HabitVectorEnv, observations: Float32Array) => void,
) {
  const env = new HabitVectorEnv(steady, { numEnvs: 16, seed });
  const observations = new Float32Array(env.numEnvs * env.observationSize);
  const actions = new Int32Array(env.numEnvs * env.actionCount);
  const buffers = createStepBuffers(env);
  env.reset(observations);
  for (let d = 0; d < days; d++) {
    visit(env, observations);
    env.heuristicActions(actions);
    env.step(actions, buffers);
    observations.set(buffers.observations);
  }
}

/** Total planned load after the coach core's adjustment, summed over the states of many seeds. */
function loadOver(
  plan: (env: HabitVectorEnv, observations: Float32Array, out: Int32Array) => void,
): number {
  let load = 0;
  for (let seed = 1; seed <= 10; seed++) {
    visitStates(seed, 40, (env, observations) => {
      const H = env.actionCount;
      const levels = new Int32Array(env.numEnvs * H);
      plan(env, observations, levels);
      const rng = createRng(seed);
      for (let n = 0; n < env.numEnvs; n++) {
        const person = levels.subarray(n * H, (n + 1) * H);
        adjustPlan(env.compiled, person, env.emas.subarray(n * H, (n + 1) * H), rng);
        load += plannedLoad(env.compiled, person);
      }
    });
  }
  return load;
}

describe("a UDRL coach on the steady persona", () => {
  it("beats random plans and the heuristic on fresh people", () => {
    // 64 people × a year, the same people for every planner (paired differences)
    const options = { seed: 12345, episodes: 64, days: 365 };
    const random = evaluatePlanner(steady, randomPlanner(1), options);
    const heuristic = evaluatePlanner(steady, heuristicPlanner(), options);
    const coach = evaluatePlanner(steady, udrlPlanner(udrl), options);
    const versusRandom = pairedComparison(coach.perEpisode, random.perEpisode);
    const versusHeuristic = pairedComparison(coach.perEpisode, heuristic.perEpisode);
    expect(versusRandom.difference - versusRandom.noise).toBeGreaterThan(0);
    expect(versusHeuristic.difference - versusHeuristic.noise).toBeGreaterThan(0);
  });

  it("round-trips through checkpoint bytes and plans the same", async () => {
    const loaded = await loadCoachPolicy(udrl.toBytes(), { habits: steady.habits });
    expect(algorithmOf(loaded)).toBe("udrl");
    const options = { seed: 7, episodes: 4, days: 60 };
    const before = evaluatePlanner(steady, udrlPlanner(udrl), options);
    const after = evaluatePlanner(steady, udrlPlanner(loaded as UdrlHabitPolicy), options);
    expect(after.meanReward).toBe(before.meanReward);
    loaded.dispose();
  });

  it("plans a lighter load under 'easy' than under 'push' on the same states", () => {
    const underCommand = (intensity: Intensity) =>
      loadOver((env, observations, out) => {
        const commands = Array.from({ length: env.numEnvs }, () => udrl.command(intensity, 7));
        udrl.planBatch(observations, env.numEnvs, commands, out);
      });
    const effort = udrl.intensity.effort;
    expect(effort?.easy).toBeLessThan(effort?.normal ?? 0);
    expect(effort?.normal).toBeLessThan(effort?.push ?? 0);
    const easy = underCommand("easy");
    const normal = underCommand("normal");
    const push = underCommand("push");
    expect(easy).toBeLessThan(normal);
    expect(normal).toBeLessThan(push);
  });
});

describe("a PPO coach", () => {
  let ppo: HabitPolicy;
  beforeAll(async () => {
    ppo = (await trainOnPersona(steady, { steps: 8192, seed: 1 })).policy;
  }, 600_000);

  it("plans a lighter load under 'easy' than under 'push' on the same states", () => {
    const scaled = (intensity: Intensity) =>
      loadOver((env, observations, out) => {
        ppo.planBatch(observations, env.numEnvs, out);
        const H = env.actionCount;
        for (let n = 0; n < env.numEnvs; n++) {
          const emas = env.emas.subarray(n * H, (n + 1) * H);
          applyIntensity(env.compiled, out.subarray(n * H, (n + 1) * H), emas, intensity);
        }
      });
    const easy = scaled("easy");
    const normal = scaled("normal");
    const push = scaled("push");
    expect(easy).toBeLessThan(normal);
    expect(normal).toBeLessThan(push);
  });
});
