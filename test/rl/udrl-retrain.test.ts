// The nightly retrain of a person whose coach is UDRL learns from their own logged days: the job
// carries the stored history, the worker thread turns it into episodes pinned in the episode
// store (counted in the run's training summary), and the new policy becomes active only through
// the same guarded activation as any other (shouldActivate on the run's evaluation).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setCoachAlgorithm } from "../../src/app/coach-algorithm.js";
import { seedSimulatedPeople } from "../../src/app/simulated-people.js";
import { createInProcessQueue } from "../../src/app/training/in-process-queue.js";
import { type RetrainRunner, workerThreadRunner } from "../../src/app/training/retrain.js";
import type { RetrainJobRequest } from "../../src/app/training/retrain-job.js";
import { shouldActivate } from "../../src/app/training/training-policy.js";
import { parseConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { loadPersonaFile } from "../../src/rl/persona.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.dispose();
});

describe("a UDRL coach's nightly retrain", () => {
  it("trains on the person's logged days beside simulated ones, activated only if it passes", async () => {
    const deps = {
      config: parseConfig({ LOG_LEVEL: "silent", RETRAIN_CRON: "off" }),
      db: t.db,
      log: createLogger({ level: "silent", pretty: false, secrets: [] }),
      now: () => new Date(),
    };
    const persona = await loadPersonaFile("personas/steady.json");
    const { people } = await seedSimulatedPeople(deps, persona, { people: 2, days: 60, seed: 4 });
    const [udrlPerson, ppoPerson] = people;
    const users = await t.db.prisma.user.findMany({ where: { id: udrlPerson.personId } });
    await setCoachAlgorithm(deps, users, "udrl");
    const jobs: RetrainJobRequest[] = [];
    const runner: RetrainRunner = (job, onProgress, signal) => {
      jobs.push(job);
      return workerThreadRunner(job, onProgress, signal);
    };
    const queue = createInProcessQueue(deps, { runner });
    const size = { steps: 5000, numEnvs: 8, evalEpisodes: 8, evalDays: 60 };
    const udrlRun = await queue.enqueue({ userId: udrlPerson.personId, trigger: "cli", ...size });
    const ppoRun = await queue.enqueue({
      userId: ppoPerson.personId,
      trigger: "cli",
      ...size,
      steps: 1024,
    });
    if (udrlRun.kind !== "queued" || ppoRun.kind !== "queued") throw new Error("not queued");
    await queue.work(1);
    await queue.whenIdle();
    await queue.stop();

    const udrlJob = jobs.find((j) => j.algorithm === "udrl");
    const ppoJob = jobs.find((j) => j.algorithm === "ppo");
    // the job carries the stored days (a plan on each); PPO's does not
    expect(udrlJob?.history?.length).toBeGreaterThanOrEqual(50);
    expect(udrlJob?.history?.every((d) => d.planned !== null)).toBe(true);
    expect(ppoJob?.history).toBeUndefined();

    const run = await t.db.prisma.trainingRun.findUniqueOrThrow({ where: { id: udrlRun.runId } });
    expect(run.status).toBe("succeeded");
    const summary = run.summary as unknown as {
      training: { pinnedEpisodes: number };
      evaluation: Parameters<typeof shouldActivate>[0];
    };
    // ≥ 50 days less the 14-day EMA burn-in: at least one full 28-day episode and a shorter one
    expect(summary.training.pinnedEpisodes).toBeGreaterThanOrEqual(2);
    const model = await t.db.prisma.policyModel.findFirstOrThrow({
      where: { trainingRunId: udrlRun.runId },
    });
    expect(model.active).toBe(shouldActivate(summary.evaluation));
  }, 600_000);
});
