// UDRL learning from a person's own logged days: a hand-made history becomes hindsight episodes
// (observation from the EMAs before the day, the plan's levels, the coach core's reward of the
// EMAs after what was done, the plan's load), and training pins them in the episode store.
import { describe, expect, it } from "vitest";
import { compileHabits, plannedLoad } from "../../src/coach/adjust.js";
import {
  alphaFromSpan,
  DEFAULT_EMA_SPAN_DAYS,
  dailyReward,
  emaStep,
  normalisedValue,
} from "../../src/coach/ema.js";
import type { HabitSpec } from "../../src/coach/habits.js";
import { buildObservation, observationSpec } from "../../src/coach/observation.js";
import { createRng } from "../../src/coach/rng.js";
import { initBackend } from "../../src/rl/backend.js";
import type { HistoryDay } from "../../src/rl/fit-behaviour.js";
import { HabitVectorEnv } from "../../src/rl/habit-env.js";
import { loadPersonaFile } from "../../src/rl/persona.js";
import { type Episode, trainUdrl, UDRL_DEFAULTS } from "../../src/rl/udrl.js";
import { historyEpisodes } from "../../src/rl/udrl-history.js";
import { trainUdrlForHabits, UDRL_HABIT_EPISODE_DAYS } from "../../src/rl/udrl-policy.js";

await initBackend();

const habit = (id: string, target: number, levels: number[], daysPerWeek = 7): HabitSpec => ({
  id,
  name: id,
  aliases: [],
  kind: "duration",
  unit: "min",
  target,
  daysPerWeek,
  levels,
  exclusiveGroup: null,
  actorGroup: 0,
});

const habits = [habit("10", 30, [0, 15, 30, 45]), habit("11", 10, [0, 5, 10], 5)];
const compiled = compileHabits(habits);
const spec = observationSpec(habits);

/** Day i: walk planned 30 (or 20 → nearest level 15) and done 30 on even days; read planned 10. */
function day(i: number, planned: boolean): HistoryDay {
  return {
    weekday: i % 7,
    planned: planned ? { "10": i % 3 === 0 ? 20 : 30, "11": 10 } : null,
    done: { "10": i % 2 === 0 ? 30 : 0, "11": 5 },
  };
}

describe("a person's logged days as UDRL episodes", () => {
  // 2 burn-in days, then 6 planned days, a day without a plan, then 4 planned days
  const days = [
    ...Array.from({ length: 8 }, (_, i) => day(i, true)),
    day(8, false),
    ...Array.from({ length: 4 }, (_, i) => day(9 + i, true)),
  ];
  const episodes = historyEpisodes(compiled, spec, days, {
    episodeDays: 5,
    burnInDays: 2,
    minEpisodeDays: 3,
  });

  it("cuts stretches at days without a plan and at the episode length, dropping short ones", () => {
    // days 2–6 (5 days: full), day 7 alone (1 day: dropped), days 9–12 (4 days)
    expect(episodes.map((e) => e.length)).toEqual([5, 4]);
    for (const e of episodes) expect(e.heldOut).toBe(false);
  });

  it("replays the coach core's EMAs: observations before each day, rewards after it", () => {
    const alpha = alphaFromSpan(DEFAULT_EMA_SPAN_DAYS);
    const emas = [0, 0];
    const expected: { observation: Float32Array; reward: number; levels: number[] }[] = [];
    days.forEach((d, i) => {
      const observation = buildObservation(spec, emas, d.weekday);
      habits.forEach((h, k) => {
        emas[k] = emaStep(emas[k], normalisedValue(h, d.done[h.id]), alpha);
      });
      const levels = [i % 3 === 0 ? 1 : 2, 2]; // 20 → 15 (level 1), 30 → level 2; 10 → level 2
      expected.push({ observation, reward: dailyReward(emas), levels });
    });
    const first = episodes[0];
    const O = spec.size;
    for (let t = 0; t < first.length; t++) {
      const want = expected[2 + t];
      expect(Array.from(first.observations.subarray(t * O, (t + 1) * O))).toEqual(
        Array.from(want.observation),
      );
      expect(Array.from(first.actions.subarray(t * 2, t * 2 + 2))).toEqual(want.levels);
      expect(first.rewards[t]).toBeCloseTo(want.reward, 6);
      expect(first.efforts?.[t]).toBeCloseTo(plannedLoad(compiled, want.levels), 6);
    }
    const second = episodes[1];
    expect(second.rewards[0]).toBeCloseTo(expected[9].reward, 6);
    expect(second.totalReward).toBeCloseTo(
      expected.slice(9, 13).reduce((s, x) => s + x.reward, 0),
      5,
    );
  });

  it("no history, or only burn-in days, gives no episodes", () => {
    expect(historyEpisodes(compiled, spec, [], { episodeDays: 28 })).toEqual([]);
    expect(historyEpisodes(compiled, spec, days.slice(0, 10), { episodeDays: 28 })).toEqual([]);
  });
});

describe("training with a person's own episodes", () => {
  it("pins them in the episode store for the whole training", async () => {
    const steady = await loadPersonaFile("personas/steady.json");
    const env = new HabitVectorEnv(steady, { numEnvs: 8, seed: 3, episodeDays: 10 });
    const H = env.actionCount;
    const own: Episode[] = [0.1, 0.2].map((reward) => ({
      observations: new Float32Array(10 * env.observationSize),
      actions: new Int32Array(10 * H),
      rewards: new Float32Array(10).fill(reward),
      efforts: new Float32Array(10),
      length: 10,
      totalReward: 10 * reward,
      heldOut: false,
    }));
    const { store, summary, network } = await trainUdrl({
      env,
      spec: { observationSize: env.observationSize, levelCount: env.policySpec.levelCount },
      config: {
        ...UDRL_DEFAULTS,
        totalSteps: 2000,
        recentEpisodes: 16,
        warmupEpisodes: 16,
        episodesPerIteration: 8,
        samplesPerIteration: 512,
        maxGradientSteps: 20,
        effortScale: 1,
      },
      rng: createRng(5),
      effortOf: (actions) => plannedLoad(env.compiled, actions),
      pinnedEpisodes: own,
    });
    network.dispose();
    // far more simulated episodes than the FIFO holds went through; the person's stayed
    expect(summary.episodes).toBeGreaterThan(16 * 3);
    expect(summary.pinnedEpisodes).toBe(2);
    expect(store.pinned).toEqual(own);
    for (const e of own) expect(store.all()).toContain(e);
  });

  it("trainUdrlForHabits turns logged days into pinned episodes", async () => {
    const steady = await loadPersonaFile("personas/steady.json");
    const ids = steady.habits.map((h) => h.id);
    const logged: HistoryDay[] = Array.from(
      { length: 14 + 2 * UDRL_HABIT_EPISODE_DAYS },
      (_, i) => ({
        weekday: i % 7,
        planned: Object.fromEntries(ids.map((id) => [id, 1])),
        done: Object.fromEntries(ids.map((id) => [id, 1])),
      }),
    );
    const trained = await trainUdrlForHabits({
      habits: steady.habits,
      behaviour: steady.behaviour,
      planCapacityMinutes: null,
      steps: 3000,
      seed: 1,
      numEnvs: 8,
      config: { warmupEpisodes: 8, episodesPerIteration: 8, maxGradientSteps: 10 },
      history: logged,
    });
    expect(trained.training.pinnedEpisodes).toBe(2);
  });
});
