import { describe, expect, it } from "vitest";
import { dailyReward, groupRewards } from "../../src/coach/ema.js";
import { createRng } from "../../src/coach/rng.js";
import { HabitVectorEnv } from "../../src/rl/habit-env.js";
import { loadPersonaFile } from "../../src/rl/persona.js";
import { createStepBuffers } from "../../src/rl/vector-env.js";
import { ReferenceHabitVectorEnv } from "./support/reference-habit-env.js";

const overloaded = await loadPersonaFile("personas/overloaded.json");
const seed23 = await loadPersonaFile("personas/seed-23.json");

function rollout(seed: number, days: number, planAll: boolean, persona = seed23, numEnvs = 8) {
  const env = new HabitVectorEnv(persona, { numEnvs, seed, episodeDays: 20 });
  const obs = new Float32Array(numEnvs * env.observationSize);
  env.reset(obs);
  const buffers = createStepBuffers(env);
  const actions = new Int32Array(numEnvs * env.actionCount);
  const rewards: number[] = [];
  const observations: number[] = [];
  let truncations = 0;
  let done = 0;
  for (let d = 0; d < days; d++) {
    if (planAll) {
      for (let i = 0; i < actions.length; i++)
        actions[i] = env.compiled.targetLevelIndex[i % env.actionCount];
    } else env.heuristicActions(actions);
    env.step(actions, buffers);
    rewards.push(...buffers.rewards);
    observations.push(...buffers.observations);
    for (let n = 0; n < numEnvs; n++) truncations += buffers.truncated[n];
    for (const a of env.doneAmounts) if (a > 0) done++;
    // Reward is the coach core's reward of the EMAs after the day.
    if (d < 19) {
      const H = env.actionCount;
      const emas = env.emas.subarray(0, H);
      expect(buffers.rewards[0]).toBeCloseTo(dailyReward(emas), 6);
      const groups = groupRewards(emas, env.compiled.actorGroupOf, env.groupCount);
      expect(buffers.groupRewards[0]).toBeCloseTo(groups[0], 6);
    }
  }
  return { rewards, observations, truncations, done };
}

describe("batched habit environment", () => {
  it("gives exactly the results of the reference environment built from coach-core calls", async () => {
    // The fast environment (inline generator, fused end of day) against the first version,
    // which calls adjustPlan, stepEmas, dailyReward, groupRewards and buildObservation per person:
    // every persona, random plans (out-of-range levels included), a capacity in minutes, short
    // episodes so that resets happen, several seeds.
    const names = ["steady", "overloaded", "weekday", "cross-effects", "seed-23"];
    for (const [index, name] of names.entries()) {
      const loaded = await loadPersonaFile(`personas/${name}.json`);
      for (const capacity of [null, 45]) {
        const persona = { ...loaded, planCapacityMinutes: capacity };
        const seed = 100 + index;
        const N = 5;
        const options = { numEnvs: N, seed, episodeDays: 17 };
        const fast = new HabitVectorEnv(persona, options);
        const reference = new ReferenceHabitVectorEnv(persona, options);
        const obsFast = new Float32Array(N * fast.observationSize);
        const obsRef = new Float32Array(N * fast.observationSize);
        fast.reset(obsFast);
        reference.reset(obsRef);
        expect(obsFast).toEqual(obsRef);
        const outFast = createStepBuffers(fast);
        const outRef = createStepBuffers(reference);
        const H = fast.actionCount;
        const planRng = createRng(seed * 7);
        const actions = new Int32Array(N * H);
        for (let day = 0; day < 60; day++) {
          for (let i = 0; i < actions.length; i++) {
            const count = fast.compiled.levelCount[i % H];
            actions[i] = Math.floor(planRng.next() * (count + 2)) - 1; // −1 … count
          }
          if (day % 5 === 0) fast.heuristicActions(actions);
          fast.step(Int32Array.from(actions), outFast);
          reference.step(Int32Array.from(actions), outRef);
          expect(outFast.rewards).toEqual(outRef.rewards);
          expect(outFast.groupRewards).toEqual(outRef.groupRewards);
          expect(outFast.observations).toEqual(outRef.observations);
          expect(outFast.truncated).toEqual(outRef.truncated);
          expect(outFast.terminated).toEqual(outRef.terminated);
          expect(fast.adjustedPlan).toEqual(reference.adjustedPlan);
          expect(fast.doneAmounts).toEqual(reference.doneAmounts);
          expect(fast.emas).toEqual(reference.emas);
          if (outRef.truncated.some((x) => x === 1)) {
            for (let n = 0; n < N; n++) {
              if (outRef.truncated[n] === 0) continue;
              const O = fast.observationSize;
              expect(outFast.finalObservations.subarray(n * O, (n + 1) * O)).toEqual(
                outRef.finalObservations.subarray(n * O, (n + 1) * O),
              );
              expect(fast.finalEmas.subarray(n * H, (n + 1) * H)).toEqual(
                reference.finalEmas.subarray(n * H, (n + 1) * H),
              );
            }
          }
        }
      }
    }
  });

  it("is deterministic for a seed and differs between seeds", () => {
    const a = rollout(7, 30, false);
    const b = rollout(7, 30, false);
    const c = rollout(8, 30, false);
    expect(b.rewards).toEqual(a.rewards);
    expect(b.observations).toEqual(a.observations);
    expect(c.rewards).not.toEqual(a.rewards);
  });

  it("cuts every episode off after episodeDays (truncation, never termination)", () => {
    const { truncations } = rollout(1, 45, false);
    expect(truncations).toBe(8 * 2); // days 20 and 40
  });

  it("overload: planning every habit gets fewer habits done than the person's capacity allows", () => {
    const all = rollout(3, 60, true, overloaded, 32);
    const heuristic = rollout(3, 60, false, overloaded, 32);
    // With 8 habits planned and capacity 3, compliance falls to 40 %.
    expect(all.done).toBeGreaterThan(0);
    expect(all.done / (32 * 60)).toBeLessThan(3.8);
    expect(heuristic.done).toBeGreaterThan(0);
  });

  it("observations follow the coach core layout (EMA − 1, then weekday one-hot)", () => {
    const env = new HabitVectorEnv(seed23, { numEnvs: 2, seed: 5 });
    const obs = new Float32Array(2 * env.observationSize);
    env.reset(obs);
    for (let h = 0; h < 23; h++)
      expect(obs[h]).toBeCloseTo(Math.max(-1, Math.min(1, env.emas[h] - 1)), 6);
    const weekday = Array.from(obs.subarray(23, 30));
    expect(weekday.reduce((x, y) => x + y, 0)).toBe(1);
    expect(weekday.indexOf(1)).toBe(env.weekday[0]);
  });
});
