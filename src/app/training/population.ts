// The population policy of a habit set (src/rl/population.ts): trained once on many varied
// simulated people, stored as a shared PolicyModel (no person) with its version and the key of
// the habit set's shape and the network design, and adopted by everyone with that shape who has
// no policy yet — a copy under their own habit ids becomes their active model, so they get a
// policy and each nightly retrain starts from it (warm start) instead of from scratch. It is
// seeded on first use: the first retrain of someone whose shape has none trains it (in a worker
// thread, POPULATION_POLICY_STEPS steps; 0 turns this off) and stores it for everyone after.

import { createHash } from "node:crypto";
import { z } from "zod";
import type { HabitSpec } from "../../coach/habits.js";
import type { Database } from "../../db/client.js";
import { habitSpecOf, listHabits } from "../../db/habits.js";
import { hasOwnPolicyModel, sharedPolicyModels, storePolicyModel } from "../../db/training.js";
import type { PolicyModel, User } from "../../generated/prisma/client.js";
import { decodeCheckpoint } from "../../rl/checkpoint.js";
import { HABIT_PPO } from "../../rl/habit-training.js";
import {
  type PopulationTraining,
  populationCheckpointFor,
  trainPopulationPolicy,
} from "../../rl/population.js";
import { startWorkerThread } from "../worker-thread.js";
import type { PopulationWorkerMessage } from "./population-worker.js";

/**
 * Version of the population policy's recipe (behaviour spread, steps, network): a stored one of
 * another version is not used, so changing the recipe retrains it on first use.
 */
export const POPULATION_POLICY_VERSION = 3; // 2: capacity relative to the habit count, half new people; 3: the new-person check
/** PPO steps of a population policy (once per habit-set shape; POPULATION_POLICY_STEPS). */
export const POPULATION_STEPS = 300_000;
/** Training seed of a population policy seeded on first use (the same for every shape). */
export const POPULATION_SEED = 1;

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

/** Trains a population policy and returns its checkpoint bytes (in this thread or a worker). */
export type PopulationTrainer = (input: PopulationTraining) => Promise<Uint8Array>;

const populationWorkerMessage: z.ZodType<PopulationWorkerMessage> = z.discriminatedUnion("type", [
  z.object({ type: z.literal("done"), bytes: z.instanceof(Uint8Array) }),
  z.object({ type: z.literal("error"), message: z.string() }),
]);

/** Trains in a single-use worker thread (./population-worker.ts): the event loop stays free. */
export const workerThreadPopulationTrainer: PopulationTrainer = (input) =>
  new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
      void worker.terminate();
    };
    const { onProgress: _progress, ...data } = input;
    const worker = startWorkerThread(new URL("./population-worker.js", import.meta.url), {
      workerData: data,
      messages: populationWorkerMessage,
      onMessage(message) {
        if (message.type === "done") settle(() => resolve(message.bytes));
        else settle(() => reject(new Error(message.message)));
      },
    });
    worker.on("error", (error) => settle(() => reject(error)));
    worker.on("exit", (code) =>
      settle(() =>
        reject(new Error(`the population worker exited (code ${code}) without a result`)),
      ),
    );
  });

/** The network design training uses now: a stored policy of another design is not adopted. */
const currentDesign = () => JSON.stringify(HABIT_PPO.network);

interface PopulationTag {
  population: { version: number; key: string; design?: string };
}

function tagOf(model: PolicyModel): PopulationTag["population"] | null {
  const h = model.hyperparameters as Partial<PopulationTag> | null;
  return h?.population ?? null;
}

/**
 * The stored population policy for this habit-set shape, the current version and the current
 * network design, if any.
 */
export async function storedPopulationPolicy(
  db: Database,
  key: string,
): Promise<PolicyModel | null> {
  for (const model of await sharedPolicyModels(db)) {
    const tag = tagOf(model);
    if (
      tag?.key === key &&
      tag.version === POPULATION_POLICY_VERSION &&
      tag.design === currentDesign()
    ) {
      return model;
    }
  }
  return null;
}

/** The population policy for these habits: the stored one, else trained now and stored. */
export async function populationPolicy(
  db: Database,
  habits: HabitSpec[],
  planCapacityMinutes: number | null,
  options: { steps?: number; seed?: number; train?: PopulationTrainer } = {},
): Promise<{ model: PolicyModel; trained: boolean; seconds: number }> {
  const key = habitSetKey(habits, planCapacityMinutes);
  const stored = await storedPopulationPolicy(db, key);
  if (stored) return { model: stored, trained: false, seconds: 0 };
  const t0 = performance.now();
  const steps = options.steps ?? POPULATION_STEPS;
  const bytes = await (options.train ?? trainPopulationPolicy)({
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
        population: { version: POPULATION_POLICY_VERSION, key, steps, design: currentDesign() },
      },
      evaluation: null,
    },
    false,
  );
  return { model, trained: true, seconds: (performance.now() - t0) / 1000 };
}

export type Adoption =
  | { kind: "adopted"; model: PolicyModel; from: number; trained?: boolean }
  | { kind: "has-policy" }
  | { kind: "no-habits" }
  | { kind: "none-stored" };

/**
 * Gives a person who never had a policy the population policy of their habit set's shape
 * (a copy under their habit ids, active). Nothing happens when they have or had a policy (one
 * retired as worse than the heuristic is not replaced by this one) or have no habits. When none of the current version and design is stored for that shape: with
 * `firstUse` it is trained now (seeded on first use) and stored, else nothing happens.
 */
export async function adoptPopulationPolicy(
  db: Database,
  person: Pick<User, "id" | "capacityMinutes">,
  firstUse?: { steps: number; seed: number; train: PopulationTrainer },
): Promise<Adoption> {
  // someone whose policy was retired (worse than the heuristic for them) does not get it back
  // (an active policy is one of their own: an adopted copy is stored under their id too)
  if (await hasOwnPolicyModel(db, person.id)) return { kind: "has-policy" };
  const habits = (await listHabits(db, person.id)).map(habitSpecOf);
  if (habits.length === 0) return { kind: "no-habits" };
  let shared = await storedPopulationPolicy(db, habitSetKey(habits, person.capacityMinutes));
  let trained = false;
  if (shared === null && firstUse !== undefined) {
    const seeded = await populationPolicy(db, habits, person.capacityMinutes, firstUse);
    shared = seeded.model;
    trained = seeded.trained;
  }
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
  return { kind: "adopted", model, from: shared.id, ...(trained ? { trained } : {}) };
}
