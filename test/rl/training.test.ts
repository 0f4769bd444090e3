import { describe, expect, it } from "vitest";
import { initBackend, tf } from "../../src/rl/backend.js";
import { decodeCheckpoint } from "../../src/rl/checkpoint.js";
import {
  actorGroupProblem,
  defaultBehaviour,
  HABIT_PPO,
  trainForHabits,
  trainOnPersona,
} from "../../src/rl/habit-training.js";
import { loadPersonaFile } from "../../src/rl/persona.js";

await initBackend();
const steady = await loadPersonaFile("personas/steady.json");
const crossEffects = await loadPersonaFile("personas/cross-effects.json");

describe("training on habits", () => {
  it("is reproducible: the same seed gives bit-identical weights, another seed does not", async () => {
    const run = async (seed: number) => {
      const { checkpoint } = await trainForHabits({
        habits: steady.habits,
        steps: 1024,
        seed,
        numEnvs: 16,
        config: { rolloutSteps: 32 },
      });
      // The header holds wall-clock training time; the weights must match exactly.
      const { weights } = decodeCheckpoint(checkpoint);
      return Buffer.concat(weights.map((w) => Buffer.from(w.values.buffer)));
    };
    const a = await run(5);
    const b = await run(5);
    const c = await run(6);
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
  });

  it("reports progress with the documented fields and can be stopped early", async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const { policy, progress } = await trainOnPersona(crossEffects, {
      steps: 4096,
      seed: 1,
      numEnvs: 16,
      config: {
        rolloutSteps: 32,
        network: { actor: "shared", critic: "single", hiddenSize: 16 },
        ratio: "habit",
      },
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p.update);
        if (p.update === 2) controller.abort();
      },
    });
    expect(seen).toEqual([1, 2]);
    const p = progress[1];
    for (const key of [
      "samplesPerSecond",
      "meanReward",
      "entropy",
      "approxKl",
      "clipFraction",
      "valueLoss",
      "policyLoss",
      "explainedVariance",
      "learningRate",
    ] as const) {
      expect(Number.isFinite(p[key]), key).toBe(true);
    }
    expect(p.explainedVariance).toBeLessThanOrEqual(1);
    // 4096 steps of 16 × 32 = 8 updates, annealed linearly from the configured rate
    expect(progress[0].learningRate).toBe(HABIT_PPO.learningRate);
    expect(p.learningRate).toBeCloseTo(HABIT_PPO.learningRate * (7 / 8), 12);
    expect(p.entropy).toBeGreaterThan(0);
    expect(policy.training?.stoppedEarly).toBe(true);
    policy.dispose();
  });

  it("leaks no tensors: memory returns to where it was after training and disposal", async () => {
    const before = tf.memory().numTensors;
    const { policy } = await trainOnPersona(steady, {
      steps: 1024,
      seed: 1,
      numEnvs: 16,
      config: {
        rolloutSteps: 32,
        network: { actor: "independent", critic: "per-group", hiddenSize: 8 },
      },
    });
    policy.plan(policy.observe([1, 1, 1, 1, 1], 0));
    policy.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("refuses habits whose actor groups have gaps or exceed five habits", async () => {
    const gap = steady.habits.map((h, i) => ({ ...h, actorGroup: i === 0 ? 2 : 0 }));
    expect(actorGroupProblem(gap)).toMatch(/actor group 1 has no habits/);
    await expect(trainForHabits({ habits: gap, steps: 1024, seed: 1 })).rejects.toThrow(
      /assignActorGroups/,
    );
    const crowded = [
      ...steady.habits,
      { ...steady.habits[0], id: "extra", name: "Extra walk" },
    ].map((h) => ({ ...h, actorGroup: 0 }));
    expect(actorGroupProblem(crowded)).toMatch(/holds 6 habits/);
    expect(actorGroupProblem(steady.habits)).toBeNull();
  });

  it("default behaviour covers every habit", () => {
    const b = defaultBehaviour(steady.habits);
    expect(Object.keys(b.habits).sort()).toEqual(steady.habits.map((h) => h.id).sort());
    expect(b.capacity).toBeGreaterThanOrEqual(3);
  });
});
