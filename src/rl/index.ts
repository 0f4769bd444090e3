/**
 * Public API of the RL engine for the rest of the product (bot, CLI). See docs/rl.md.
 */
export { type BackendChoice, type BackendName, initBackend } from "./backend.js";
export { CHECKPOINT_VERSION, decodeCheckpoint } from "./checkpoint.js";
export {
  type EvaluationResult,
  evaluatePlanner,
  heuristicPlanner,
  type Planner,
  policyPlanner,
  randomPlanner,
} from "./evaluate.js";
export { type HabitEnvOptions, HabitVectorEnv } from "./habit-env.js";
export {
  actorGroupProblem,
  defaultBehaviour,
  HABIT_PPO,
  type TrainForHabitsInput,
  trainForHabits,
  trainOnPersona,
} from "./habit-training.js";
export {
  loadPersonaFile,
  type Persona,
  type PersonaBehaviour,
  parsePersona,
  validatePersona,
} from "./persona.js";
export { HabitPolicy, loadPolicy, type PlanOptions } from "./policy.js";
export type { PpoConfig, RatioMode, TrainingProgress, TrainingSummary } from "./ppo.js";
export { type RetrainInput, type RetrainResult, retrainInWorker } from "./retrain.js";
