/**
 * Correctness check of the learning algorithms on CartPole-v1 (Gymnasium dynamics): for seeds
 * 1, 2 and 3, train and require a mean return ≥ 475 over 20 greedy evaluation episodes.
 * Evaluation runs every few updates (iterations for UDRL); training stops at the first passing
 * evaluation. Prints one JSON document; exit code 1 when a seed fails.
 *
 *   npm run rl:cartpole                   PPO, at most 200,000 steps per seed
 *   npm run rl:cartpole -- --algo udrl    upside-down RL, at most 1,000,000 steps per seed
 *   (COACHRL_TF_BACKEND=cpu|wasm to force a backend; CARTPOLE_SEEDS=1,2,3; CARTPOLE_MAX_STEPS)
 */
import { parseArgs } from "node:util";
import { createRng } from "../src/coach/rng.js";
import { initBackend } from "../src/rl/backend.js";
import { trainCartPole } from "../src/rl/cartpole-training.js";
import { trainCartPoleUdrl } from "../src/rl/udrl-cartpole.js";

const { values } = parseArgs({ options: { algo: { type: "string", default: "ppo" } } });
const algo = values.algo;
if (algo !== "ppo" && algo !== "udrl") {
  console.error(`--algo must be ppo or udrl, got ${JSON.stringify(algo)}`);
  process.exit(2);
}
const seeds = (process.env.CARTPOLE_SEEDS ?? "1,2,3").split(",").map(Number);
const maxSteps = Number(process.env.CARTPOLE_MAX_STEPS ?? (algo === "ppo" ? 200_000 : 1_000_000));
const backend = await initBackend();
const results = [];
for (const seed of seeds) {
  const result =
    algo === "ppo"
      ? await trainCartPole({ seed, rng: createRng(seed), maxSteps })
      : await trainCartPoleUdrl({ seed, rng: createRng(seed), maxSteps });
  process.stderr.write(`seed ${seed}: ${JSON.stringify(result)}\n`);
  results.push(result);
}
const passed = results.every((r) => r.passed);
console.log(
  JSON.stringify(
    { task: "CartPole-v1", algorithm: algo, backend: backend.backend, maxSteps, passed, results },
    null,
    2,
  ),
);
process.exitCode = passed ? 0 : 1;
