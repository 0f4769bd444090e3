// The population policy seeded on first use (src/app/training/population.ts): with
// POPULATION_POLICY_STEPS > 0 the first retrain of someone whose habit-set shape has no stored
// population policy trains one in a worker thread, stores it (versioned, with the network design)
// and adopts it, and that retrain warm-starts from it; the next person of the same shape adopts
// the stored one without training; a stored one of another design is not used. Off by default.
// Real database (PGlite, or Postgres with TEST_DATABASE_URL).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inThreadRunner } from "../../src/app/closed-loop.js";
import { createInProcessQueue } from "../../src/app/training/in-process-queue.js";
import {
  adoptPopulationPolicy,
  habitSetKey,
  POPULATION_POLICY_VERSION,
  storedPopulationPolicy,
} from "../../src/app/training/population.js";
import type { RetrainOutcome } from "../../src/app/training/retrain.js";
import { type AppConfig, parseConfig } from "../../src/config.js";
import { habitSpecOf, listHabits } from "../../src/db/habits.js";
import type { User } from "../../src/generated/prisma/client.js";
import { createLogger } from "../../src/logger.js";
import { HABIT_PPO } from "../../src/rl/habit-training.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { personWithHabits, TINY_RETRAIN_ENV } from "../support/people.js";

const SIZES = TINY_RETRAIN_ENV;
const log = createLogger({ level: "silent", pretty: false, secrets: [] });
let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.dispose();
});

/** One retrain of `person` through the in-process queue (training in this thread). */
async function retrain(config: AppConfig, person: User): Promise<RetrainOutcome> {
  const queue = createInProcessQueue(
    { config, db: t.db, log, now: () => new Date() },
    { runner: inThreadRunner, instance: "population-seed-test" },
  );
  await queue.work(1);
  try {
    const { runId } = await queue.enqueue({ userId: person.id, trigger: "cli", steps: 512 });
    await queue.whenIdle();
    const run = await t.db.prisma.trainingRun.findUniqueOrThrow({ where: { id: runId } });
    expect(run.status).toBe("succeeded");
    return run.summary as unknown as RetrainOutcome;
  } finally {
    await queue.stop();
  }
}

const sharedModels = () => t.db.prisma.policyModel.findMany({ where: { userId: null } });

describe("population policy seeded on first use", () => {
  it("is off by default: a retrain trains no population policy", async () => {
    const config = parseConfig(SIZES);
    expect(config.populationPolicySteps).toBe(0);
    const cy = await personWithHabits(t.db, config, 9301, "Cy");
    await retrain(config, cy);
    expect(await sharedModels()).toEqual([]);
  }, 120_000);

  it("is trained, stored with version and design, adopted and warm-started from by the first retrain of a shape; the next person of that shape adopts it without training", async () => {
    const config = parseConfig({ ...SIZES, POPULATION_POLICY_STEPS: "2048" });
    expect(config.populationPolicySteps).toBe(2048);
    const ada = await personWithHabits(t.db, config, 9302, "Ada");
    const outcome = await retrain(config, ada);
    const shared = await sharedModels();
    expect(shared).toHaveLength(1);
    const habits = (await listHabits(t.db, ada.id)).map(habitSpecOf);
    const key = habitSetKey(habits, ada.capacityMinutes);
    expect(shared[0].hyperparameters).toMatchObject({
      population: {
        version: POPULATION_POLICY_VERSION,
        key,
        steps: 2048,
        design: JSON.stringify(HABIT_PPO.network),
      },
    });
    // adopted: a copy under Ada's habit ids, and the night's training started from it
    const adopted = await t.db.prisma.policyModel.findMany({
      where: { userId: ada.id, trainingRunId: null },
    });
    expect(adopted.map((m) => m.evaluation)).toEqual([{ adoptedFrom: shared[0].id }]);
    expect(outcome.cost?.startedFrom).toBe("warm start");

    // Bo has the same shape (other ids): adopts the stored one, nothing trained again
    const bo = await personWithHabits(t.db, config, 9303, "Bo");
    expect((await retrain(config, bo)).cost?.startedFrom).toBe("warm start");
    expect((await sharedModels()).map((m) => m.id)).toEqual([shared[0].id]);

    // a stored policy of another network design (or version) is not used
    await t.db.prisma.policyModel.update({
      where: { id: shared[0].id },
      data: {
        hyperparameters: {
          ...(shared[0].hyperparameters as object),
          population: { version: POPULATION_POLICY_VERSION, key, steps: 2048, design: "{}" },
        },
      },
    });
    expect(await storedPopulationPolicy(t.db, key)).toBeNull();
    const di = await personWithHabits(t.db, config, 9304, "Di");
    expect(await adoptPopulationPolicy(t.db, di)).toEqual({ kind: "none-stored" });
  }, 240_000);
});
