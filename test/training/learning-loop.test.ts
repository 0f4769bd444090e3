// Learning faster (issue 12): nightly training starts from the active policy (warm start), the
// population policy of a habit set is stored once and adopted by people without a policy, and a
// new policy is activated only when it beats the active one and the stronger heuristic by more
// than the evaluation noise of the paired difference. Tiny trainings (a few thousand steps).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addHabit } from "../../src/app/habits.js";
import { registerPerson } from "../../src/app/people.js";
import {
  adoptPopulationPolicy,
  habitSetKey,
  populationPolicy,
} from "../../src/app/training/population.js";
import { trainAndEvaluate } from "../../src/app/training/retrain-job.js";
import { pairedComparison, shouldActivate } from "../../src/app/training/training-policy.js";
import { assignActorGroups } from "../../src/coach/habits.js";
import { parseConfig } from "../../src/config.js";
import { habitSpecOf, listHabits } from "../../src/db/habits.js";
import { activePolicyModelSummary, policyModelBytes } from "../../src/db/training.js";
import { createLogger } from "../../src/logger.js";
import { decodeCheckpoint } from "../../src/rl/checkpoint.js";
import { trainForHabits } from "../../src/rl/habit-training.js";
import { loadPersonaFile, type Persona } from "../../src/rl/persona.js";
import { populationCheckpointFor } from "../../src/rl/population.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

let steady: Persona;
let overloaded: Persona;
let t: TestDatabase;
const config = parseConfig({ LOG_LEVEL: "silent", TZ_DEFAULT: "Europe/Berlin" });
const log = createLogger({ level: "silent", pretty: false, secrets: [] });

beforeAll(async () => {
  steady = await loadPersonaFile("personas/steady.json");
  overloaded = await loadPersonaFile("personas/overloaded.json");
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.dispose();
});

/** Root of the summed squared differences between two checkpoints' weights. */
function weightDistance(a: Uint8Array, b: Uint8Array): number {
  const wa = decodeCheckpoint(a).weights;
  const wb = decodeCheckpoint(b).weights;
  let sum = 0;
  wa.forEach((w, i) => {
    for (let k = 0; k < w.values.length; k++) sum += (w.values[k] - wb[i].values[k]) ** 2;
  });
  return Math.sqrt(sum);
}

const job = (habits: Persona["habits"], seed: number) => ({
  habits,
  planCapacityMinutes: null,
  steps: 2048,
  seed,
  numEnvs: 16,
  activeCheckpoint: null,
  evaluation: { episodes: 6, days: 40, seed: 99 },
});

describe("activation margin", () => {
  it("pairs the people: the difference of the means, and the noise of the per-person differences", () => {
    const c = pairedComparison([0.8, 0.7, 0.9, 0.6], [0.7, 0.65, 0.8, 0.55]);
    expect(c.difference).toBeCloseTo(0.075, 12);
    // differences 0.1, 0.05, 0.1, 0.05: sd 0.02887, t(3) = 3.182 → 3.182 · 0.02887 / 2
    expect(c.noise).toBeCloseTo((3.182 * Math.sqrt((0.025 ** 2 * 4) / 3)) / 2, 6);
    expect(pairedComparison([0.5, 0.5], [0.5, 0.5])).toEqual({ difference: 0, noise: 0 });
  });

  it("activates only a gain larger than the noise over the stronger heuristic and the active policy", () => {
    const means = { candidate: { meanReward: 0.8 }, heuristic: { meanReward: 0.7 } };
    const versus = (overHeuristic: [number, number], overActive: [number, number] | null) => ({
      heuristic: {
        heuristic: "capacity-aware" as const,
        difference: overHeuristic[0],
        noise: overHeuristic[1],
      },
      active: overActive && { difference: overActive[0], noise: overActive[1] },
    });
    const active = { meanReward: 0.75 };
    expect(shouldActivate({ ...means, active: null, versus: versus([0.05, 0.01], null) })).toBe(
      true,
    );
    // a gain inside the noise keeps what is there, though the means say "better"
    expect(shouldActivate({ ...means, active: null, versus: versus([0.05, 0.06], null) })).toBe(
      false,
    );
    expect(shouldActivate({ ...means, active, versus: versus([0.05, 0.01], [0.01, 0.02]) })).toBe(
      false,
    );
    expect(shouldActivate({ ...means, active, versus: versus([0.05, 0.01], [0.03, 0.02]) })).toBe(
      true,
    );
    expect(shouldActivate({ ...means, active, versus: versus([0.05, 0.01], [0, 0]) })).toBe(false);
    // the stronger heuristic decides even when the plain one is beaten
    expect(shouldActivate({ ...means, active: null, versus: versus([-0.01, 0.005], null) })).toBe(
      false,
    );
  });

  it("a retrain records both heuristics, the paired margins and which heuristic was stronger", async () => {
    const habits = assignActorGroups(overloaded.habits);
    const result = await trainAndEvaluate(job(habits, 5), () => {});
    const e = result.evaluation;
    expect(e.capacityAware?.k).toBe(5); // the default behaviour's capacity for 8 habits
    const stronger =
      e.capacityAware!.meanReward > e.heuristic.meanReward ? "capacity-aware" : "heuristic";
    expect(e.versus?.heuristic.heuristic).toBe(stronger);
    const strongerMean = Math.max(e.capacityAware!.meanReward, e.heuristic.meanReward);
    expect(e.versus!.heuristic.difference).toBeCloseTo(e.candidate.meanReward - strongerMean, 9);
    expect(e.versus!.heuristic.noise).toBeGreaterThan(0);
    expect(e.versus!.active).toBeNull();
  }, 120_000);
});

describe("warm start", () => {
  it("trains on from the active policy: the new weights stay near it, unlike training from scratch", async () => {
    const habits = assignActorGroups(steady.habits);
    const first = await trainForHabits({ habits, steps: 2048, seed: 1, numEnvs: 16 });
    const warm = await trainAndEvaluate(
      { ...job(habits, 2), activeCheckpoint: first.checkpoint, initialPolicy: first.checkpoint },
      () => {},
    );
    const cold = await trainAndEvaluate(
      { ...job(habits, 2), activeCheckpoint: first.checkpoint, initialPolicy: null },
      () => {},
    );
    expect(warm.cost?.startedFrom).toBe("warm start");
    expect(cold.cost?.startedFrom).toBe("scratch");
    const fromWarm = weightDistance(warm.checkpoint, first.checkpoint);
    const fromCold = weightDistance(cold.checkpoint, first.checkpoint);
    expect(fromWarm).toBeGreaterThan(0); // it did train
    expect(fromWarm).toBeLessThan(fromCold / 4);
    // the incumbent was evaluated against the candidate on the same people
    expect(warm.evaluation.versus?.active).not.toBeNull();
  }, 120_000);

  it("starts from scratch, saying why, when the active policy is for another habit set", async () => {
    const other = await trainForHabits({
      habits: assignActorGroups(overloaded.habits),
      steps: 1024,
      seed: 1,
      numEnvs: 16,
    });
    const result = await trainAndEvaluate(
      { ...job(assignActorGroups(steady.habits), 3), initialPolicy: other.checkpoint },
      () => {},
    );
    expect(result.cost?.startedFrom).toMatch(
      /^scratch \(this policy was trained for a different habit set/,
    );
  }, 120_000);
});

describe("population policy", () => {
  it("is stored once per habit-set shape and adopted, under their own habit ids, by people without a policy", async () => {
    const people = [];
    const appDeps = { db: t.db, log, now: () => new Date() };
    for (const [i, name] of ["Ada", "Bo"].entries()) {
      const { person } = await registerPerson(
        { db: t.db, config },
        { telegramId: BigInt(9100 + i), chatId: BigInt(9100 + i), displayName: name },
      );
      for (const h of steady.habits.slice(0, 3)) {
        const added = await addHabit(appDeps, person, {
          name: h.name,
          kind: h.kind,
          unit: h.unit,
          target: h.target,
          daysPerWeek: h.daysPerWeek,
        });
        expect(added.kind).toBe("added");
      }
      people.push(person);
    }
    const habitsOf = async (id: number) => (await listHabits(t.db, id)).map(habitSpecOf);
    const ada = await habitsOf(people[0].id);
    const bo = await habitsOf(people[1].id);
    // the same shape, different ids: one key
    expect(ada.map((h) => h.id)).not.toEqual(bo.map((h) => h.id));
    expect(habitSetKey(ada, null)).toBe(habitSetKey(bo, null));
    expect(await adoptPopulationPolicy(t.db, people[0])).toEqual({ kind: "none-stored" });

    const first = await populationPolicy(t.db, ada, null, { steps: 2048 });
    expect(first.trained).toBe(true);
    expect(first.model.userId).toBeNull();
    const again = await populationPolicy(t.db, bo, null, { steps: 2048 });
    expect(again).toMatchObject({ trained: false, model: { id: first.model.id } });

    const adopted = await adoptPopulationPolicy(t.db, people[1]);
    expect(adopted.kind).toBe("adopted");
    const active = await activePolicyModelSummary(t.db, people[1].id);
    expect(active?.id).toBe(adopted.kind === "adopted" ? adopted.model.id : -1);
    const bytes = await policyModelBytes(t.db, active!.id);
    const spec = decodeCheckpoint(bytes as Uint8Array).header.observationSpec;
    expect(spec.habitIds).toEqual(bo.map((h) => h.id));
    expect(await adoptPopulationPolicy(t.db, people[1])).toEqual({ kind: "has-policy" });

    // another shape is refused, naming the difference
    const wider = bo.map((h, i) => (i === 0 ? { ...h, levels: [...h.levels, 99] } : h));
    expect(() => populationCheckpointFor(new Uint8Array(first.model.bytes), wider)).toThrow(
      /another habit set: habit .* levels/,
    );
  }, 120_000);
});
