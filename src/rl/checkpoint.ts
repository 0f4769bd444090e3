/**
 * Policy checkpoints: one self-describing byte buffer.
 *
 *   bytes 0–3   ASCII "CRLP"
 *   bytes 4–7   format version (uint32, little-endian)
 *   bytes 8–11  header length in bytes (uint32, LE)
 *   header      UTF-8 JSON: observation spec, policy spec, network and PPO settings, training
 *               summary, and the weight manifest (name, shape, offset in floats)
 *   padding     zero bytes up to a multiple of 4
 *   weights     float32 little-endian, in manifest order
 *
 * No date or host data is stored (the training summary's durations and speeds are metadata like
 * the rest), so the same weights and metadata always give the same bytes, and decode → encode
 * reproduces a buffer bit for bit.
 */
import type { ObservationSpec } from "../coach/observation.js";
import type { HabitFeatureTable } from "./habit-features.js";
import type { NamedWeights, NetworkConfig, PolicySpec } from "./policy-network.js";
import type { PpoConfig, TrainingSummary } from "./ppo.js";
import type { BehaviourNetworkConfig, UdrlConfig, UdrlSummary } from "./udrl.js";

export const CHECKPOINT_MAGIC = "CRLP";
/**
 * Format versions: 1, and 2 = a PPO checkpoint whose network reads per-habit behaviour
 * features, with their table in the header (`habitFeatures`). Everything else is still
 * written as version 1, so older builds read it; they refuse version 2 by its number.
 */
export const CHECKPOINT_VERSION = 1;
export const CHECKPOINT_VERSION_FEATURES = 2;
const READABLE_VERSIONS = [CHECKPOINT_VERSION, CHECKPOINT_VERSION_FEATURES];

export interface CheckpointHeader {
  formatVersion: number;
  observationSpec: ObservationSpec;
  policySpec: PolicySpec;
  network: NetworkConfig;
  hyperparameters: PpoConfig | null;
  training:
    | (TrainingSummary & {
        persona?: string;
        seed?: number;
        backend?: string;
        /** A population policy: which of its trainings was kept (1-based) and its new-person check. */
        attempt?: number;
        newPersonCheck?: {
          policy: number;
          heuristic: number;
          difference: number;
          noise: number;
          passed: boolean;
        };
        /** …and every training's check, in the order they were tried. */
        newPersonChecks?: { difference: number; noise: number; passed: boolean }[];
      })
    | null;
  /** Version 2: the behaviour features the policy acts with (those it was trained on). */
  habitFeatures?: HabitFeatureTable;
  weights: { name: string; shape: number[]; offset: number; length: number }[];
}

/**
 * Per-day reward each chat intensity asks a UDRL policy for, measured on the episodes it was
 * trained on (see src/rl/udrl-policy.ts), and the horizon of its training episodes.
 */
export interface IntensityRewards {
  horizonDays: number;
  easy: number;
  normal: number;
  push: number;
}

/** A checkpoint of the command-conditioned behaviour function (upside-down RL). */
export interface UdrlCheckpointHeader {
  formatVersion: number;
  algorithm: "udrl";
  observationSpec: ObservationSpec;
  policySpec: PolicySpec;
  network: BehaviourNetworkConfig;
  hyperparameters: UdrlConfig;
  intensity: IntensityRewards;
  training: (UdrlSummary & { persona?: string; seed?: number; backend?: string }) | null;
  weights: CheckpointHeader["weights"];
}

export interface Checkpoint {
  header: CheckpointHeader;
  weights: NamedWeights[];
}

/** Which algorithm wrote a checkpoint header (PPO checkpoints carry no `algorithm`). */
export function checkpointAlgorithm(
  header: CheckpointHeader | UdrlCheckpointHeader,
): "ppo" | "udrl" {
  return "algorithm" in header && header.algorithm === "udrl" ? "udrl" : "ppo";
}

export function encodeCheckpoint(
  header:
    | Omit<CheckpointHeader, "weights" | "formatVersion">
    | Omit<UdrlCheckpointHeader, "weights" | "formatVersion">,
  weights: NamedWeights[],
): Uint8Array {
  let offset = 0;
  const manifest = weights.map((w) => {
    const entry = { name: w.name, shape: w.shape, offset, length: w.values.length };
    offset += w.values.length;
    return entry;
  });
  const version =
    "habitFeatures" in header && header.habitFeatures
      ? CHECKPOINT_VERSION_FEATURES
      : CHECKPOINT_VERSION;
  const full = {
    formatVersion: version,
    ...header,
    weights: manifest,
  };
  full.formatVersion = version; // a header carried over from a loaded checkpoint holds its own
  const json = new TextEncoder().encode(JSON.stringify(full));
  const headerEnd = 12 + json.length;
  const dataStart = Math.ceil(headerEnd / 4) * 4;
  const bytes = new Uint8Array(dataStart + offset * 4);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(CHECKPOINT_MAGIC), 0);
  view.setUint32(4, version, true);
  view.setUint32(8, json.length, true);
  bytes.set(json, 12);
  for (const [i, w] of weights.entries()) {
    const base = dataStart + manifest[i].offset * 4;
    for (let k = 0; k < w.values.length; k++) view.setFloat32(base + k * 4, w.values[k], true);
  }
  return bytes;
}

/** Decodes a PPO checkpoint; a UDRL checkpoint is refused with a message saying so. */
export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  const { header, weights } = decodeAnyCheckpoint(bytes);
  if (checkpointAlgorithm(header) === "udrl") {
    throw new Error("this is a UDRL checkpoint, not a PPO one (load it with loadCoachPolicy)");
  }
  return { header: header as CheckpointHeader, weights };
}

/** Decodes and checks a checkpoint buffer of either algorithm; errors say what is wrong with it. */
export function decodeAnyCheckpoint(bytes: Uint8Array): {
  header: CheckpointHeader | UdrlCheckpointHeader;
  weights: NamedWeights[];
} {
  if (!(bytes instanceof Uint8Array) || bytes.length < 12) {
    throw new Error("not a CoachRL policy checkpoint: too short");
  }
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  if (magic !== CHECKPOINT_MAGIC) {
    throw new Error(
      `not a CoachRL policy checkpoint: starts with ${JSON.stringify(magic)}, expected "CRLP"`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (!READABLE_VERSIONS.includes(version)) {
    throw new Error(
      `checkpoint format version ${version} is not supported (this build reads ${READABLE_VERSIONS.join(" and ")})`,
    );
  }
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length)
    throw new Error("checkpoint is truncated inside its header");
  let header: CheckpointHeader | UdrlCheckpointHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength)));
  } catch {
    throw new Error("checkpoint header is not valid JSON");
  }
  const dataStart = Math.ceil((12 + headerLength) / 4) * 4;
  const floats = (bytes.length - dataStart) / 4;
  const weights = header.weights.map((entry) => {
    const expected = entry.shape.reduce((a, b) => a * b, 1);
    if (expected !== entry.length || entry.offset + entry.length > floats) {
      throw new Error(`checkpoint weight ${entry.name} is truncated or has an inconsistent shape`);
    }
    const values = new Float32Array(entry.length);
    const base = dataStart + entry.offset * 4;
    for (let k = 0; k < entry.length; k++) values[k] = view.getFloat32(base + k * 4, true);
    return { name: entry.name, shape: entry.shape, values };
  });
  return { header, weights };
}
