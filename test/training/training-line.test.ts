// Nightly training that accumulates (issue 12), the default: with `warmStartFrom: "line"`
// (RETRAIN_WARM_START_FROM) a night's PPO continues the person's latest trained policy model (the
// training line), activated or not, instead of restarting from the active policy every night; it
// falls back to the active policy when that candidate's own evaluation found it worse than the
// active one by more than the noise. `"active"` restarts from the active policy. Real database
// (PGlite, or Postgres with TEST_DATABASE_URL), real tiny trainings; only the evaluation verdicts
// are set by the test (to script activations).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inThreadRunner } from "../../src/app/closed-loop.js";
import { createInProcessQueue } from "../../src/app/training/in-process-queue.js";
import type { RetrainOutcome, RetrainRunner } from "../../src/app/training/retrain.js";
import type { RetrainJobResult } from "../../src/app/training/retrain-job.js";
import { warmStartFrom } from "../../src/app/training/training-policy.js";
import { type AppConfig, parseConfig } from "../../src/config.js";
import {
  activePolicyModelSummary,
  latestTrainedPolicyModel,
  retireActivePolicyModel,
} from "../../src/db/training.js";
import type { User } from "../../src/generated/prisma/client.js";
import { createLogger } from "../../src/logger.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { personWithHabits, TINY_RETRAIN_ENV } from "../support/people.js";

const log = createLogger({ level: "silent", pretty: false, secrets: [] });
const SIZES = TINY_RETRAIN_ENV;
// the first retrain adopts a population policy: the person starts with an active policy
const config = parseConfig({ ...SIZES, POPULATION_POLICY_STEPS: "1024" });
let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.dispose();
});

describe("warmStartFrom", () => {
  const model = (id: number, versusActive: { difference: number; noise: number } | null) => ({
    id,
    evaluation: { versus: { active: versusActive } },
  });
  const active = model(1, null);

  it("continues the latest candidate, however the active policy came about", () => {
    expect(warmStartFrom("line", active, model(5, { difference: 0.001, noise: 0.01 }))).toEqual({
      model: model(5, { difference: 0.001, noise: 0.01 }),
      from: "latest candidate #5",
    });
    // a loss inside the noise is no evidence the line went bad
    expect(warmStartFrom("line", active, model(5, { difference: -0.009, noise: 0.01 })).from).toBe(
      "latest candidate #5",
    );
    // after a retirement (no active policy) the line goes on
    expect(warmStartFrom("line", null, model(5, null)).from).toBe("latest candidate #5");
  });

  it("falls back to the active policy when the candidate lost to it by more than the noise", () => {
    const choice = warmStartFrom("line", active, model(5, { difference: -0.03, noise: 0.01 }));
    expect(choice.model).toBe(active);
    expect(choice.from).toBe(
      "active policy #1 (latest candidate #5 was worse than the active policy by 0.0300 > noise 0.0100)",
    );
    // and to scratch when nothing is active any more
    expect(warmStartFrom("line", null, model(5, { difference: -0.03, noise: 0.01 }))).toMatchObject(
      { model: null, from: expect.stringMatching(/^scratch \(latest candidate #5 was worse/) },
    );
  });

  it("starts from the active policy when it is the latest, in mode active, or with no candidate", () => {
    expect(warmStartFrom("line", active, active)).toEqual({
      model: active,
      from: "active policy #1",
    });
    expect(warmStartFrom("active", active, model(5, null)).from).toBe("active policy #1");
    expect(warmStartFrom("line", active, null).from).toBe("active policy #1");
    expect(warmStartFrom("line", null, null)).toEqual({ model: null, from: "scratch" });
  });
});

/** What a night's evaluation is made to say: whether the candidate beats everything, and how it did against the active policy. */
interface Verdict {
  activate: boolean;
  versusActive?: { difference: number; noise: number };
}

/**
 * One night's retrain of `person` through the in-process queue with the real training (in this
 * thread); the evaluation's verdict is replaced by `verdict` so the test decides activations.
 * Returns the outcome and the checkpoint the training started from.
 */
async function night(
  person: User,
  verdict: Verdict,
  order: { warmStartFrom?: "line" | "active" } = {},
  cfg: AppConfig = config,
): Promise<{ outcome: RetrainOutcome; initialPolicy: Uint8Array | null }> {
  let initialPolicy: Uint8Array | null = null;
  const runner: RetrainRunner = async (request, onProgress, signal) => {
    initialPolicy = request.initialPolicy ? new Uint8Array(request.initialPolicy) : null;
    const result: RetrainJobResult = await inThreadRunner(request, onProgress, signal);
    const versus = result.evaluation.versus!;
    return {
      ...result,
      evaluation: {
        ...result.evaluation,
        versus: {
          ...versus,
          heuristic: { ...versus.heuristic, difference: verdict.activate ? 1 : -1, noise: 0 },
          active: verdict.versusActive ?? {
            difference: verdict.activate ? 1 : 0,
            noise: 0,
          },
          activeVsHeuristic: { difference: 0, noise: 0 },
        },
      },
    };
  };
  const queue = createInProcessQueue(
    { config: cfg, db: t.db, log, now: () => new Date() },
    { runner, instance: "training-line-test" },
  );
  await queue.work(1);
  try {
    const { runId } = await queue.enqueue({
      userId: person.id,
      trigger: "nightly",
      steps: 512,
      ...order,
    });
    await queue.whenIdle();
    const run = await t.db.prisma.trainingRun.findUniqueOrThrow({ where: { id: runId } });
    expect(run.status).toBe("succeeded");
    const outcome = run.summary as unknown as RetrainOutcome;
    // the run's hyperparameters say where it started (shown with the run)
    expect(run.hyperparameters).toMatchObject({ startFrom: outcome.startFrom });
    return { outcome, initialPolicy };
  } finally {
    await queue.stop();
  }
}

const bytesOf = async (id: number) =>
  new Uint8Array(
    (await t.db.prisma.policyModel.findUniqueOrThrow({ where: { id } })).bytes as Uint8Array,
  );

describe("nightly training line", () => {
  it("night 2 continues night 1's candidate though it was not activated", async () => {
    const ada = await personWithHabits(t.db, config, 9401, "Ada");
    const first = await night(ada, { activate: false });
    const adopted = await activePolicyModelSummary(t.db, ada.id);
    expect(adopted?.trainingRunId).toBeNull(); // the population policy, adopted on night 1
    expect(first.outcome.startFrom).toBe(`active policy #${adopted!.id}`);
    expect(first.initialPolicy).toEqual(await bytesOf(adopted!.id));
    expect(first.outcome.activated).toBe(false);

    const candidate = await latestTrainedPolicyModel(t.db, ada.id);
    expect(candidate?.id).toBe(first.outcome.modelId);
    expect(candidate?.active).toBe(false);
    const second = await night(ada, { activate: false });
    expect(second.outcome.startFrom).toBe(`latest candidate #${candidate!.id}`);
    expect(second.outcome.cost?.startedFrom).toBe("warm start");
    expect(second.initialPolicy).toEqual(await bytesOf(candidate!.id));
    // and the line goes on from night 2's candidate
    const third = await night(ada, { activate: false });
    expect(third.outcome.startFrom).toBe(`latest candidate #${second.outcome.modelId}`);
    // "active" (the order's, or RETRAIN_WARM_START_FROM's) restarts from the active policy
    const old = await night(ada, { activate: false }, { warmStartFrom: "active" });
    expect(old.outcome.startFrom).toBe(`active policy #${adopted!.id}`);
    expect(old.initialPolicy).toEqual(await bytesOf(adopted!.id));
    const activeByConfig = parseConfig({
      ...SIZES,
      POPULATION_POLICY_STEPS: "1024",
      RETRAIN_WARM_START_FROM: "active",
    });
    const configured = await night(ada, { activate: false }, {}, activeByConfig);
    expect(configured.outcome.startFrom).toBe(`active policy #${adopted!.id}`);
  }, 180_000);

  it("falls back to the active policy after a candidate that lost to it, and goes on after an activation", async () => {
    const bo = await personWithHabits(t.db, config, 9402, "Bo");
    const adoptedNight = await night(bo, { activate: false });
    const adopted = await activePolicyModelSummary(t.db, bo.id);
    // night 2: its candidate loses to the active policy by more than the noise
    const lost = await night(bo, {
      activate: false,
      versusActive: { difference: -0.05, noise: 0.01 },
    });
    expect(lost.outcome.startFrom).toBe(`latest candidate #${adoptedNight.outcome.modelId}`);
    const third = await night(bo, { activate: true });
    expect(third.outcome.startFrom).toMatch(
      new RegExp(
        `^active policy #${adopted!.id} \\(latest candidate #${lost.outcome.modelId} was worse`,
      ),
    );
    expect(third.initialPolicy).toEqual(await bytesOf(adopted!.id));
    // night 3's candidate was activated: night 4 starts from it (the active policy and the latest)
    expect((await activePolicyModelSummary(t.db, bo.id))?.id).toBe(third.outcome.modelId);
    const fourth = await night(bo, { activate: false });
    expect(fourth.outcome.startFrom).toBe(`active policy #${third.outcome.modelId}`);
  }, 180_000);

  it("after a retirement the line goes on from the latest candidate, not from scratch", async () => {
    const cy = await personWithHabits(t.db, config, 9403, "Cy");
    const first = await night(cy, { activate: false });
    expect(await retireActivePolicyModel(t.db, cy.id)).toBe(true);
    const noPopulation = parseConfig(SIZES);
    const after = await night(cy, { activate: false }, undefined, noPopulation);
    expect(after.outcome.startFrom).toBe(`latest candidate #${first.outcome.modelId}`);
    expect(after.initialPolicy).toEqual(await bytesOf(first.outcome.modelId!));
  }, 180_000);
});
