/**
 * Learner changes for the closed loop (issue 12), measured with training-seed spread: PPO
 * variants trained on a persona with several training seeds, each evaluated on the same fresh
 * simulated people, beside the heuristic and the capacity-aware heuristic (k = capacity and the
 * best k).
 *
 *   npx tsx bench/learner-results.ts > learner.json     (JSON lines on stdout, progress on stderr)
 *
 * Environment: LEARNER_PERSONAS (overloaded,seed-23,steady), LEARNER_VARIANTS (per-group,single,
 * features: see VARIANTS), LEARNER_BASELINES (1; 0 skips the heuristics), LEARNER_SEEDS (1,2,3), LEARNER_STEPS (200000), LEARNER_EPISODES
 * (256), LEARNER_DAYS (365).
 *
 * LEARNER_MODE=warm measures the closed loop's path instead: a population policy (LEARNER_STEPS
 * steps on varied behaviours of the persona's habit set, training seed s) evaluated on the
 * persona as adopted (acting with the default behaviour's features), with the persona's own
 * features (as if the fit were exact; no training), and after LEARNER_WARM_STEPS (8192) steps
 * of warm-started training on the persona — per variant and seed.
 */
import os from "node:os";
import { decodeCheckpoint, encodeCheckpoint } from "../src/rl/checkpoint.js";
import {
  capacityAwarePlanner,
  evaluatePlanner,
  heuristicPlanner,
  policyPlanner,
} from "../src/rl/evaluate.js";
import { habitFeatureTable } from "../src/rl/habit-features.js";
import { HABIT_PPO, trainOnPersona } from "../src/rl/habit-training.js";
import { loadPersonaFile, type Persona } from "../src/rl/persona.js";
import { loadPolicy } from "../src/rl/policy.js";
import { populationCheckpointFor, trainPopulationPolicy } from "../src/rl/population.js";
import type { PpoConfig } from "../src/rl/ppo.js";

const list = (name: string, fallback: string) => (process.env[name] ?? fallback).split(",");
const PERSONAS = list("LEARNER_PERSONAS", "overloaded,seed-23,steady");
const VARIANT_NAMES = list("LEARNER_VARIANTS", "per-group,single");
const SEEDS = list("LEARNER_SEEDS", "1,2,3").map(Number);
const BASELINES = (process.env.LEARNER_BASELINES ?? "1") !== "0";
const MODE = process.env.LEARNER_MODE ?? "train";
const WARM_STEPS = Number(process.env.LEARNER_WARM_STEPS ?? 8192);
const STEPS = Number(process.env.LEARNER_STEPS ?? 200_000);
const EVAL = {
  seed: 12345,
  episodes: Number(process.env.LEARNER_EPISODES ?? 256),
  days: Number(process.env.LEARNER_DAYS ?? 365),
};

/** Network settings of each variant (the rest is HABIT_PPO). */
const VARIANTS: Record<string, Partial<PpoConfig>> = {
  "per-group": { network: { ...HABIT_PPO.network, critic: "per-group", habitFeatures: false } },
  single: { network: { ...HABIT_PPO.network, critic: "single", habitFeatures: false } },
  features: { network: { ...HABIT_PPO.network, critic: "single", habitFeatures: true } },
  "per-group+features": {
    network: { ...HABIT_PPO.network, critic: "per-group", habitFeatures: true },
  },
};

/** The heuristic and the capacity-aware heuristic (k = capacity, and the best k) on a persona. */
function baselines(name: string, persona: Persona) {
  const H = persona.habits.length;
  const heuristic = evaluatePlanner(persona, heuristicPlanner(), EVAL);
  const k = Math.min(H, Math.max(1, Math.round(persona.behaviour.capacity)));
  const atCapacity = evaluatePlanner(persona, capacityAwarePlanner(k), EVAL);
  let best = { k, reward: atCapacity.meanReward, ci95: atCapacity.ci95 };
  for (let kk = 1; kk <= H; kk++) {
    const r = evaluatePlanner(persona, capacityAwarePlanner(kk), EVAL);
    if (r.meanReward > best.reward) best = { k: kk, reward: r.meanReward, ci95: r.ci95 };
  }
  return {
    persona: name,
    baseline: true,
    heuristic: round(heuristic.meanReward),
    heuristicCi95: round(heuristic.ci95),
    capacityAware: { k, reward: round(atCapacity.meanReward), ci95: round(atCapacity.ci95) },
    capacityAwareBest: { k: best.k, reward: round(best.reward), ci95: round(best.ci95) },
  };
}

/** The population checkpoint with another behaviour's feature table (same weights). */
function withFeatureTable(bytes: Uint8Array, persona: Persona): Uint8Array {
  const { header, weights } = decodeCheckpoint(bytes);
  if (!header.habitFeatures) return bytes;
  const { weights: _manifest, formatVersion: _version, ...rest } = header;
  const table = habitFeatureTable(persona.habits, persona.behaviour, persona.planCapacityMinutes);
  return encodeCheckpoint({ ...rest, habitFeatures: table }, weights);
}

async function warmRows(name: string, persona: Persona, variant: string, seed: number) {
  const config = VARIANTS[variant];
  const population = populationCheckpointFor(
    // one training (attempts: 1): the rows compare designs per training seed, not the retries
    await trainPopulationPolicy({
      habits: persona.habits,
      steps: STEPS,
      seed,
      config,
      attempts: 1,
    }),
    persona.habits,
  );
  const score = async (bytes: Uint8Array) => {
    const policy = await loadPolicy(bytes, { habits: persona.habits });
    const r = evaluatePlanner(persona, policyPlanner(policy), EVAL);
    policy.dispose();
    return round(r.meanReward);
  };
  const adopted = await score(population);
  const ownFeatures = await score(withFeatureTable(population, persona));
  const { policy } = await trainOnPersona(persona, {
    steps: WARM_STEPS,
    seed,
    config,
    initialPolicy: population,
  });
  const warm = round(evaluatePlanner(persona, policyPlanner(policy), EVAL).meanReward);
  policy.dispose();
  return {
    persona: name,
    mode: "warm",
    variant,
    seed,
    adopted,
    ownFeatures,
    warm,
    load: os.loadavg().map(round),
  };
}

const out = (row: object) => process.stdout.write(`${JSON.stringify(row)}\n`);
const log = (message: string) => process.stderr.write(`${message}\n`);
const round = (x: number) => Math.round(x * 10_000) / 10_000;

for (const name of PERSONAS) {
  const persona = await loadPersonaFile(`personas/${name}.json`);
  if (BASELINES) out(baselines(name, persona));
  // Seeds outside, variants inside: a partial run still holds paired comparisons.
  for (const seed of SEEDS) {
    for (const variant of VARIANT_NAMES) {
      const config = VARIANTS[variant];
      if (!config) throw new Error(`unknown variant ${variant}`);
      if (MODE === "warm") {
        const row = await warmRows(name, persona, variant, seed);
        out(row);
        log(JSON.stringify(row));
        continue;
      }
      const { policy, progress } = await trainOnPersona(persona, { steps: STEPS, seed, config });
      const evaluation = evaluatePlanner(persona, policyPlanner(policy), EVAL);
      const last = progress[progress.length - 1];
      policy.dispose();
      const row = {
        persona: name,
        variant,
        seed,
        steps: last.steps,
        trainSeconds: round(last.elapsedSeconds),
        reward: round(evaluation.meanReward),
        ci95: round(evaluation.ci95),
        last90: round(evaluation.meanRewardLast90),
        load: os.loadavg().map(round),
      };
      out(row);
      log(JSON.stringify(row));
    }
  }
}
