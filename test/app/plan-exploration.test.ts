// Controlled exploration of the day's plan (src/coach/exploration.ts, src/app/planning.ts): the
// product's planning leaves out some habits on a share of the days, records how in the stored
// plan, and every stored record can be recomputed from the log (same person, same day, same EMAs).
// Real database (PGlite, or Postgres with TEST_DATABASE_URL).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runClosedLoop } from "../../src/app/closed-loop.js";
import { loadCoachState } from "../../src/app/coach-state.js";
import { exploredLevels } from "../../src/app/planning.js";
import { momentOn } from "../../src/app/simulated-people.js";
import { parseConfig } from "../../src/config.js";
import { fromDbDate } from "../../src/db/dates.js";
import { type PlanExploration, planItemsOf } from "../../src/db/plans.js";
import { createLogger } from "../../src/logger.js";
import { loadPersonaFile, type Persona } from "../../src/rl/persona.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

const config = parseConfig({ LOG_LEVEL: "silent", TZ_DEFAULT: "Europe/Berlin" });
const log = createLogger({ level: "silent", pretty: false, secrets: [] });
let t: TestDatabase;
let persona: Persona;

beforeAll(async () => {
  t = await createTestDatabase();
  persona = await loadPersonaFile("personas/overloaded.json");
});
afterAll(async () => {
  await t?.dispose();
});

describe("plan exploration", () => {
  it("is configured by PLAN_EXPLORATION_PROBABILITY and _MAX_COST, with clear messages", () => {
    expect(config.planExploration).toEqual({ probability: 0, maxCost: 0.25 });
    expect(
      parseConfig({ PLAN_EXPLORATION_PROBABILITY: "0.1", PLAN_EXPLORATION_MAX_COST: "0.5" })
        .planExploration,
    ).toEqual({ probability: 0.1, maxCost: 0.5 });
    expect(() => parseConfig({ PLAN_EXPLORATION_PROBABILITY: "1.5" })).toThrow(
      "PLAN_EXPLORATION_PROBABILITY must be between 0 and 1, got 1.5",
    );
    expect(() => parseConfig({ PLAN_EXPLORATION_MAX_COST: "lots" })).toThrow(
      'PLAN_EXPLORATION_MAX_COST must be a number such as 0.1, got "lots"',
    );
  });

  it("is off by default: the product plans like the heuristic and stores no exploration", async () => {
    expect(config.planExploration.probability).toBe(0);
    const result = await runClosedLoop({ config, db: t.db, log }, persona, {
      people: 1,
      days: 8,
      seed: 21,
      stepsPerNight: 512,
      arms: ["product", "heuristic"],
      retrain: false,
    });
    expect(result.exploration.exploratoryPlans).toBe(0);
    expect(result.exploration.plans).toBe(8);
    expect(result.arms[0].perPerson).toEqual(result.arms[1].perPerson);
  });

  it("leaves out habits on some days, records the greedy plan, and each record is explained by the log", async () => {
    const settings = { probability: 0.5, maxCost: 10 };
    const days = 16;
    const result = await runClosedLoop({ config, db: t.db, log }, persona, {
      people: 2,
      days,
      seed: 22,
      stepsPerNight: 512,
      arms: ["product", "heuristic"],
      retrain: false,
      exploration: settings,
    });
    expect(result.exploration).toMatchObject({ ...settings, plans: 2 * days });
    const plans = await t.db.prisma.plan.findMany({
      where: { user: { displayName: { contains: "seed 22" } } },
      include: { user: true },
      orderBy: { id: "asc" },
    });
    expect(plans).toHaveLength(2 * days);
    const explored = plans.filter((p) => p.exploration !== null);
    // binomial(32, 0.5) on days with ≥ 2 habits planned: far from 0 and from all
    expect(explored.length).toBeGreaterThan(4);
    expect(explored.length).toBeLessThan(2 * days);
    // the product's people lived other plans than the heuristic arm's (same streams)
    expect(result.arms[0].perPerson).not.toEqual(result.arms[1].perPerson);
    for (const plan of plans) {
      const day = fromDbDate(plan.day);
      const state = await loadCoachState(t.db, plan.user, momentOn(plan.user, day, 7, 30));
      const again = exploredLevels(state, plan.userId, day, undefined, settings);
      expect(again.exploration).toEqual(plan.exploration);
      if (plan.exploration === null) continue;
      const record = plan.exploration as unknown as PlanExploration;
      expect(plan.logProb).toBeNull();
      expect(plan.producedBy).toBe("heuristic");
      expect(record.dropped.length).toBeGreaterThan(0);
      const items = planItemsOf(plan);
      for (const id of record.dropped) {
        expect(record.greedy.find((g) => g.habitId === id)!.level).toBeGreaterThan(0);
        expect(items.find((i) => i.habitId === id)!.level).toBe(0);
      }
      // at least one habit of the greedy plan stays planned
      expect(items.some((i) => i.level > 0)).toBe(true);
    }
  });
});
