// A trained, active PolicyModel plans the day: /plan over the emulator stores a plan produced
// by "policy:<id>"; after the habit set changes, the plan falls back to the heuristic.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activePolicyPlanners, choosePolicyLevels } from "../../src/app/policy-planner.js";
import { trainAndEvaluate } from "../../src/app/training/retrain-job.js";
import { habitSpecOf, listHabits } from "../../src/db/habits.js";
import { storePolicyModel } from "../../src/db/training.js";
import { loadPolicy } from "../../src/rl/policy.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { onboard, startTestBot, type TestBot } from "../support/telegram-bot.js";

let database: TestDatabase;
let planners: ReturnType<typeof activePolicyPlanners>;
let t: TestBot;
beforeAll(async () => {
  database = await createTestDatabase();
  planners = activePolicyPlanners(database.db);
  t = await startTestBot({ database, deps: { loadPolicyPlanner: planners.load } });
});
afterAll(async () => {
  planners?.dispose();
  await t?.stop();
  await database?.dispose();
});

describe("planning with the active policy", () => {
  it("plans from the active model, and falls back to the heuristic when habits changed", async () => {
    await onboard(t, 601, { habits: ["run 30min 5/week", "violin 20min daily"] });
    const person = await t.db.prisma.user.findUniqueOrThrow({ where: { telegramId: 601n } });
    const habits = (await listHabits(t.db, person.id)).map(habitSpecOf);
    const trained = await trainAndEvaluate(
      {
        habits,
        planCapacityMinutes: null,
        steps: 512,
        seed: 3,
        numEnvs: 8,
        activeCheckpoint: null,
        evaluation: { episodes: 4, days: 30, seed: 5 },
      },
      () => {},
    );
    const run = await t.db.prisma.trainingRun.create({
      data: { userId: person.id, trigger: "cli", status: "succeeded", hyperparameters: {} },
    });
    const model = await storePolicyModel(
      t.db,
      {
        userId: person.id,
        trainingRunId: run.id,
        bytes: trained.checkpoint,
        formatVersion: trained.formatVersion,
        spec: trained.spec,
        hyperparameters: trained.hyperparameters,
        evaluation: trained.evaluation,
      },
      true,
    );

    // the policy's own choice, in the order of the habits, with a log-probability
    const policy = await loadPolicy(trained.checkpoint);
    const choice = choosePolicyLevels(policy, habits, {}, "2026-11-22");
    expect(choice.policyLevels).toHaveLength(2);
    Array.from(choice.policyLevels).forEach((level, i) => {
      expect(level).toBeGreaterThanOrEqual(0);
      expect(level).toBeLessThan(habits[i].levels.length);
    });
    expect(choice.logProb).toBeLessThanOrEqual(0);
    expect(() => choosePolicyLevels(policy, habits.slice(0, 1), {}, "2026-11-22")).toThrow(
      /trained for a different habit set/,
    );
    policy.dispose();

    await t.emulator.ask(601, "/plan");
    const plan = await t.db.prisma.plan.findFirstOrThrow({ where: { userId: person.id } });
    expect(plan.producedBy).toBe(`policy:${model.id}`);
    expect(plan.modelId).toBe(model.id);
    expect(plan.logProb).not.toBeNull();

    // a loaded policy is cached by model id: a broken checkpoint stored now does not reach it,
    // while a fresh loader reads the checkpoint and refuses it
    const stored = Buffer.from(model.bytes);
    await t.db.prisma.policyModel.update({
      where: { id: model.id },
      data: { bytes: new Uint8Array([1, 2, 3]) },
    });
    const cached = await planners.load(person);
    expect(cached?.modelId).toBe(model.id);
    const fresh = activePolicyPlanners(t.db);
    await expect(fresh.load(person)).rejects.toThrow();
    fresh.dispose();
    await t.db.prisma.policyModel.update({
      where: { id: model.id },
      data: { bytes: new Uint8Array(stored) },
    });

    // a new habit: the active policy no longer fits, tomorrow's plan comes from the heuristic
    await t.emulator.ask(601, "/habits add read 10 pages daily");
    t.clock.advance(24 * 3_600_000);
    await t.emulator.ask(601, "/plan");
    const plans = await t.db.prisma.plan.findMany({
      where: { userId: person.id },
      orderBy: { day: "asc" },
    });
    expect(plans).toHaveLength(2);
    expect(plans[1].producedBy).toBe("heuristic");
  }, 60_000);
});
