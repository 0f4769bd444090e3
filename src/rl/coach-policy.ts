/**
 * A trained coach of either algorithm, as the rest of the product loads and evaluates it: PPO
 * (./policy.ts) or the command-conditioned UDRL behaviour function (./udrl-policy.ts). The
 * checkpoint header says which (`checkpointAlgorithm`).
 */
import type { Intensity } from "../coach/adjust.js";
import type { HabitSpec, MetricGoal } from "../coach/habits.js";
import { checkpointAlgorithm, decodeAnyCheckpoint } from "./checkpoint.js";
import { type Planner, policyPlanner } from "./evaluate.js";
import { type HabitPolicy, loadPolicy } from "./policy.js";
import { loadUdrlPolicy, UdrlHabitPolicy, udrlPlanner } from "./udrl-policy.js";

export type CoachAlgorithm = "ppo" | "udrl";
export const COACH_ALGORITHMS: readonly CoachAlgorithm[] = ["ppo", "udrl"];

export type CoachPolicy = HabitPolicy | UdrlHabitPolicy;

export function algorithmOf(policy: CoachPolicy): CoachAlgorithm {
  return policy instanceof UdrlHabitPolicy ? "udrl" : "ppo";
}

/** Loads checkpoint bytes of either algorithm (same habit-set check as loadPolicy). */
export async function loadCoachPolicy(
  bytes: Uint8Array,
  options: { habits?: HabitSpec[]; metrics?: MetricGoal[] } = {},
): Promise<CoachPolicy> {
  const algorithm = checkpointAlgorithm(decodeAnyCheckpoint(bytes).header);
  return algorithm === "udrl" ? loadUdrlPolicy(bytes, options) : loadPolicy(bytes, options);
}

/**
 * The evaluation planner of a coach: PPO plans as they are (intensity does not apply in the
 * simulation), UDRL under the intensity's command, updated daily.
 */
export function coachPlanner(
  policy: CoachPolicy,
  options: { greedy?: boolean; seed?: number; intensity?: Intensity } = {},
): Planner {
  return policy instanceof UdrlHabitPolicy
    ? udrlPlanner(policy, options)
    : policyPlanner(policy, options);
}
