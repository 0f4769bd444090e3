// The closed loop (`coachrl simulate`): the product against simulated people whose persona is
// their hidden behaviour. Tiny runs: one or two people, a couple of weeks, a few hundred PPO
// steps a night. Real database (PGlite, or Postgres with TEST_DATABASE_URL).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inThreadRunner, runClosedLoop } from "../../src/app/closed-loop.js";
import type { RetrainOutcome, RetrainRunner } from "../../src/app/training/retrain.js";
import type { RetrainJobRequest } from "../../src/app/training/retrain-job.js";
import { MIN_HISTORY_DAYS } from "../../src/app/training/training-policy.js";
import { parseConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { decodeCheckpoint } from "../../src/rl/checkpoint.js";
import { loadPersonaFile, type Persona } from "../../src/rl/persona.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

const config = parseConfig({
  LOG_LEVEL: "silent",
  TZ_DEFAULT: "Europe/Berlin",
  RETRAIN_NUM_ENVS: "8",
  RETRAIN_EVAL_EPISODES: "4",
  RETRAIN_EVAL_DAYS: "30",
});
const log = createLogger({ level: "silent", pretty: false, secrets: [] });
let t: TestDatabase;
let persona: Persona;

beforeAll(async () => {
  t = await createTestDatabase();
  const steady = await loadPersonaFile("personas/steady.json");
  // a true behaviour no fit would ever produce by accident: every compliance 0.61803…
  persona = {
    ...steady,
    name: "marked steady",
    behaviour: {
      ...steady.behaviour,
      habits: Object.fromEntries(
        Object.entries(steady.behaviour.habits).map(([id, b], i) => [
          id,
          { ...b, compliance: 0.6180339887 - i * 1e-9 },
        ]),
      ),
    },
  };
});
afterAll(async () => {
  await t?.dispose();
});

/** The product's retrain runner, keeping a copy of every request it ran. */
function recording(requests: RetrainJobRequest[]): RetrainRunner {
  return (request, onProgress, signal) => {
    requests.push(structuredClone(request));
    return inThreadRunner(request, onProgress, signal);
  };
}

describe("the closed loop", () => {
  it("runs a UDRL coach as an arm on the same people (trained on the true persona)", async () => {
    const result = await runClosedLoop({ config, db: t.db, log }, persona, {
      people: 2,
      days: 10,
      seed: 11,
      stepsPerNight: 512,
      arms: ["heuristic", "udrl"],
      // the arm's wiring, not its quality: a coach stopped inside its warm-up (never fitted)
      // plans unlike the heuristic; one trained for 6,000 or 20,000 steps plans new people's
      // first days (every habit far behind) exactly as the heuristic does (half its warm-up)
      udrlSteps: 1000,
      retrain: false,
    });
    expect(result.arms.map((a) => a.name)).toEqual(["heuristic", "udrl"]);
    expect(result.udrlSteps).toBe(1000);
    const [heuristic, udrl] = result.arms;
    expect(udrl.perPerson).toHaveLength(2);
    for (const person of udrl.perPerson) {
      expect(person).toHaveLength(10);
      for (const reward of person) expect(reward).toBeLessThanOrEqual(1);
    }
    expect(udrl.meanDaily).not.toEqual(heuristic.meanDaily);
  }, 600_000);

  it("without retraining, the product plans like the heuristic arm: same people, same days, same rewards", async () => {
    const result = await runClosedLoop({ config, db: t.db, log }, persona, {
      people: 2,
      days: 12,
      seed: 3,
      stepsPerNight: 512,
      arms: ["product", "heuristic"],
      retrain: false,
    });
    const [product, heuristic] = result.arms;
    expect(product.name).toBe("product");
    expect(product.perPerson).toHaveLength(2);
    expect(product.perPerson[0]).toHaveLength(12);
    // the product's rewards come from its own log (emaSeries); the arm's from stepEmas in memory
    for (let p = 0; p < 2; p++) {
      product.perPerson[p].forEach((reward, d) => {
        expect(reward).toBeCloseTo(heuristic.perPerson[p][d], 12);
      });
    }
    // the two people live different days
    expect(product.perPerson[0]).not.toEqual(product.perPerson[1]);
    expect(result.unreported).toEqual({});
    expect(result.nights).toEqual([]);
    const plans = await t.db.prisma.plan.findMany({
      where: { user: { displayName: { contains: "seed 3" } } },
    });
    expect(plans).toHaveLength(24);
    expect(new Set(plans.map((p) => p.producedBy))).toEqual(new Set(["heuristic"]));
  });

  it('logs every habit the persona did, also one named with a number (cross-effects\' "Bed by 11")', async () => {
    const cross = await loadPersonaFile("personas/cross-effects.json");
    const result = await runClosedLoop({ config, db: t.db, log }, cross, {
      people: 1,
      days: 8,
      seed: 5,
      stepsPerNight: 512,
      arms: ["product", "heuristic"],
      retrain: false,
    });
    expect(result.unreported).toEqual({});
    const [product, heuristic] = result.arms;
    product.perPerson[0].forEach((reward, d) => {
      expect(reward).toBeCloseTo(heuristic.perPerson[0][d], 12);
    });
  });

  it("retrains every night through the queue, on what the product stored — never on the true persona", async () => {
    const requests: RetrainJobRequest[] = [];
    const days = MIN_HISTORY_DAYS + 2;
    const result = await runClosedLoop({ config, db: t.db, log }, persona, {
      people: 1,
      days,
      seed: 4,
      stepsPerNight: 512,
      oracleSteps: 4096,
      runner: recording(requests),
    });
    expect(result.arms.map((a) => a.name)).toEqual([
      "product",
      "heuristic",
      "capacity-aware",
      "oracle",
    ]);
    for (const arm of result.arms) {
      expect(arm.meanDaily).toHaveLength(days);
      for (const r of arm.meanDaily) expect(r).toBeGreaterThan(-1);
    }
    expect(result.nights).toHaveLength(days);
    expect(result.nights.every((n) => n.runs === 1 && n.failed === 0)).toBe(true);
    const runs = await t.db.prisma.trainingRun.findMany({
      where: { user: { displayName: { contains: "seed 4" } } },
      orderBy: { id: "asc" },
    });
    expect(runs.map((r) => r.status)).toEqual(Array(days).fill("succeeded"));
    expect(runs.every((r) => r.jobKey?.startsWith("nightly:"))).toBe(true);

    expect(requests).toHaveLength(days);
    const trueCompliances = Object.values(persona.behaviour.habits).map((b) => b.compliance);
    requests.forEach((request, night) => {
      // below MIN_HISTORY_DAYS planned days the default behaviour, then one fitted to the log
      if (night + 1 < MIN_HISTORY_DAYS) expect(request.behaviour ?? null).toBeNull();
      else expect(request.behaviour).not.toBeNull();
      const fitted = Object.values(request.behaviour?.habits ?? {}).map((b) => b.compliance);
      for (const c of fitted) expect(trueCompliances).not.toContain(c);
    });
    expect(result.oracleFraction.days1to30).toBeNull();
    expect(
      result.productBeatsHeuristicFromDay === null || result.productBeatsHeuristicFromDay >= 1,
    ).toBe(true);
  });

  it("trains the population (in a worker thread beside the oracle) and retrains a night's people in worker threads at once with the same results as one at a time", async () => {
    // two fresh databases: the same people (same seed) and the same run ids (the retrain seeds)
    const one = await createTestDatabase();
    const other = await createTestDatabase();
    try {
      const days = MIN_HISTORY_DAYS + 2;
      const options = {
        people: 2,
        days,
        seed: 8,
        stepsPerNight: 512,
        populationSteps: 2048,
        oracleSteps: 1024,
        arms: ["product", "heuristic", "oracle"] as const,
      };
      const serial = await runClosedLoop({ config, db: one.db, log }, persona, {
        ...options,
        arms: [...options.arms],
        workers: 1,
      });
      const parallel = await runClosedLoop({ config, db: other.db, log }, persona, {
        ...options,
        arms: [...options.arms],
        workers: 2,
      });
      // the population policy (trained beside the oracle with two workers) and the oracle alike
      expect(parallel.population?.trained).toBe(true);
      expect(parallel.population?.steps).toBe(2048);
      const weightsOf = async (db: typeof t.db, id: number | undefined) => {
        const model = await db.prisma.policyModel.findUniqueOrThrow({ where: { id } });
        const { header, weights } = decodeCheckpoint(new Uint8Array(model.bytes));
        return { checks: header.training?.newPersonChecks, weights };
      };
      // the same weights and new-person checks (the header's timings differ)
      expect(await weightsOf(other.db, parallel.population?.modelId)).toEqual(
        await weightsOf(one.db, serial.population?.modelId),
      );
      expect(parallel.arms.map((a) => a.name)).toEqual(["product", "heuristic", "oracle"]);
      parallel.arms.forEach((arm, i) => {
        expect(arm.perPerson).toEqual(serial.arms[i].perPerson);
      });
      expect(parallel.nights).toHaveLength(days);
      expect(parallel.nights.every((n) => n.runs === 2 && n.failed === 0)).toBe(true);
      // each night's candidates trained and evaluated bit for bit alike
      const evaluations = async (db: typeof t.db) =>
        (
          await db.prisma.trainingRun.findMany({
            where: { user: { displayName: { contains: "seed 8" } } },
            orderBy: { id: "asc" },
          })
        ).map((r) => {
          const { before, after, heuristic, activated } = r.summary as unknown as RetrainOutcome;
          return { before, after, heuristic, activated };
        });
      const serialEvaluations = await evaluations(one.db);
      expect(serialEvaluations).toHaveLength(2 * days);
      expect(serialEvaluations.every((e) => typeof e.after === "number")).toBe(true);
      expect(await evaluations(other.db)).toEqual(serialEvaluations);
    } finally {
      await one.dispose();
      await other.dispose();
    }
  }, 600_000);

  it("with a UDRL coach, every night trains UDRL on the person's own logged days", async () => {
    const requests: RetrainJobRequest[] = [];
    const days = MIN_HISTORY_DAYS + 1;
    const result = await runClosedLoop({ config, db: t.db, log }, persona, {
      people: 1,
      days,
      seed: 6,
      stepsPerNight: 512,
      arms: ["product", "heuristic"],
      coachAlgorithm: "udrl",
      runner: recording(requests),
    });
    expect(result.coachAlgorithm).toBe("udrl");
    expect(result.nights.every((n) => n.runs === 1 && n.failed === 0)).toBe(true);
    expect(requests).toHaveLength(days);
    expect(requests.every((r) => r.algorithm === "udrl")).toBe(true);
    // the logged days grow night by night: what the product stored, the plans it made
    const lengths = requests.map((r) => r.history?.length ?? 0);
    expect(lengths.at(-1)).toBeGreaterThanOrEqual(MIN_HISTORY_DAYS);
    expect(lengths.at(-1)).toBeGreaterThan(lengths[0]);
    const user = await t.db.prisma.user.findFirstOrThrow({
      where: { displayName: { contains: "seed 6" } },
    });
    expect(user.coachAlgorithm).toBe("udrl");
  });
});
