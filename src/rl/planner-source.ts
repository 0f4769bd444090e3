/**
 * Turns a planner name from the command line into a planner: "random", "heuristic", or the path
 * of a policy checkpoint of either algorithm (which must fit the persona's habit set; a UDRL
 * coach plans under the "normal" command).
 */
import { readFile } from "node:fs/promises";
import { type CoachPolicy, coachPlanner, loadCoachPolicy } from "./coach-policy.js";
import { heuristicPlanner, type Planner, randomPlanner } from "./evaluate.js";
import type { Persona } from "./persona.js";

export interface NamedPlanner {
  name: string;
  planner: Planner;
  policy: CoachPolicy | null;
}

export async function plannerFromName(
  name: string,
  persona: Persona,
  options: { seed: number; greedy?: boolean },
): Promise<NamedPlanner> {
  if (name === "random") return { name, planner: randomPlanner(options.seed), policy: null };
  if (name === "heuristic") return { name, planner: heuristicPlanner(), policy: null };
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(name));
  } catch (error) {
    throw new Error(
      `policy "${name}" is neither random, heuristic nor a readable checkpoint file (${(error as NodeJS.ErrnoException).code ?? error})`,
    );
  }
  let policy: CoachPolicy;
  try {
    policy = await loadCoachPolicy(bytes, { habits: persona.habits, metrics: persona.metrics });
  } catch (error) {
    throw new Error(`${name}: ${(error as Error).message}`);
  }
  return {
    name,
    planner: coachPlanner(policy, { greedy: options.greedy ?? true, seed: options.seed }),
    policy,
  };
}
