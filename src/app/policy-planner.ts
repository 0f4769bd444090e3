// The day-planner seam (DayPlanner) and its trained implementation: plans from a person's
// active PolicyModel. Plugs into AppDeps.loadPolicyPlanner (see planning.ts); the coach core
// still adjusts whatever the policy picks, and any failure falls back to the heuristic there. Loaded policies are cached by model
// id (a model's bytes never change), least recently used first out.
import type { LocalDate } from "../coach/days.js";
import type { HabitSpec } from "../coach/habits.js";
import { emasInSpecOrder, observationSpec, sameSpec } from "../coach/observation.js";
import type { Database } from "../db/client.js";
import { activePolicyModel } from "../db/training.js";
import type { PolicyModel, User } from "../generated/prisma/client.js";
import { sampleMultiCategorical } from "../rl/distribution.js";
import { type HabitPolicy, loadPolicy } from "../rl/policy.js";
import { evaluateNetwork } from "../rl/policy-network.js";

export interface PolicyChoice {
  /** raw level index per habit, in the order of `habits` */
  policyLevels: ArrayLike<number>;
  /** log-probability of that choice under the policy */
  logProb: number | null;
}

/** Something that chooses the day's levels; the heuristic returns undefined (coach default). */
export interface DayPlanner {
  /** stored in Plan.producedBy: "heuristic" or "policy:<model id>" */
  producedBy: string;
  modelId: number | null;
  choose(input: {
    habits: HabitSpec[];
    emas: Record<string, number>;
    day: LocalDate;
  }): Promise<PolicyChoice | undefined>;
}

export type PolicyPlannerLoader = (person: User) => Promise<DayPlanner | undefined>;

export const DEFAULT_POLICY_CACHE_SIZE = 32;

/**
 * The policy's greedy choice for one day: level index per habit in the order of `habits`, and
 * the joint log-probability of that choice. Throws when the policy was trained for a different
 * habit set (naming the differences).
 */
export function choosePolicyLevels(
  policy: HabitPolicy,
  habits: HabitSpec[],
  emas: Record<string, number>,
  day: LocalDate,
): PolicyChoice {
  const check = sameSpec(policy.observationSpec, observationSpec(habits));
  if (!check.same) {
    throw new Error(
      `the active policy was trained for a different habit set: ${check.differences.join("; ")}`,
    );
  }
  const spec = policy.observationSpec;
  const observation = policy.observe(emasInSpecOrder(spec, emas), day);
  const network = policy.network;
  const H = network.habitCount;
  const { logits } = evaluateNetwork(network, observation, 1);
  const actions = new Int32Array(H);
  const logProbs = new Float32Array(H);
  sampleMultiCategorical(
    logits,
    1,
    H,
    network.levels,
    network.spec.levelCount,
    null,
    actions,
    logProbs,
  );
  const bySpecId = new Map(spec.habitIds.map((id, i) => [id, actions[i]]));
  let logProb = 0;
  for (const lp of logProbs) logProb += lp;
  return { policyLevels: habits.map((h) => bySpecId.get(h.id) ?? 0), logProb };
}

export interface ActivePolicyPlanners {
  load: PolicyPlannerLoader;
  /** Frees the cached networks. */
  dispose(): void;
}

/** A PolicyPlannerLoader backed by the PolicyModel table. */
export function activePolicyPlanners(
  db: Database,
  cacheSize = DEFAULT_POLICY_CACHE_SIZE,
): ActivePolicyPlanners {
  const cache = new Map<number, Promise<HabitPolicy>>();

  const policyOf = (model: PolicyModel): Promise<HabitPolicy> => {
    let entry = cache.get(model.id);
    if (entry !== undefined) {
      cache.delete(model.id); // re-insert: most recently used last
    } else {
      entry = loadPolicy(new Uint8Array(model.bytes));
      entry.catch(() => cache.delete(model.id));
    }
    cache.set(model.id, entry);
    while (cache.size > cacheSize) {
      const [oldestId, oldest] = cache.entries().next().value as [number, Promise<HabitPolicy>];
      cache.delete(oldestId);
      void oldest.then((p) => p.dispose()).catch(() => {});
    }
    return entry;
  };

  return {
    async load(person) {
      const model = await activePolicyModel(db, person.id);
      if (model === null) return undefined;
      const policy = await policyOf(model);
      const planner: DayPlanner = {
        producedBy: `policy:${model.id}`,
        modelId: model.id,
        async choose({ habits, emas, day }) {
          return choosePolicyLevels(policy, habits, emas, day);
        },
      };
      return planner;
    },
    dispose() {
      for (const entry of cache.values()) void entry.then((p) => p.dispose()).catch(() => {});
      cache.clear();
    },
  };
}
