/**
 * Speed benchmarks of the RL engine, printed as one JSON document:
 *  - environment alone on seed-23 (simulated user-days per second, fixed plans);
 *  - end-to-end PPO training on seed-23 (samples per second), both actor designs;
 *  - one person's plan from a policy (p50 / p95 latency);
 *  - plans for 10,000 people in one batch.
 *
 *   npm run bench:rl                     (COACHRL_TF_BACKEND=cpu|wasm to force a backend)
 *   BENCH_RL_QUICK=1 npm run bench:rl    (shorter runs)
 */
import { createRng } from "../src/coach/rng.js";
import { initBackend } from "../src/rl/backend.js";
import { HabitVectorEnv } from "../src/rl/habit-env.js";
import { trainOnPersona } from "../src/rl/habit-training.js";
import { loadPersonaFile } from "../src/rl/persona.js";
import type { ActorDesign } from "../src/rl/policy-network.js";
import { createStepBuffers } from "../src/rl/vector-env.js";

const quick = process.env.BENCH_RL_QUICK === "1";
const backend = await initBackend();
const persona = await loadPersonaFile("personas/seed-23.json");

function environmentSpeed(numEnvs: number, days: number) {
  const env = new HabitVectorEnv(persona, { numEnvs, seed: 1, episodeDays: 365 });
  const obs = new Float32Array(numEnvs * env.observationSize);
  env.reset(obs);
  const buffers = createStepBuffers(env);
  // Fixed random plans (drawn up front so only the environment is timed).
  const rng = createRng(2);
  const plans = Array.from({ length: 8 }, () =>
    Int32Array.from({ length: numEnvs * env.actionCount }, (_, i) =>
      Math.floor(rng.next() * env.compiled.levelCount[i % env.actionCount]),
    ),
  );
  for (let d = 0; d < 20; d++) env.step(plans[d % 8], buffers); // warm-up
  const start = performance.now();
  for (let d = 0; d < days; d++) env.step(plans[d % 8], buffers);
  const seconds = (performance.now() - start) / 1000;
  return { numEnvs, days, userDaysPerSecond: Math.round((numEnvs * days) / seconds) };
}

async function trainingSpeed(actor: ActorDesign, steps: number) {
  const { policy, progress } = await trainOnPersona(persona, {
    steps,
    seed: 1,
    numEnvs: 64,
    config: { network: { actor, critic: "per-group", hiddenSize: 64 } },
  });
  const last = progress[progress.length - 1];
  const rollout = progress.reduce((s, p) => s + p.rolloutSeconds, 0);
  const optimise = progress.reduce((s, p) => s + p.optimiseSeconds, 0);
  const env = progress.reduce((s, p) => s + p.envSeconds, 0);
  return {
    policy,
    result: {
      actor,
      steps: last.steps,
      seconds: Number(last.elapsedSeconds.toFixed(2)),
      samplesPerSecond: Math.round(last.samplesPerSecond),
      share: {
        environment: Number((env / last.elapsedSeconds).toFixed(3)),
        policyForward: Number(((rollout - env) / last.elapsedSeconds).toFixed(3)),
        optimisation: Number((optimise / last.elapsedSeconds).toFixed(3)),
      },
    },
  };
}

const envResult = [
  environmentSpeed(256, quick ? 200 : 1000),
  environmentSpeed(4096, quick ? 30 : 120),
];
const trainSteps = quick ? 8192 : 32768;
const independent = await trainingSpeed("independent", trainSteps);
const shared = await trainingSpeed("shared", trainSteps);

const planning: Record<string, unknown> = {};
for (const [name, run] of [
  ["independent", independent],
  ["shared", shared],
] as const) {
  const policy = run.policy;
  const env = new HabitVectorEnv(persona, { numEnvs: 10_000, seed: 3 });
  const obs = new Float32Array(10_000 * env.observationSize);
  env.reset(obs);
  const one = obs.slice(0, env.observationSize);
  for (let i = 0; i < 20; i++) policy.plan(one);
  const times: number[] = [];
  for (let i = 0; i < (quick ? 100 : 500); i++) {
    const t = performance.now();
    policy.plan(one);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const out = new Int32Array(10_000 * env.actionCount);
  policy.planBatch(obs, 10_000, out); // warm-up
  const t = performance.now();
  policy.planBatch(obs, 10_000, out);
  const batchMs = performance.now() - t;
  planning[name] = {
    singlePlanMs: {
      p50: Number(times[Math.floor(times.length * 0.5)].toFixed(3)),
      p95: Number(times[Math.floor(times.length * 0.95)].toFixed(3)),
    },
    batch10kMs: Number(batchMs.toFixed(1)),
  };
  policy.dispose();
}

const targets = {
  environmentUserDaysPerSecond: 1_000_000,
  ppoSamplesPerSecond: 10_000,
  singlePlanP50Ms: 2,
  batch10kMs: 1000,
};
console.log(
  JSON.stringify(
    {
      backend: backend.backend,
      node: process.version,
      cpus: (await import("node:os")).cpus().length,
      persona: persona.name,
      environment: envResult,
      training: [independent.result, shared.result],
      planning,
      targets,
    },
    null,
    2,
  ),
);
