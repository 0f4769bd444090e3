import { describe, expect, it } from "vitest";
import { choosePolicyLevels } from "../../src/app/policy-planner.js";
import { assignActorGroups } from "../../src/coach/habits.js";
import { createRng } from "../../src/coach/rng.js";
import { initBackend, tf } from "../../src/rl/backend.js";
import { decodeCheckpoint, encodeCheckpoint } from "../../src/rl/checkpoint.js";
import { evaluatePlanner, policyPlanner } from "../../src/rl/evaluate.js";
import { appendHabitFeatures, habitFeatureTable } from "../../src/rl/habit-features.js";
import { HABIT_PPO, trainForHabits, trainOnPersona } from "../../src/rl/habit-training.js";
import { loadPersonaFile } from "../../src/rl/persona.js";
import { type HabitPolicy, loadPolicy } from "../../src/rl/policy.js";
import { ActorCriticNetwork, evaluateNetwork } from "../../src/rl/policy-network.js";
import { populationCheckpointFor, trainPopulationPolicy } from "../../src/rl/population.js";

await initBackend();
const seed23 = await loadPersonaFile("personas/seed-23.json");
const steady = await loadPersonaFile("personas/steady.json");
const tiny = { steps: 512, seed: 3, numEnvs: 8, config: { rolloutSteps: 64 } };
const network = (habitFeatures: boolean) => ({
  network: { ...HABIT_PPO.network, hiddenSize: 16, habitFeatures },
});
/** A policy after one tiny update, with or without the behaviour features. */
const trainTiny = async (persona: typeof steady, habitFeatures: boolean) =>
  (
    await trainOnPersona(persona, {
      ...tiny,
      config: { ...tiny.config, ...network(habitFeatures) },
    })
  ).policy;

/** Logits [H][L] of one observation: yesterday's EMAs all 0.6, planning a Wednesday. */
function logitRows(policy: HabitPolicy): number[][] {
  const H = policy.network.habitCount;
  const L = policy.network.levels;
  const input = policy.observe(new Float64Array(H).fill(0.6), 2);
  const { logits } = evaluateNetwork(policy.network, input, 1);
  return Array.from({ length: H }, (_, h) => Array.from(logits.subarray(h * L, (h + 1) * L)));
}

const index = (id: string) => seed23.habits.findIndex((h) => h.id === id);
const alike = ["journal", "veggies", "sleep"].map(index);

describe("habit identity in the shared actor", () => {
  it("without features, habits with equal descriptors get bit-identical logits", async () => {
    const policy = await trainTiny(seed23, false);
    const rows = logitRows(policy);
    policy.dispose();
    expect(rows[alike[1]]).toEqual(rows[alike[0]]);
    expect(rows[alike[2]]).toEqual(rows[alike[0]]);
  });

  it("with the behaviour's features, they get different logits", async () => {
    const policy = await trainTiny(seed23, true);
    const rows = logitRows(policy);
    policy.dispose();
    expect(rows[alike[1]]).not.toEqual(rows[alike[0]]);
    expect(rows[alike[2]]).not.toEqual(rows[alike[0]]);
    expect(rows[alike[2]]).not.toEqual(rows[alike[1]]);
  });

  it("a checkpoint with features round-trips (format 2) and refuses a missing feature table", async () => {
    const policy = await trainTiny(steady, true);
    const bytes = policy.toBytes();
    expect(new DataView(bytes.buffer).getUint32(4, true)).toBe(2);
    const { header, weights } = decodeCheckpoint(bytes);
    expect(header.habitFeatures).toEqual(
      habitFeatureTable(steady.habits, steady.behaviour, steady.planCapacityMinutes),
    );
    expect(Buffer.from(encodeCheckpoint(header, weights)).equals(Buffer.from(bytes))).toBe(true);
    const loaded = await loadPolicy(bytes, { habits: steady.habits });
    expect(loaded.habitFeatures).toEqual(header.habitFeatures);
    expect(logitRows(loaded)).toEqual(logitRows(policy));
    // Evaluation plans through the same features (coach observations in, features appended).
    const a = evaluatePlanner(steady, policyPlanner(policy), { seed: 9, episodes: 4, days: 20 });
    const b = evaluatePlanner(steady, policyPlanner(loaded), { seed: 9, episodes: 4, days: 20 });
    expect(b.perEpisode).toEqual(a.perEpisode);
    loaded.dispose();
    policy.dispose();

    const { habitFeatures: _dropped, ...withoutTable } = header;
    const broken = encodeCheckpoint(withoutTable, weights);
    await expect(loadPolicy(broken)).rejects.toThrow(
      /reads per-habit behaviour features, but it has no habit feature table/,
    );
  });

  it("a policy without features is still written and read as format 1", async () => {
    const policy = await trainTiny(steady, false);
    const bytes = policy.toBytes();
    policy.dispose();
    expect(new DataView(bytes.buffer).getUint32(4, true)).toBe(1);
    const loaded = await loadPolicy(bytes, { habits: steady.habits });
    expect(loaded.habitFeatures).toBeNull();
    expect(loaded.network.spec.observationSize).toBe(loaded.observationSpec.size);
    loaded.dispose();
  });

  it("the product plans with the features of the behaviour the policy was trained on (the fit)", async () => {
    const habits = assignActorGroups(steady.habits);
    // A "fitted" behaviour that differs from the true persona's.
    const fitted = structuredClone(steady.behaviour);
    for (const h of Object.values(fitted.habits)) h.compliance = Math.max(0.1, h.compliance - 0.4);
    fitted.capacity = 2;
    const { checkpoint } = await trainForHabits({
      habits,
      behaviour: fitted,
      ...tiny,
      config: { ...tiny.config, ...network(true) },
    });
    const policy = await loadPolicy(checkpoint, { habits });
    const stored = habitFeatureTable(habits, fitted, null);
    expect(policy.habitFeatures).toEqual(stored);
    expect(policy.habitFeatures).not.toEqual(habitFeatureTable(habits, steady.behaviour, null));

    const emas = Object.fromEntries(habits.map((h, i) => [h.id, 0.3 + 0.1 * i]));
    const day = "2026-12-02"; // a Wednesday
    const choice = choosePolicyLevels(policy, habits, emas, day);
    // The same numbers by hand: the coach observation plus the stored (fitted) features.
    const spec = policy.observationSpec;
    const coach = policy
      .observe(
        spec.habitIds.map((id) => emas[id]),
        day,
      )
      .subarray(0, spec.size);
    const expected = (table: typeof stored) => {
      const input = new Float32Array(policy.network.spec.observationSize);
      appendHabitFeatures(spec, () => table, coach, 1, input);
      const { logits } = evaluateNetwork(policy.network, input, 1);
      const L = policy.network.levels;
      let logProb = 0;
      for (let h = 0; h < habits.length; h++) {
        const row = logits.subarray(h * L, h * L + policy.network.spec.levelCount[h]);
        const max = Math.max(...row);
        const sum = row.reduce((s, x) => s + Math.exp(x - max), 0);
        logProb += -Math.log(sum); // the greedy level's log-probability
      }
      return logProb;
    };
    expect(choice.logProb).toBeCloseTo(expected(stored), 4);
    expect(expected(habitFeatureTable(habits, steady.behaviour, null))).not.toBeCloseTo(
      expected(stored),
      6,
    );
    policy.dispose();
  });

  it("the population policy trains on varied features and acts with the default behaviour's", async () => {
    const habits = assignActorGroups(steady.habits);
    const bytes = await trainPopulationPolicy({
      habits,
      steps: 512,
      seed: 2,
      behaviours: 4,
      config: { rolloutSteps: 64, ...network(true) },
    });
    const renamed = populationCheckpointFor(
      bytes,
      habits.map((h) => ({ ...h, id: `${h.id}-2`, name: `${h.name} 2` })),
    );
    const { header } = decodeCheckpoint(renamed);
    expect(header.policySpec.habitFeatureCount).toBeGreaterThan(0);
    expect(header.habitFeatures?.compliance).toEqual(habits.map(() => 0.75));
    const policy = await loadPolicy(renamed);
    expect(logitRows(policy).length).toBe(habits.length);
    policy.dispose();
  });
});

describe("the shared actor's feature weights", () => {
  it("get the gradient finite differences give", () => {
    // Five habits, 2 features each after a 12-number observation.
    const spec = {
      observationSize: 22,
      levelCount: [3, 2, 5, 4, 2],
      actorGroupOf: [0, 1, 0, 2, 1],
      groupCount: 3,
      habitDescriptors: Array.from({ length: 5 }, (_, h) => [h / 5, 1 - h / 5]),
      emaIndex: [0, 1, 2, 3, 4],
      habitFeatureCount: 2,
      habitFeatureOffset: 12,
    };
    const net = new ActorCriticNetwork(
      spec,
      { actor: "shared", critic: "single", hiddenSize: 8, habitFeatures: true },
      createRng(4),
    );
    // Larger output weights than the 0.01-gain initialisation, so the logits depend visibly on
    // the features (finite differences in float32 need that).
    const out = net.variables[net.variableNames.indexOf("shared/out/kernel")];
    out.assign(tf.mul(out, 100));
    const rng = createRng(5);
    const M = 6;
    const obs = tf.tensor2d(
      Float32Array.from({ length: M * 22 }, () => rng.next() * 2 - 1),
      [M, 22],
    );
    const weightsOut = tf.tensor3d(
      Float32Array.from({ length: M * 5 * 5 }, () => rng.next() * 2 - 1),
      [M, 5, 5],
    );
    const loss = () =>
      tf.sum(tf.mul(tf.clipByValue(net.forwardTraining(obs).blockLogits[0], -50, 50), weightsOut));
    const at = net.variableNames.indexOf("shared/1-features");
    const variable = net.variables[at];
    const grad = tf.tidy(() =>
      tf.variableGrads(loss as () => tf.Scalar, [variable]).grads[variable.name].dataSync(),
    );
    const values = Float32Array.from(variable.dataSync());
    const eps = 1e-2;
    for (const i of [0, 5, 11]) {
      const shifted = (delta: number) => {
        const v = Float32Array.from(values);
        v[i] += delta;
        variable.assign(tf.tensor(v, variable.shape));
        return tf.tidy(() => loss().dataSync()[0]);
      };
      const numeric = (shifted(eps) - shifted(-eps)) / (2 * eps);
      expect(Math.abs(grad[i] - numeric)).toBeLessThan(0.02 * Math.abs(numeric) + 1e-3);
      expect(Math.abs(numeric)).toBeGreaterThan(0.05);
    }
    net.dispose();
    obs.dispose();
    weightsOut.dispose();
  });
});
