/**
 * Speed benchmarks of the RL engine, printed as one JSON document:
 *  - environment alone on seed-23 (simulated user-days per second, fixed plans);
 *  - end-to-end PPO training on seed-23 (samples per second), both actor designs;
 *  - one person's plan from a policy (p50 / p95 latency);
 *  - plans for 10,000 people in one batch;
 *  - what limits training speed on this backend: kernel launch cost, matrix-product throughput,
 *    time of one PPO minibatch (forward + backward + Adam) per actor design, whether the WASM
 *    backend may use threads.
 *
 *   npm run bench:rl                     (COACHRL_TF_BACKEND=cpu|wasm to force a backend)
 *   BENCH_RL_QUICK=1 npm run bench:rl    (shorter runs)
 */
import os from "node:os";
import type * as tfTypes from "@tensorflow/tfjs-core";
import { createRng } from "../src/coach/rng.js";
import { initBackend, tf } from "../src/rl/backend.js";
import { HabitVectorEnv } from "../src/rl/habit-env.js";
import { HABIT_PPO, trainOnPersona } from "../src/rl/habit-training.js";
import { ClippedAdam } from "../src/rl/optimizer.js";
import { loadPersonaFile } from "../src/rl/persona.js";
import { ActorCriticNetwork, type ActorDesign } from "../src/rl/policy-network.js";
import {
  createLossLayout,
  createMinibatchArrays,
  disposeLossLayout,
  disposeMinibatch,
  fillMinibatch,
  minibatchLoss,
  minibatchTensors,
} from "../src/rl/ppo.js";
import { createStepBuffers } from "../src/rl/vector-env.js";

const quick = process.env.BENCH_RL_QUICK === "1";
const loadAtStart = os.loadavg();
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
const trainSteps = quick ? 8192 : 65536;
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

/** Mean milliseconds per call of `f` after a warm-up. */
function timeMs(f: () => void, reps: number): number {
  for (let i = 0; i < Math.max(3, reps / 10); i++) f();
  const start = performance.now();
  for (let i = 0; i < reps; i++) f();
  return (performance.now() - start) / reps;
}

/** One PPO minibatch (upload, forward, backward, Adam) of `rows` samples on seed-23. */
function minibatchCost(actor: ActorDesign, rows: number) {
  const env = new HabitVectorEnv(persona, { numEnvs: 1, seed: 1 });
  const spec = env.policySpec;
  const config = { ...HABIT_PPO, network: { ...HABIT_PPO.network, actor } };
  const network = new ActorCriticNetwork(spec, config.network, createRng(1));
  const optimizer = new ClippedAdam(network.variables, {
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-5,
    maxGradNorm: 0.5,
  });
  const O = spec.observationSize;
  const H = spec.levelCount.length;
  const K = network.channels;
  const rng = createRng(2);
  const uniform = (n: number) => Float32Array.from({ length: n }, () => rng.next() - 0.5);
  const rollout = {
    observations: uniform(rows * O),
    actions: Int32Array.from({ length: rows * H }, (_, i) =>
      Math.floor(rng.next() * spec.levelCount[i % H]),
    ),
    logProbs: new Float32Array(rows * H).fill(-2),
    advantages: uniform(rows * K),
    returns: uniform(rows * K),
    values: uniform(rows * K),
  };
  const order = Int32Array.from({ length: rows }, (_, i) => i);
  const layout = createLossLayout(network, config.ratio);
  const mb = createMinibatchArrays(layout, rows);
  const ms = timeMs(
    () => {
      fillMinibatch(layout, rollout, order, 0, O, mb);
      const batch = minibatchTensors(layout, mb);
      optimizer.minimize(() => minibatchLoss(network, config, layout, batch, false), 1e-3);
      disposeMinibatch(batch);
    },
    quick ? 5 : 20,
  );
  disposeLossLayout(layout);
  optimizer.dispose();
  network.dispose();
  return {
    actor,
    rows,
    ms: Number(ms.toFixed(2)),
    microsecondsPerSample: Number(((ms * 1000) / rows).toFixed(2)),
    // 4 epochs (HABIT_PPO) of this per collected sample bound training from above:
    samplesPerSecondBound: Math.round(1e6 / (((ms * 1000) / rows) * HABIT_PPO.epochs)),
  };
}

function kernelCosts() {
  const tiny = tf.zeros([8, 8]);
  const launchUs = timeMs(() => tf.add(tiny, tiny).dispose(), 2000) * 1000;
  tiny.dispose();
  const product = (m: number, k: number, n: number) => {
    const a = tf.randomNormal([m, k]) as tfTypes.Tensor2D;
    const b = tf.randomNormal([k, n]) as tfTypes.Tensor2D;
    const ms = timeMs(() => tf.matMul(a, b).dispose(), quick ? 20 : 100);
    const transposedMs = timeMs(() => tf.matMul(b, a, true, true).dispose(), quick ? 3 : 10);
    a.dispose();
    b.dispose();
    return {
      shape: `${m}x${k}·${k}x${n}`,
      ms: Number(ms.toFixed(3)),
      gflops: Number(((2 * m * k * n) / ms / 1e6).toFixed(1)),
      withTransposeFlagsMs: Number(transposedMs.toFixed(3)),
    };
  };
  const x = tf.randomNormal([1024, 64]);
  const unary = {
    tanhMs: Number(timeMs(() => tf.tanh(x).dispose(), 50).toFixed(3)),
    sigmoidMs: Number(timeMs(() => tf.sigmoid(x).dispose(), 50).toFixed(3)),
    expMs: Number(timeMs(() => tf.exp(x).dispose(), 50).toFixed(3)),
    transpose2dMs: Number(timeMs(() => tf.transpose(x).dispose(), 50).toFixed(3)),
    transposeAsRank3Ms: Number(
      timeMs(() => tf.transpose(tf.reshape(x, [32, 32, 64]), [2, 0, 1]).dispose(), 50).toFixed(3),
    ),
  };
  x.dispose();
  return {
    kernelLaunchMicroseconds: Number(launchUs.toFixed(1)),
    matMul: [product(1024, 64, 64), product(1024, 64, 300)],
    elementwise1024x64: unary,
    wasmThreads: {
      // tfjs-backend-wasm 4.x turns threads off under Node (tfjs issue 3830); forcing the flag
      // makes the threaded build start its workers from a blob: URL, which Node refuses.
      multithreadSupport: tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT"),
      simdSupport: tf.env().getBool("WASM_HAS_SIMD_SUPPORT"),
    },
  };
}

const limits = {
  ...kernelCosts(),
  minibatch: [
    minibatchCost("independent", 1024),
    minibatchCost("independent", 2048),
    minibatchCost("shared", 1024),
  ],
};

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
      cpus: os.cpus().length,
      // 1/5/15-minute load averages: the machine is shared, so throughput depends on them.
      loadAverage: {
        atStart: loadAtStart.map((x) => Number(x.toFixed(2))),
        atEnd: os.loadavg().map((x) => Number(x.toFixed(2))),
      },
      persona: persona.name,
      environment: envResult,
      training: [independent.result, shared.result],
      planning,
      limits,
      targets,
    },
    null,
    2,
  ),
);
