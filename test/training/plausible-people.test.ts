// Training on a spread of plausible people (issue 12): a retrain with `posterior.samples` > 1
// trains on that many behaviours drawn from the fit's posteriors as one batch, each rollout row
// living its own; 0 or 1 sample is the point estimate exactly. Tiny trainings (2,048 steps).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inThreadRunner, runClosedLoop } from "../../src/app/closed-loop.js";
import type { RetrainOutcome } from "../../src/app/training/retrain.js";
import {
  plausibleBehaviours,
  type RetrainJobRequest,
  trainAndEvaluate,
} from "../../src/app/training/retrain-job.js";
import { MIN_HISTORY_DAYS } from "../../src/app/training/training-policy.js";
import { assignActorGroups } from "../../src/coach/habits.js";
import { parseConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { decodeCheckpoint } from "../../src/rl/checkpoint.js";
import { type FitResult, fitBehaviour, type HistoryDay } from "../../src/rl/fit-behaviour.js";
import { HabitVectorEnv } from "../../src/rl/habit-env.js";
import { HABIT_FEATURE_COUNT } from "../../src/rl/habit-features.js";
import { loadPersonaFile, type Persona, type PersonaBehaviour } from "../../src/rl/persona.js";
import { plausibleTrainingEnv } from "../../src/rl/plausible-people.js";
import { createStepBuffers } from "../../src/rl/vector-env.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

let persona: Persona;
let fit: FitResult;

/** `days` days of one person of `p` planned by the heuristic, as the fit reads them. */
function history(p: Persona, days: number, seed: number): HistoryDay[] {
  const env = new HabitVectorEnv(p, { numEnvs: 1, seed });
  const H = env.actionCount;
  env.reset(new Float32Array(env.observationSize));
  const buffers = createStepBuffers(env);
  const actions = new Int32Array(H);
  return Array.from({ length: days }, () => {
    const weekday = env.weekday[0];
    env.heuristicActions(actions);
    env.step(actions, buffers);
    const planned: Record<string, number> = {};
    const done: Record<string, number> = {};
    p.habits.forEach((h, i) => {
      planned[h.id] = h.levels[env.adjustedPlan[i]];
      done[h.id] = env.doneAmounts[i];
    });
    return { weekday, planned, done };
  });
}

beforeAll(async () => {
  const weekday = await loadPersonaFile("personas/weekday.json");
  persona = { ...weekday, habits: assignActorGroups(weekday.habits) };
  fit = fitBehaviour(persona.habits, history(persona, 30, 3));
});

const request = (samples: number | null, seed = 7): RetrainJobRequest => ({
  habits: persona.habits,
  planCapacityMinutes: null,
  behaviour: fit.behaviour,
  posterior: samples === null ? null : { fit: fit.quality, samples },
  steps: 2048,
  seed,
  numEnvs: 16,
  activeCheckpoint: null,
  evaluation: { episodes: 4, days: 30, seed: 99 },
});

/** The trained weights of a checkpoint (its header also holds timings, which differ per run). */
const weights = (bytes: Uint8Array) =>
  decodeCheckpoint(bytes).weights.map((w) => Array.from(w.values));

describe("the plausible people a retrain trains on", () => {
  it("are `samples` draws from the fit, distinct, deterministic in the run's seed", () => {
    const drawn = plausibleBehaviours(request(8), fit.behaviour);
    expect(drawn).toHaveLength(8);
    for (const h of persona.habits) {
      const compliances = drawn.map((b) => b.habits[h.id].compliance);
      expect(new Set(compliances).size).toBe(8);
    }
    expect(plausibleBehaviours(request(8), fit.behaviour)).toEqual(drawn);
    expect(plausibleBehaviours(request(8, 8), fit.behaviour)).not.toEqual(drawn);
    // at most one per simulated person of a rollout
    expect(plausibleBehaviours({ ...request(40), numEnvs: 16 }, fit.behaviour)).toHaveLength(16);
  });

  it("are none (the point estimate) for 0 or 1 sample, without a fit or without a behaviour", () => {
    expect(plausibleBehaviours(request(1), fit.behaviour)).toEqual([]);
    expect(plausibleBehaviours(request(0), fit.behaviour)).toEqual([]);
    expect(plausibleBehaviours(request(null), fit.behaviour)).toEqual([]);
    const noFit = { ...request(8), posterior: { fit: null, samples: 8 } };
    expect(plausibleBehaviours(noFit, fit.behaviour)).toEqual([]);
    expect(plausibleBehaviours({ ...request(8), behaviour: null }, fit.behaviour)).toEqual([]);
  });
});

describe("training on plausible people", () => {
  const withCompliance = (c: number): PersonaBehaviour => ({
    ...persona.behaviour,
    habits: Object.fromEntries(
      Object.entries(persona.behaviour.habits).map(([id, b]) => [id, { ...b, compliance: c }]),
    ),
  });

  it("gives each behaviour its own rows, which see that behaviour's habit features", () => {
    const behaviours = [withCompliance(0.1), withCompliance(0.95)];
    const built = plausibleTrainingEnv(persona, behaviours, {
      numEnvs: 8,
      seed: 1,
      withFeatures: true,
    });
    expect(built.population.members.map((m) => m.numEnvs)).toEqual([4, 4]);
    const O = built.env.observationSize;
    const obs = new Float32Array(8 * O);
    built.env.reset(obs);
    // each row's habit features: its own behaviour's compliance for every habit
    const at = built.spec.habitFeatureOffset!;
    const compliance = (r: number) =>
      persona.habits.map((_, h) => obs[r * O + at + h * HABIT_FEATURE_COUNT]);
    for (let r = 0; r < 8; r++) {
      expect(compliance(r)).toEqual(persona.habits.map(() => Math.fround(r < 4 ? 0.1 : 0.95)));
    }
    // and they behave as their behaviour says: plan everything for 60 days, the compliant do more
    const H = built.population.actionCount;
    const actions = new Int32Array(8 * H).fill(1);
    const buffers = createStepBuffers(built.env);
    const reward = [0, 0];
    for (let d = 0; d < 60; d++) {
      built.env.step(actions, buffers);
      for (let r = 0; r < 8; r++) reward[r < 4 ? 0 : 1] += buffers.rewards[r];
    }
    expect(reward[1]).toBeGreaterThan(reward[0] + 4 * 60 * 0.1);
  });

  it("one sample is the point estimate exactly; more train on that many behaviours, deterministically", async () => {
    const point = await trainAndEvaluate(request(null), () => {});
    const one = await trainAndEvaluate(request(1), () => {});
    expect(one.cost?.behaviours).toBe(1);
    expect(weights(one.checkpoint)).toEqual(weights(point.checkpoint));
    const eight = await trainAndEvaluate(request(8), () => {});
    expect(eight.cost?.behaviours).toBe(8);
    expect(weights(eight.checkpoint)).not.toEqual(weights(point.checkpoint));
    const again = await trainAndEvaluate(request(8), () => {});
    expect(weights(again.checkpoint)).toEqual(weights(eight.checkpoint));
    // the evaluation stays on the point estimate: the heuristic scores the same people alike
    expect(eight.evaluation.heuristic).toEqual(point.evaluation.heuristic);
  }, 180_000);
});

describe("the nightly retrain with RETRAIN_BEHAVIOUR_SAMPLES", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it("hands the fit to the job and trains on that many people once a behaviour is fitted", async () => {
    const config = parseConfig({
      LOG_LEVEL: "silent",
      TZ_DEFAULT: "Europe/Berlin",
      RETRAIN_NUM_ENVS: "8",
      RETRAIN_EVAL_EPISODES: "4",
      RETRAIN_EVAL_DAYS: "30",
      RETRAIN_BEHAVIOUR_SAMPLES: "6",
    });
    const log = createLogger({ level: "silent", pretty: false, secrets: [] });
    const requests: RetrainJobRequest[] = [];
    const outcomes: RetrainOutcome[] = [];
    const days = MIN_HISTORY_DAYS + 1;
    await runClosedLoop({ config, db: t.db, log }, persona, {
      people: 1,
      days,
      seed: 5,
      stepsPerNight: 512,
      arms: ["product"],
      populationSteps: null,
      runner: (request, onProgress, signal) => {
        requests.push(request);
        return inThreadRunner(request, onProgress, signal);
      },
      onRetrain: (_night, outcome) => outcomes.push(outcome),
    });
    expect(requests).toHaveLength(days);
    for (const r of requests) expect(r.posterior?.samples).toBe(6);
    // before MIN_HISTORY_DAYS planned days: the default behaviour, nothing fitted, one behaviour
    expect(requests[0].posterior?.fit).toBeNull();
    expect(outcomes[0].cost?.behaviours).toBe(1);
    // then: the fit's evidence reaches the job, which trains on 6 plausible people
    const last = requests[days - 1];
    expect(outcomes[days - 1].behaviour?.source).toBe("fitted");
    const evidence = Object.values(last.posterior!.fit!.habits).map((h) => h.evidence);
    expect(evidence.every((e) => e !== undefined && e.compliance > 0)).toBe(true);
    expect(outcomes[days - 1].cost?.behaviours).toBe(6);
  }, 600_000);
});
