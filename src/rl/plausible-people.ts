/**
 * Training on a spread of plausible people instead of one: the behaviour fit is uncertain (a
 * habit planned on 10 days says little about its compliance), so the nightly retrain can train
 * on several behaviours drawn from the fit's posteriors (sampleBehaviours in fit-behaviour.ts)
 * as one batch — each rollout row lives one of them, with that behaviour's habit features —
 * and the policy learns plans that hold up across what the person might be.
 */
import {
  HABIT_NUM_ENVS,
  type HabitTrainingEnv,
  habitSetPersona,
  type TrainedHabitPolicy,
  type TrainForHabitsInput,
  trainedHabitPolicy,
  trainForHabits,
  trainInEnv,
} from "./habit-training.js";
import type { Persona, PersonaBehaviour } from "./persona.js";
import { memberPersonas, PopulationEnv, populationTrainingEnv } from "./population.js";
import { deriveSeed } from "./random.js";

export interface TrainForPlausibleInput extends TrainForHabitsInput {
  /**
   * The plausible behaviours to train on as one batch (the rows split among them as evenly as
   * they go). With fewer than 2: exactly trainForHabits on `behaviour` (the point estimate).
   */
  behaviours: PersonaBehaviour[];
}

/**
 * trainForHabits on several behaviours at once. The policy acts (and its checkpoint stores the
 * habit features of) `behaviour`, the point estimate, as the person's evaluation and planning do.
 */
export async function trainForPlausibleHabits(
  input: TrainForPlausibleInput,
): Promise<TrainedHabitPolicy> {
  if (input.behaviours.length < 2) return trainForHabits(input);
  const persona = habitSetPersona(input);
  const numEnvs = input.numEnvs ?? HABIT_NUM_ENVS;
  const trained = await trainInEnv(
    persona,
    (withFeatures) =>
      plausibleTrainingEnv(persona, input.behaviours, { numEnvs, seed: input.seed, withFeatures }),
    input,
  );
  return trainedHabitPolicy(trained);
}

/**
 * The training environment of trainForPlausibleHabits: `persona`'s habit set lived by each of
 * `behaviours` (member i holds rows [offset_i, offset_i + n_i)), every row seeing its own
 * behaviour's habit features when `withFeatures`; the policy acts with `persona.behaviour`'s.
 */
export function plausibleTrainingEnv(
  persona: Persona,
  behaviours: PersonaBehaviour[],
  options: { numEnvs: number; seed: number; withFeatures: boolean },
): HabitTrainingEnv & { population: PopulationEnv } {
  const members = memberPersonas(persona, behaviours);
  const population = new PopulationEnv(members, {
    numEnvs: options.numEnvs,
    seed: deriveSeed(options.seed, "env"),
  });
  return {
    ...populationTrainingEnv(persona, members, population, options.withFeatures),
    population,
  };
}
