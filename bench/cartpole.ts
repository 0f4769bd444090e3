/**
 * Correctness check of the PPO implementation on CartPole-v1 (Gymnasium dynamics): for seeds
 * 1, 2 and 3, train with at most 200,000 environment steps and require a mean return ≥ 475 over
 * 20 greedy evaluation episodes. Evaluation runs every few updates; training stops at the first
 * passing evaluation. Prints one JSON document; exit code 1 when a seed fails.
 *
 *   npm run rl:cartpole            (COACHRL_TF_BACKEND=cpu|wasm to force a backend)
 */
import { createRng } from "../src/coach/rng.js";
import { initBackend } from "../src/rl/backend.js";
import { trainCartPole } from "../src/rl/cartpole-training.js";

const seeds = (process.env.CARTPOLE_SEEDS ?? "1,2,3").split(",").map(Number);
const backend = await initBackend();
const results = [];
for (const seed of seeds) {
  const result = await trainCartPole({ seed, rng: createRng(seed), maxSteps: 200_000 });
  process.stderr.write(`seed ${seed}: ${JSON.stringify(result)}\n`);
  results.push(result);
}
const passed = results.every((r) => r.passed);
console.log(
  JSON.stringify({ task: "CartPole-v1", backend: backend.backend, passed, results }, null, 2),
);
process.exitCode = passed ? 0 : 1;
