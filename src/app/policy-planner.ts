// The day-planner seam (DayPlanner) and its trained implementation: plans from a person's
// active PolicyModel. Plugs into AppDeps.loadPolicyPlanner (see planning.ts); the coach core
// still adjusts whatever the policy picks, and any failure falls back to the heuristic there. Loaded policies are cached by model
// id (a model's bytes never change), least recently used first out.
import type { Intensity } from "../coach/adjust.js";
import { daysBetween, type LocalDate } from "../coach/days.js";
import type { HabitSpec } from "../coach/habits.js";
import {
  emasInSpecOrder,
  type ObservationSpec,
  observationSpec,
  sameSpec,
} from "../coach/observation.js";
import type { Database } from "../db/client.js";
import {
  activePolicyModelSummary,
  type PolicyModelSummary,
  policyModelBytes,
} from "../db/training.js";
import type { User } from "../generated/prisma/client.js";
import { type CoachPolicy, loadCoachPolicy } from "../rl/coach-policy.js";
import { sampleMultiCategorical } from "../rl/distribution.js";
import type { HabitPolicy } from "../rl/policy.js";
import { evaluateNetwork } from "../rl/policy-network.js";
import { UdrlHabitPolicy } from "../rl/udrl-policy.js";

export interface PolicyChoice {
  /** raw level index per habit, in the order of `habits` */
  policyLevels: ArrayLike<number>;
  /** log-probability of that choice under the policy */
  logProb: number | null;
}

/** The person's /intensity on the day planned (see src/app/intensity.ts). */
export interface DayIntensity {
  intensity: Intensity;
  /** last day it holds; null = until changed */
  until: LocalDate | null;
}

/** Something that chooses the day's levels; the heuristic returns undefined (coach default). */
export interface DayPlanner {
  /** stored in Plan.producedBy: "heuristic" or "policy:<model id>" */
  producedBy: string;
  modelId: number | null;
  /**
   * true when the planner follows the intensity itself (a UDRL coach: it is its command);
   * otherwise the coach core scales the plan by it (applyIntensity).
   */
  followsIntensity: boolean;
  choose(input: {
    habits: HabitSpec[];
    emas: Record<string, number>;
    day: LocalDate;
    intensity?: DayIntensity;
  }): Promise<PolicyChoice | undefined>;
}

export type PolicyPlannerLoader = (person: User) => Promise<DayPlanner | undefined>;

export const DEFAULT_POLICY_CACHE_SIZE = 32;

/** Throws when a policy was trained for a different habit set (naming the differences). */
function requireHabitSet(trainedFor: ObservationSpec, habits: HabitSpec[]): void {
  const check = sameSpec(trainedFor, observationSpec(habits));
  if (!check.same) {
    throw new Error(
      `the active policy was trained for a different habit set: ${check.differences.join("; ")}`,
    );
  }
}

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
  requireHabitSet(policy.observationSpec, habits);
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

/**
 * A UDRL coach's greedy choice for one day under the command of the person's intensity: the
 * intensity's per-day reward over the days it still holds (today included; until changed: the
 * coach's training horizon). The command is recomputed from the setting every day — the person
 * asked for how the coming days should feel, not to make up for the days before.
 */
export function chooseUdrlLevels(
  policy: UdrlHabitPolicy,
  habits: HabitSpec[],
  emas: Record<string, number>,
  day: LocalDate,
  intensity: DayIntensity = { intensity: "normal", until: null },
): PolicyChoice {
  requireHabitSet(policy.observationSpec, habits);
  const spec = policy.observationSpec;
  const daysLeft =
    intensity.until === null ? undefined : Math.max(1, daysBetween(day, intensity.until) + 1);
  const levels = policy.plan(
    policy.observe(emasInSpecOrder(spec, emas), day),
    policy.command(intensity.intensity, daysLeft),
  );
  const bySpecId = new Map(spec.habitIds.map((id, i) => [id, levels[i]]));
  return { policyLevels: habits.map((h) => bySpecId.get(h.id) ?? 0), logProb: null };
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
  const cache = new Map<number, Promise<CoachPolicy>>();

  // the checkpoint is read only when the policy is not cached (it is ~66 KB for 5 habits)
  const policyOf = (model: PolicyModelSummary): Promise<CoachPolicy> => {
    let entry = cache.get(model.id);
    if (entry !== undefined) {
      cache.delete(model.id); // re-insert: most recently used last
    } else {
      entry = policyModelBytes(db, model.id).then((bytes) => {
        if (bytes === null) throw new Error(`policy model ${model.id} no longer exists`);
        return loadCoachPolicy(bytes);
      });
      entry.catch(() => cache.delete(model.id));
    }
    cache.set(model.id, entry);
    while (cache.size > cacheSize) {
      const [oldestId, oldest] = cache.entries().next().value as [number, Promise<CoachPolicy>];
      cache.delete(oldestId);
      void oldest.then((p) => p.dispose()).catch(() => {});
    }
    return entry;
  };

  return {
    async load(person) {
      const model = await activePolicyModelSummary(db, person.id);
      if (model === null) return undefined;
      const policy = await policyOf(model);
      const planner: DayPlanner = {
        producedBy: `policy:${model.id}`,
        modelId: model.id,
        followsIntensity: policy instanceof UdrlHabitPolicy,
        async choose({ habits, emas, day, intensity }) {
          return policy instanceof UdrlHabitPolicy
            ? chooseUdrlLevels(policy, habits, emas, day, intensity)
            : choosePolicyLevels(policy, habits, emas, day);
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
