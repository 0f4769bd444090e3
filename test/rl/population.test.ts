import { describe, expect, it } from "vitest";
import { assignActorGroups } from "../../src/coach/habits.js";
import { loadPersonaFile, type Persona } from "../../src/rl/persona.js";
import { POPULATION_START, populationBehaviours, populationEnv } from "../../src/rl/population.js";

const seed23 = await loadPersonaFile("personas/seed-23.json");
const steady = await loadPersonaFile("personas/steady.json");

describe("the population's behaviours", () => {
  // With capacities down to 2 and penalties up to 25 % per extra habit, most of 23 habits'
  // population lost every planned habit to overload when many were planned: the policy learnt
  // to plan (almost) nothing for a new person on seed-23's habit set.
  it("have a capacity relative to the habit count and overload penalties of 2–15 % per habit", () => {
    for (const persona of [seed23, steady]) {
      const H = persona.habits.length;
      const behaviours = populationBehaviours(persona.habits, 64, 5);
      for (const b of behaviours) {
        expect(b.capacity).toBeGreaterThanOrEqual(Math.max(2, Math.round(0.3 * H)));
        expect(b.capacity).toBeLessThanOrEqual(H);
        expect(b.overloadPenalty).toBeGreaterThanOrEqual(0.02);
        expect(b.overloadPenalty).toBeLessThanOrEqual(0.15);
      }
      // spread over the range, not one value
      const capacities = new Set(behaviours.map((b) => b.capacity));
      expect(capacities.size).toBeGreaterThan(H > 10 ? 8 : 2);
    }
  });

  it("are the same for the same seed and differ for another", () => {
    const a = populationBehaviours(seed23.habits, 4, 1);
    expect(populationBehaviours(seed23.habits, 4, 1)).toEqual(a);
    expect(populationBehaviours(seed23.habits, 4, 2)).not.toEqual(a);
  });
});

describe("the population's people", () => {
  const personas = (habits: Persona["habits"]): Persona[] =>
    populationBehaviours(habits, 4, 3).map((behaviour, i) => ({
      ...seed23,
      name: `population-${i}`,
      habits,
      behaviour,
    }));

  // The population policy plans for people who have just started: EMAs near 0. Trained only on
  // people whose EMAs started anywhere in [0, 1.3] over a year, its greedy plan for all-zero
  // EMAs on seed-23's habit set was "nothing", a state it then never left.
  it("half of them start like a new person (EMAs near 0) and are new again every few months", () => {
    const habits = assignActorGroups(seed23.habits);
    const env = populationEnv(personas(habits), 64, 7);
    expect(POPULATION_START.initialEmaMax).toBeLessThan(0.5);
    const obs = new Float32Array(env.numEnvs * env.observationSize);
    env.reset(obs);
    const fresh = env.members.filter((_, i) => i % 2 === 0);
    const others = env.members.filter((_, i) => i % 2 === 1);
    for (const member of fresh) {
      expect(member.episodeDays).toBe(POPULATION_START.episodeDays);
      expect(Math.max(...member.emas)).toBeLessThanOrEqual(POPULATION_START.initialEmaMax);
    }
    const all = fresh.flatMap((m) => Array.from(m.emas));
    // drawn, not all equal
    expect(new Set(all).size).toBeGreaterThan(all.length / 2);
    // the other half as any simulated person: anywhere in [0, 1.3], a year each
    for (const member of others) expect(member.episodeDays).toBe(365);
    expect(Math.max(...others.flatMap((m) => Array.from(m.emas)))).toBeGreaterThan(1);
  });
});
