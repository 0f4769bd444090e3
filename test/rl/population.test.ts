import { describe, expect, it } from "vitest";
import { assignActorGroups } from "../../src/coach/habits.js";
import { decodeCheckpoint } from "../../src/rl/checkpoint.js";
import { evaluatePlanner, heuristicPlanner, type Planner } from "../../src/rl/evaluate.js";
import { defaultBehaviour } from "../../src/rl/habit-training.js";
import { loadPersonaFile, type Persona } from "../../src/rl/persona.js";
import {
  checkForNewPerson,
  POPULATION_START,
  populationAttemptSeed,
  populationBehaviours,
  populationEnv,
  trainPopulationPolicy,
} from "../../src/rl/population.js";

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

describe("the population policy's check for a new person", () => {
  const newPerson = (persona: Persona): Persona => ({
    ...persona,
    habits: assignActorGroups(persona.habits),
    behaviour: defaultBehaviour(assignActorGroups(persona.habits)),
  });
  // what seed-23's collapsed population policy did: level 0 for every habit, every day
  const plansNothing: Planner = (_env, _obs, actions) => actions.fill(0);

  it("fails a policy that plans nothing for someone starting from zero, passes the heuristic", () => {
    for (const persona of [seed23, steady]) {
      const nothing = checkForNewPerson(newPerson(persona), plansNothing, 1);
      expect(nothing.passed).toBe(false);
      expect(nothing.difference).toBeLessThan(-nothing.noise);
      expect(nothing.policy).toBeLessThan(nothing.heuristic);
      const itself = checkForNewPerson(newPerson(persona), heuristicPlanner(), 1);
      expect(itself).toMatchObject({ difference: 0, passed: true });
      expect(itself.heuristic).toBeGreaterThan(0.1);
    }
  });

  it("judges new people: all EMAs start at 0, unlike the usual evaluation", () => {
    // on the usual start (EMAs up to 1.3) planning nothing still earns reward on day 1
    const persona = newPerson(steady);
    const firstDay = (initialEmaMax?: number) =>
      evaluatePlanner(persona, plansNothing, { episodes: 8, days: 1, seed: 3, initialEmaMax })
        .meanReward;
    expect(firstDay()).toBeGreaterThan(0.2);
    expect(firstDay(0)).toBeLessThan(0.1);
  });

  it("keeps the first training that passes, else the best, and records which in the checkpoint", async () => {
    const habits = assignActorGroups(steady.habits);
    const paths = new Set<string>();
    // tiny trainings (512 steps) of steady's habits: seed 4's first passes, seed 3's second,
    // none of seed 1's three (found by trying seeds; the assertions hold for any outcome)
    for (const seed of [4, 3, 1]) {
      const bytes = await trainPopulationPolicy({
        habits,
        steps: 512,
        seed,
        behaviours: 4,
        attempts: 3,
        config: { rolloutSteps: 64 },
      });
      const training = decodeCheckpoint(bytes).header.training;
      const checks = training?.newPersonChecks ?? [];
      const firstPass = checks.findIndex((c) => c.passed);
      // tried until one passed, at most three times
      expect(checks.length).toBe(firstPass === -1 ? 3 : firstPass + 1);
      // kept: the one that passed, else the one that did best for new people
      const best = checks.reduce((b, c, i) => (c.difference > checks[b].difference ? i : b), 0);
      const attempt = training?.attempt ?? 0;
      expect(attempt).toBe((firstPass === -1 ? best : firstPass) + 1);
      expect(training?.newPersonCheck?.difference).toBe(checks[attempt - 1].difference);
      expect(training?.seed).toBe(populationAttemptSeed(seed, attempt - 1));
      paths.add(firstPass === 0 ? "first" : firstPass > 0 ? "later" : "none");
    }
    expect([...paths].sort()).toEqual(["first", "later", "none"]);
    expect(populationAttemptSeed(4, 0)).toBe(4);
    expect(populationAttemptSeed(4, 1)).not.toBe(populationAttemptSeed(4, 2));
  });
});
