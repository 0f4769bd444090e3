import { describe, expect, it } from "vitest";
import { createRng } from "../../src/coach/rng.js";
import { initBackend } from "../../src/rl/backend.js";
import { CartPoleVectorEnv, cartPoleStep } from "../../src/rl/cartpole.js";
import { trainCartPole } from "../../src/rl/cartpole-training.js";
import { createStepBuffers } from "../../src/rl/vector-env.js";

await initBackend();

describe("CartPole-v1 dynamics", () => {
  it("one Euler step from rest pushing right matches the hand-computed Gymnasium update", () => {
    const state = new Float64Array(4);
    const done = cartPoleStep(state, 0, 1);
    // temp = 10 / 1.1; θ̈ = −temp / (0.5·(4/3 − 0.1/1.1)); ẍ = temp − 0.05·θ̈ / 1.1
    const temp = 10 / 1.1;
    const thetaAcc = -temp / (0.5 * (4 / 3 - 0.1 / 1.1));
    const xAcc = temp - (0.05 * thetaAcc) / 1.1;
    expect(done).toBe(false);
    expect(state[0]).toBe(0);
    expect(state[1]).toBeCloseTo(0.02 * xAcc, 12);
    expect(state[2]).toBe(0);
    expect(state[3]).toBeCloseTo(0.02 * thetaAcc, 12);
  });

  it("terminates beyond 12 degrees and truncates at 500 steps", () => {
    const tilted = Float64Array.from([0, 0, 0.2095, 0]);
    expect(cartPoleStep(tilted, 0, 1)).toBe(true);
    const env = new CartPoleVectorEnv(1, createRng(1));
    const buffers = createStepBuffers(env);
    const obs = new Float32Array(4);
    env.reset(obs);
    // Alternate pushes keep the pole up for a while; count steps until the first end.
    let steps = 0;
    let ended = false;
    while (!ended && steps < 600) {
      env.step(Int32Array.of(steps % 2), buffers);
      steps++;
      ended = buffers.terminated[0] === 1 || buffers.truncated[0] === 1;
    }
    expect(ended).toBe(true);
    expect(steps).toBeLessThanOrEqual(500);
    if (steps === 500) expect(buffers.truncated[0]).toBe(1);
  });
});

describe("PPO on CartPole (smoke)", () => {
  it("a short seeded run is reproducible and improves on the untrained policy", async () => {
    const run = () =>
      trainCartPole({
        seed: 1,
        rng: createRng(1),
        maxSteps: 8192,
        evalEvery: 1000,
        evalEpisodes: 8,
      });
    const first = await run();
    const second = await run();
    expect(second).toMatchObject({ evalMeanReturn: first.evalMeanReturn, steps: first.steps });
    // An untrained greedy policy balances ~10–40 steps; after 8k steps it does clearly better.
    expect(first.evalMeanReturn).toBeGreaterThan(60);
  }, 60_000);
});
