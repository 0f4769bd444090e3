// Per-person choice of the learning algorithm behind the coach: PPO (the default, until UDRL
// is measured better: docs/rl-results.md) or UDRL. The retrain job reads it (training/retrain.ts);
// `coachrl retrain --algo` sets it.

import type { Database } from "../db/client.js";
import { storeCoachAlgorithm } from "../db/coach-algorithm.js";
import type { User } from "../generated/prisma/client.js";
import { COACH_ALGORITHMS, type CoachAlgorithm } from "../rl/coach-policy.js";

export function coachAlgorithmOf(person: Pick<User, "coachAlgorithm">): CoachAlgorithm {
  return (COACH_ALGORITHMS as readonly string[]).includes(person.coachAlgorithm)
    ? (person.coachAlgorithm as CoachAlgorithm)
    : "ppo";
}

/** Stores the algorithm for these people's next retrains (nightly ones included). */
export async function setCoachAlgorithm(
  deps: { db: Database },
  people: User[],
  algorithm: CoachAlgorithm,
): Promise<void> {
  await storeCoachAlgorithm(
    deps.db,
    people.map((p) => p.id),
    algorithm,
  );
}
