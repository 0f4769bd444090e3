/**
 * The contract between PPO and an environment: N copies stepped together, all data in
 * preallocated typed arrays. Environments reset finished copies themselves (auto-reset) and hand
 * back the final observation of the finished episode so that a cut-off (truncated) episode can
 * be bootstrapped from it.
 */
export interface StepBuffers {
  /** [N, O] observations after the step (first observation of a new episode after an end). */
  observations: Float32Array;
  /** [N, G] reward of each actor group (G = groupCount; CartPole has one). */
  groupRewards: Float32Array;
  /** [N] total reward of the step. */
  rewards: Float32Array;
  /** [N] 1 where the step ended in a true terminal state. */
  terminated: Uint8Array;
  /** [N] 1 where the episode was cut off (time limit) rather than ended. */
  truncated: Uint8Array;
  /** [N, O] final observation of an episode that just ended (only rows that ended are valid). */
  finalObservations: Float32Array;
}

export interface VectorEnv {
  readonly numEnvs: number;
  readonly observationSize: number;
  readonly groupCount: number;
  /** Number of sub-actions (habits) per copy; actions are [N, H] level indices. */
  readonly actionCount: number;
  reset(observations: Float32Array): void;
  step(actions: Int32Array, out: StepBuffers): void;
}

export function createStepBuffers(env: VectorEnv): StepBuffers {
  const n = env.numEnvs;
  return {
    observations: new Float32Array(n * env.observationSize),
    groupRewards: new Float32Array(n * env.groupCount),
    rewards: new Float32Array(n),
    terminated: new Uint8Array(n),
    truncated: new Uint8Array(n),
    finalObservations: new Float32Array(n * env.observationSize),
  };
}
