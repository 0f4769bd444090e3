import { describe, expect, it } from "vitest";
import { createRng } from "../../src/coach/rng.js";
import { initBackend } from "../../src/rl/backend.js";
import { HabitVectorEnv } from "../../src/rl/habit-env.js";
import { trainOnPersona } from "../../src/rl/habit-training.js";
import { loadPersonaFile } from "../../src/rl/persona.js";
import { loadPolicy, policyFromNetwork } from "../../src/rl/policy.js";
import { ActorCriticNetwork } from "../../src/rl/policy-network.js";

await initBackend();
const steady = await loadPersonaFile("personas/steady.json");

describe("policy checkpoints", () => {
  it("round-trips bit-identically and plans the same", async () => {
    const env = new HabitVectorEnv(steady, { numEnvs: 4, seed: 1 });
    const network = new ActorCriticNetwork(
      env.policySpec,
      { actor: "shared", critic: "per-group", hiddenSize: 16 },
      createRng(2),
    );
    const policy = policyFromNetwork(network, env.spec, null, null);
    const bytes = policy.toBytes();
    const loaded = await loadPolicy(bytes, { habits: steady.habits });
    const again = loaded.toBytes();
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
    const obs = new Float32Array(4 * env.observationSize);
    env.reset(obs);
    expect(Array.from(loaded.planBatch(obs, 4))).toEqual(Array.from(policy.planBatch(obs, 4)));
    const one = loaded.plan(obs.subarray(0, env.observationSize));
    expect(one).toHaveLength(steady.habits.length);
    one.forEach((level, h) => {
      expect(level).toBeGreaterThanOrEqual(0);
      expect(level).toBeLessThan(steady.habits[h].levels.length);
    });
    policy.dispose();
    loaded.dispose();
  });

  it("a trained checkpoint carries hyperparameters and a training summary", async () => {
    const { policy } = await trainOnPersona(steady, {
      steps: 512,
      seed: 3,
      numEnvs: 8,
      config: { rolloutSteps: 32 },
    });
    const loaded = await loadPolicy(policy.toBytes());
    expect(loaded.hyperparameters?.rolloutSteps).toBe(32);
    expect(loaded.training).toMatchObject({ persona: "steady", seed: 3, steps: 512 });
    policy.dispose();
    loaded.dispose();
  });

  it("refuses a habit set it does not fit, saying what differs", async () => {
    const env = new HabitVectorEnv(steady, { numEnvs: 1, seed: 1 });
    const network = new ActorCriticNetwork(
      env.policySpec,
      { actor: "independent", critic: "single", hiddenSize: 8 },
      createRng(2),
    );
    const bytes = policyFromNetwork(network, env.spec, null, null).toBytes();
    network.dispose();
    const changed = steady.habits.map((h) => (h.id === "walk" ? { ...h, levels: [0, 20, 40] } : h));
    await expect(loadPolicy(bytes, { habits: changed })).rejects.toThrow(
      /habit "walk" levels \[0, 15, 30, 45\] vs \[0, 20, 40\]/,
    );
    await expect(loadPolicy(bytes, { habits: steady.habits.slice(1) })).rejects.toThrow(
      /no longer present: "walk"/,
    );
    const corrupt = bytes.slice();
    corrupt[0] = 88;
    await expect(loadPolicy(corrupt)).rejects.toThrow(/not a CoachRL policy checkpoint/);
    await expect(loadPolicy(bytes.subarray(0, bytes.length - 8))).rejects.toThrow(/truncated/);
  });
});
