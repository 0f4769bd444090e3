/**
 * Turns a planner name from the command line into a planner: "random", "heuristic", or the path
 * of a policy checkpoint (which must fit the persona's habit set).
 */
import { readFile } from "node:fs/promises";
import { heuristicPlanner, type Planner, policyPlanner, randomPlanner } from "./evaluate.js";
import type { Persona } from "./persona.js";
import { type HabitPolicy, loadPolicy } from "./policy.js";

export interface NamedPlanner {
  name: string;
  planner: Planner;
  policy: HabitPolicy | null;
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
  let policy: HabitPolicy;
  try {
    policy = await loadPolicy(bytes, { habits: persona.habits, metrics: persona.metrics });
  } catch (error) {
    throw new Error(`${name}: ${(error as Error).message}`);
  }
  return {
    name,
    planner: policyPlanner(policy, { greedy: options.greedy ?? true, seed: options.seed }),
    policy,
  };
}
