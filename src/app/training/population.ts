// The population policy of a habit set (src/rl/population.ts): trained once on many varied
// simulated people, stored as a shared PolicyModel (no person) with its version and the key of
// the habit set's shape, and adopted by everyone with that shape who has no policy yet — a copy
// under their own habit ids becomes their active model, so they get a policy from day 1 and each
// nightly retrain starts from it (warm start) instead of from scratch.
import { createHash } from "node:crypto";
import type { HabitSpec } from "../../coach/habits.js";
import type { Database } from "../../db/client.js";
import { habitSpecOf, listHabits } from "../../db/habits.js";
import { activePolicyModel, sharedPolicyModels, storePolicyModel } from "../../db/training.js";
import type { PolicyModel, User } from "../../generated/prisma/client.js";
import { decodeCheckpoint } from "../../rl/checkpoint.js";
import { populationCheckpointFor, trainPopulationPolicy } from "../../rl/population.js";

/**
 * Version of the population policy's recipe (behaviour spread, steps, network): a stored one of
 * another version is not used, so changing the recipe retrains it on first use.
 */
export const POPULATION_POLICY_VERSION = 1;
/** PPO steps of a population policy (once per habit-set shape). */
export const POPULATION_STEPS = 300_000;

/** What a population policy is for: a habit set's shape, without ids and names. */
export function habitSetKey(habits: HabitSpec[], planCapacityMinutes: number | null): string {
  const shape = habits.map((h) => ({
    kind: h.kind,
    target: h.target,
    daysPerWeek: h.daysPerWeek,
    levels: h.levels,
    actorGroup: h.actorGroup,
    exclusiveGroup: h.exclusiveGroup ?? null,
    capacityMinutes: h.capacityMinutes ?? null,
  }));
  const text = JSON.stringify({ shape, planCapacityMinutes });
  return createHash("sha256").update(text).digest("hex").slice(0, 32);
}

interface PopulationTag {
  population: { version: number; key: string };
}

function tagOf(model: PolicyModel): PopulationTag["population"] | null {
  const h = model.hyperparameters as Partial<PopulationTag> | null;
  return h?.population ?? null;
}

/** The stored population policy for this habit-set shape and the current version, if any. */
export async function storedPopulationPolicy(
  db: Database,
  key: string,
): Promise<PolicyModel | null> {
  for (const model of await sharedPolicyModels(db)) {
    const tag = tagOf(model);
    if (tag?.key === key && tag.version === POPULATION_POLICY_VERSION) return model;
  }
  return null;
}

/** The population policy for these habits: the stored one, else trained now and stored. */
export async function populationPolicy(
  db: Database,
  habits: HabitSpec[],
  planCapacityMinutes: number | null,
  options: { steps?: number; seed?: number } = {},
): Promise<{ model: PolicyModel; trained: boolean; seconds: number }> {
  const key = habitSetKey(habits, planCapacityMinutes);
  const stored = await storedPopulationPolicy(db, key);
  if (stored) return { model: stored, trained: false, seconds: 0 };
  const t0 = performance.now();
  const steps = options.steps ?? POPULATION_STEPS;
  const bytes = await trainPopulationPolicy({
    habits,
    planCapacityMinutes,
    steps,
    seed: options.seed ?? 1,
  });
  const header = decodeCheckpoint(bytes).header;
  const model = await storePolicyModel(
    db,
    {
      userId: null,
      trainingRunId: null,
      bytes,
      formatVersion: header.formatVersion,
      spec: { observation: header.observationSpec, policy: header.policySpec },
      hyperparameters: {
        ...header.hyperparameters,
        population: { version: POPULATION_POLICY_VERSION, key, steps },
      },
      evaluation: null,
    },
    false,
  );
  return { model, trained: true, seconds: (performance.now() - t0) / 1000 };
}

export type Adoption =
  | { kind: "adopted"; model: PolicyModel; from: number }
  | { kind: "has-policy" }
  | { kind: "no-habits" }
  | { kind: "none-stored" };

/**
 * Gives a person without an active policy the population policy of their habit set's shape
 * (a copy under their habit ids, active). Nothing happens when they already have a policy, have
 * no habits, or no population policy of the current version is stored for that shape.
 */
export async function adoptPopulationPolicy(
  db: Database,
  person: Pick<User, "id" | "capacityMinutes">,
): Promise<Adoption> {
  if ((await activePolicyModel(db, person.id)) !== null) return { kind: "has-policy" };
  const habits = (await listHabits(db, person.id)).map(habitSpecOf);
  if (habits.length === 0) return { kind: "no-habits" };
  const shared = await storedPopulationPolicy(db, habitSetKey(habits, person.capacityMinutes));
  if (shared === null) return { kind: "none-stored" };
  const bytes = populationCheckpointFor(new Uint8Array(shared.bytes), habits);
  const header = decodeCheckpoint(bytes).header;
  const model = await storePolicyModel(
    db,
    {
      userId: person.id,
      trainingRunId: null,
      bytes,
      formatVersion: header.formatVersion,
      spec: { observation: header.observationSpec, policy: header.policySpec },
      hyperparameters: shared.hyperparameters,
      evaluation: { adoptedFrom: shared.id },
    },
    true,
  );
  return { kind: "adopted", model, from: shared.id };
}
