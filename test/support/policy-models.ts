// A policy model row with only a checkpoint: what storage tests and benchmarks store.
import type { NewPolicyModel } from "../../src/db/training.js";

export function bareModel(bytes: Uint8Array, userId: number | null = null): NewPolicyModel {
  return {
    userId,
    trainingRunId: null,
    bytes,
    formatVersion: 1,
    spec: {},
    hyperparameters: {},
    evaluation: null,
  };
}
