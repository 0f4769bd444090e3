// Retiring an active policy that is worse than the heuristic for the person
// (shouldRetire in src/app/training/training-policy.ts, applied by the retrain): pure cases, and
// the closed loop with an adopted population policy whose evaluation says it is clearly worse
// than the heuristic (the runner, the retrain's seam, reports it so: whether a small policy loses
// depends on the learner) — already judged on the default behaviour (it was trained on people
// around it), the first night's retrain retires it, the heuristic plans from the next morning,
// and the population policy is not adopted again.
// Real database (PGlite, or Postgres with TEST_DATABASE_URL).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inThreadRunner, runClosedLoop } from "../../src/app/closed-loop.js";
import type { RetrainOutcome } from "../../src/app/training/retrain.js";
import {
  type ActivationEvidence,
  MIN_HISTORY_DAYS,
  shouldRetire,
} from "../../src/app/training/training-policy.js";
import { parseConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { loadPersonaFile } from "../../src/rl/persona.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

const evidence = (
  candidateVsHeuristic: number,
  candidateVsActive: number,
  activeVsHeuristic: number | null,
  noise = 0.01,
): ActivationEvidence => ({
  candidate: { meanReward: 0.5 },
  heuristic: { meanReward: 0.5 },
  active: { meanReward: 0.5 },
  versus: {
    heuristic: { heuristic: "heuristic", difference: candidateVsHeuristic, noise },
    active: { difference: candidateVsActive, noise },
    activeVsHeuristic: activeVsHeuristic === null ? null : { difference: activeVsHeuristic, noise },
  },
});

describe("shouldRetire", () => {
  it("retires an active policy worse than the heuristic by more than the noise, on an informed behaviour only", () => {
    expect(shouldRetire(evidence(-0.05, 0, -0.05), true)).toBe(true);
    // a policy of their own on the default behaviour: nothing is known about the person yet
    expect(shouldRetire(evidence(-0.05, 0, -0.05), false)).toBe(false);
    // inside the noise: kept
    expect(shouldRetire(evidence(-0.05, 0, -0.005), true)).toBe(false);
    // better than the heuristic: kept
    expect(shouldRetire(evidence(-0.05, 0, 0.02), true)).toBe(false);
    // the candidate replaces it anyway
    expect(shouldRetire(evidence(0.05, 0.05, -0.05), true)).toBe(false);
    // no active policy evaluated, or a run from before the comparison was recorded
    expect(shouldRetire(evidence(-0.05, 0, null), true)).toBe(false);
    expect(
      shouldRetire(
        { candidate: { meanReward: 0.4 }, heuristic: { meanReward: 0.6 }, active: null },
        true,
      ),
    ).toBe(false);
  });
});

const config = parseConfig({
  LOG_LEVEL: "silent",
  TZ_DEFAULT: "Europe/Berlin",
  RETRAIN_NUM_ENVS: "8",
  RETRAIN_EVAL_EPISODES: "8",
  RETRAIN_EVAL_DAYS: "60",
});
const log = createLogger({ level: "silent", pretty: false, secrets: [] });
let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.dispose();
});

describe("the retrain retires a policy worse than the heuristic", () => {
  it("hands planning back to the heuristic and does not adopt the population policy again", async () => {
    const steady = await loadPersonaFile("personas/steady.json");
    const days = MIN_HISTORY_DAYS + 4;
    const outcomes: RetrainOutcome[] = [];
    const result = await runClosedLoop({ config, db: t.db, log }, steady, {
      people: 1,
      days,
      seed: 31,
      stepsPerNight: 512,
      arms: ["product"],
      populationSteps: 1024,
      // every night: the active policy 0.1 below the heuristic, and no candidate good enough
      runner: async (request, onProgress, signal) => {
        const result = await inThreadRunner(request, onProgress, signal);
        const versus = result.evaluation.versus!;
        versus.heuristic = { ...versus.heuristic, difference: -0.1, noise: 0.01 };
        if (versus.activeVsHeuristic) versus.activeVsHeuristic = { difference: -0.1, noise: 0.01 };
        return result;
      },
      onRetrain: (_night, outcome) => outcomes.push(outcome),
    });
    expect(outcomes).toHaveLength(days);
    // the population policy went through its new-person check (recorded in the result)
    expect(result.population?.attempt).toBeGreaterThanOrEqual(1);
    expect(result.population?.attempt).toBeLessThanOrEqual(3);
    expect(result.population?.newPersonCheck).toMatchObject({ passed: expect.any(Boolean) });
    const retiredAt = outcomes.findIndex((o) => o.retired === true);
    // the first night, on the default behaviour (MIN_HISTORY_DAYS of history are not there yet)
    expect(retiredAt).toBe(0);
    expect(outcomes[0].behaviour?.source).toBe("default");
    expect(outcomes.filter((o) => o.retired === true)).toHaveLength(1);

    const person = await t.db.prisma.user.findFirstOrThrow({
      where: { displayName: { contains: "seed 31" } },
    });
    const models = await t.db.prisma.policyModel.findMany({ where: { userId: person.id } });
    // adopted once, never again after the retirement
    expect(models.filter((m) => m.trainingRunId === null)).toHaveLength(1);
    // the plans after the retirement night: the heuristic's
    const plans = await t.db.prisma.plan.findMany({
      where: { userId: person.id },
      orderBy: { day: "asc" },
    });
    expect(plans).toHaveLength(days);
    expect(outcomes.some((o) => o.activated)).toBe(false);
    for (const plan of plans.slice(1)) expect(plan.producedBy).toBe("heuristic");
    expect(models.some((m) => m.active)).toBe(false);
    expect(plans[0].producedBy).toMatch(/^policy:/);
  }, 600_000);
});
