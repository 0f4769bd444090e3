import { describe, expect, it } from "vitest";
import { createRng, type Rng } from "../../src/coach/rng.js";
import { initBackend } from "../../src/rl/backend.js";
import {
  actWithCommands,
  BehaviourNetwork,
  betterEpisode,
  commandInput,
  type Episode,
  EpisodeStore,
  explorationCommand,
  hindsightSample,
  UDRL_DEFAULTS,
  updateCommand,
} from "../../src/rl/udrl.js";

await initBackend();

/** A generator that returns the given numbers in turn. */
const scripted = (...values: number[]): Rng => {
  let i = 0;
  return { next: () => values[i++ % values.length] };
};

function episode(rewards: number[], extra: Partial<Episode> = {}): Episode {
  const T = rewards.length;
  return {
    observations: Float32Array.from({ length: T }, (_, t) => t),
    actions: Int32Array.from({ length: T }, (_, t) => t % 3),
    rewards: Float32Array.from(rewards),
    length: T,
    totalReward: rewards.reduce((s, r) => s + r, 0),
    heldOut: false,
    ...extra,
  };
}

describe("hindsight commands", () => {
  // Five days with rewards 1, 2, 3, 4, 5 (total 15).
  const handMade = episode([1, 2, 3, 4, 5]);

  it("a segment ending at the episode's end asks for the days and reward that were left", () => {
    // t1 = floor(0.4·5) = 2; 0.5 < 0.75 → t2 = 5: days 2, 3, 4 → 3 days, 3 + 4 + 5 = 12
    const sample = hindsightSample(handMade, scripted(0.4, 0.5), 0.75);
    expect(sample.step).toBe(2);
    expect(sample.command).toEqual({ daysLeft: 3, rewardToGo: 12 });
    expect(handMade.actions[sample.step]).toBe(2);
  });

  it("otherwise the segment ends uniformly after its start", () => {
    // t1 = floor(0.2·5) = 1; 0.9 ≥ 0.75 → t2 = 1 + 1 + floor(0.5·4) = 4: days 1..3 → 2 + 3 + 4
    const sample = hindsightSample(handMade, scripted(0.2, 0.9, 0.5), 0.75);
    expect(sample.step).toBe(1);
    expect(sample.command).toEqual({ daysLeft: 3, rewardToGo: 9 });
    // the shortest segment: one day, that day's reward
    const one = hindsightSample(handMade, scripted(0.99, 0.9, 0), 0.75);
    expect(one.command).toEqual({ daysLeft: 1, rewardToGo: 5 });
  });

  it("with efforts, the command also asks for the effort the segment spent", () => {
    const withEffort = episode([1, 2, 3, 4, 5], { efforts: Float32Array.from([5, 4, 3, 2, 1]) });
    // t1 = 2, t2 = 5: efforts 3 + 2 + 1
    const sample = hindsightSample(withEffort, scripted(0.4, 0.5), 0.75);
    expect(sample.command).toEqual({ daysLeft: 3, rewardToGo: 12, effortToGo: 6 });
  });

  it("about three in four segments end at the episode's end", () => {
    const rng = createRng(7);
    let atEnd = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) {
      const s = hindsightSample(handMade, rng, 0.75);
      if (s.step + s.command.daysLeft === handMade.length) atEnd += 1;
    }
    // 0.75 plus the uniform ends that happen to be the last day (E[1/(5 − t1)]·0.25 ≈ 0.114)
    expect(atEnd / n).toBeGreaterThan(0.82);
    expect(atEnd / n).toBeLessThan(0.9);
  });
});

describe("the episode store", () => {
  it("keeps the best by total reward, then the shorter episode, and drops the worst", () => {
    const store = new EpisodeStore(3, 3);
    const a = episode([1, 1, 1]); // 3 in 3
    const b = episode([5]); // 5 in 1
    const c = episode([1, 1, 1, 1, 1]); // 5 in 5
    const d = episode([2, 2]); // 4 in 2
    const e = episode([0.5]); // 0.5
    for (const x of [a, b, c, d, e]) store.add(x);
    expect(store.best).toEqual([b, c, d]);
    expect(betterEpisode(b, c)).toBeLessThan(0);
    // the FIFO holds the three most recent
    expect(store.recent).toEqual([c, d, e]);
    // every stored episode once (c and d are in both)
    expect(new Set(store.all())).toEqual(new Set([b, c, d, e]));
  });

  it("exploration asks for the best episodes' length and a reward in [mean, mean + std]", () => {
    const store = new EpisodeStore(10, 10);
    for (const r of [
      [10, 10],
      [20, 20],
      [30, 30],
    ])
      store.add(episode(r));
    const config = { ...UDRL_DEFAULTS, commandEpisodes: 2 };
    // best two: totals 60 and 40 → mean 50, std 10, length 2
    expect(explorationCommand(store, config, scripted(0))).toEqual({ daysLeft: 2, rewardToGo: 50 });
    const top = explorationCommand(store, config, scripted(0.999999));
    expect(top.rewardToGo).toBeCloseTo(60, 3);
  });

  it("with an effort part, exploration asks for the best episodes' effort ± its spread", () => {
    const store = new EpisodeStore(10, 10);
    // per-day efforts 1 and 3 for the two best: mean 2, std 1
    store.add(episode([30, 30], { efforts: Float32Array.from([3, 3]) }));
    store.add(episode([20, 20], { efforts: Float32Array.from([1, 1]) }));
    store.add(episode([1, 1], { efforts: Float32Array.from([9, 9]) }));
    const config = { ...UDRL_DEFAULTS, commandEpisodes: 2, effortScale: 1, effortExploration: 1 };
    // reward draw 0 → the best two's mean total 50; effort draw 0 → mean − std = 1 a day, 2 days
    expect(explorationCommand(store, config, scripted(0, 0))).toEqual({
      daysLeft: 2,
      rewardToGo: 50,
      effortToGo: 2,
    });
    expect(explorationCommand(store, config, scripted(0, 0.999999)).effortToGo).toBeCloseTo(6, 3);
  });

  it("pinned episodes stay whatever the FIFO and the priority store drop", () => {
    const store = new EpisodeStore(1, 1);
    const own = episode([0.1]);
    store.pin(own);
    for (const r of [[1], [2], [3]]) store.add(episode(r));
    expect(store.pinned).toEqual([own]);
    expect(store.all()).toContain(own);
    expect(store.all()).toHaveLength(2);
  });
});

describe("acting", () => {
  it("the command moves on each day and stops at zero", () => {
    let command = { daysLeft: 3, rewardToGo: 2 };
    command = updateCommand(command, 0.75);
    expect(command).toEqual({ daysLeft: 2, rewardToGo: 1.25 });
    command = updateCommand(command, 1);
    command = updateCommand(command, 1);
    expect(command).toEqual({ daysLeft: 0, rewardToGo: 0 });
    expect(updateCommand(command, 1)).toEqual({ daysLeft: 0, rewardToGo: 0 });
    // an effort part moves on by the day's effort and stops at zero too
    const effort = updateCommand({ daysLeft: 2, rewardToGo: 1, effortToGo: 5 }, 0.5, 3.5);
    expect(effort).toEqual({ daysLeft: 1, rewardToGo: 0.5, effortToGo: 1.5 });
    expect(updateCommand(effort, 0.5, 4).effortToGo).toBe(0);
  });

  it("an effort part is a third input, per day around its centre", () => {
    const out = new Float32Array(3);
    const config = { ...UDRL_DEFAULTS, effortScale: 2, effortCenter: 3 };
    commandInput({ daysLeft: 10, rewardToGo: 7, effortToGo: 40 }, config, out, 0);
    expect(out[2]).toBeCloseTo((40 / 10 - 3) * 2, 5);
  });

  it("the network's command input encodes the total or the per-day reward", () => {
    const out = new Float32Array(2);
    commandInput({ daysLeft: 10, rewardToGo: 7 }, UDRL_DEFAULTS, out, 0);
    expect(Array.from(out)).toEqual([Math.fround(0.2), Math.fround(0.14)]);
    const perDay = {
      ...UDRL_DEFAULTS,
      commandEncoding: "per-day" as const,
      rewardCenter: 0.5,
      rewardScale: 10,
    };
    commandInput({ daysLeft: 10, rewardToGo: 7 }, perDay, out, 0);
    expect(out[1]).toBeCloseTo(2, 5);
  });

  it("levels a habit lacks are never sampled, whatever the command", () => {
    const levelCount = [2, 5, 3];
    const network = new BehaviourNetwork(
      { observationSize: 4, levelCount },
      { embeddingSize: 16, hiddenSize: 16 },
      createRng(3),
    );
    // Make the head strongly prefer the last padded levels: sampling must still stay in range.
    const weights = network.getWeights();
    const bias = weights[9].values;
    for (let h = 0; h < 3; h++)
      for (let l = 0; l < 5; l++) bias[h * 5 + l] = l >= levelCount[h] ? 50 : 0;
    network.setWeights(weights);
    const rows = 500;
    const rng = createRng(11);
    const observations = Float32Array.from({ length: rows * 4 }, () => rng.next() * 2 - 1);
    const commands = Float32Array.from({ length: rows * 2 }, () => rng.next() * 3);
    const actions = new Int32Array(rows * 3);
    const seen = levelCount.map(() => new Set<number>());
    for (const sampler of [rng, null]) {
      actWithCommands(network, observations, commands, rows, sampler, actions);
      for (let r = 0; r < rows; r++) {
        for (let h = 0; h < 3; h++) {
          expect(actions[r * 3 + h]).toBeGreaterThanOrEqual(0);
          expect(actions[r * 3 + h]).toBeLessThan(levelCount[h]);
          seen[h].add(actions[r * 3 + h]);
        }
      }
    }
    // sampling still explores the levels that exist
    expect(seen[1].size).toBe(5);
    network.dispose();
  });
});
