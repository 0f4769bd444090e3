/**
 * What a policy sees: a fixed-layout vector built from the previous day's state.
 *
 * Layout (size = H + 7 + M):
 *   [0, H)          per habit in spec order: clamp(ema − 1, −1, 1)   (0 = exactly on goal)
 *   [H, H + 7)      weekday one-hot, Monday first
 *   [H + 7, size)   per metric: clamp((value − target) / tolerance, −3, 3) / 3   (NaN → 0)
 *
 * The spec is plain JSON (stored next to a trained policy) and comparable with sameSpec.
 */

import { type LocalDate, weekdayOf } from "./days.js";
import { METRIC_DISTANCE_CAP } from "./ema.js";
import type { HabitSpec, MetricGoal } from "./habits.js";

export interface ObservationSpec {
  version: 1;
  habitIds: string[];
  habitNames: string[];
  /** Plannable amounts per habit: the action space of each sub-action. */
  levels: number[][];
  actorGroups: number[];
  metricIds: string[];
  dayEncoding: "weekday-one-hot";
  emaEncoding: "ema-minus-one-clamped";
  emaOffset: number;
  weekdayOffset: number;
  metricOffset: number;
  size: number;
}

export function observationSpec(habits: HabitSpec[], metrics: MetricGoal[] = []): ObservationSpec {
  const h = habits.length;
  return {
    version: 1,
    habitIds: habits.map((x) => x.id),
    habitNames: habits.map((x) => x.name),
    levels: habits.map((x) => [...x.levels]),
    actorGroups: habits.map((x) => x.actorGroup),
    metricIds: metrics.map((m) => m.id),
    dayEncoding: "weekday-one-hot",
    emaEncoding: "ema-minus-one-clamped",
    emaOffset: 0,
    weekdayOffset: h,
    metricOffset: h + 7,
    size: h + 7 + metrics.length,
  };
}

function list(xs: readonly unknown[]): string {
  return xs.map((x) => JSON.stringify(x)).join(", ");
}

/**
 * Whether a stored spec (e.g. the one a policy was trained for) fits another; the differences
 * are sentences naming what changed. Names are informational only; ids, levels, actor groups,
 * metrics and encodings must match.
 */
export function sameSpec(
  a: ObservationSpec,
  b: ObservationSpec,
): { same: true } | { same: false; differences: string[] } {
  const diffs: string[] = [];
  if (a.version !== b.version) diffs.push(`spec version ${a.version} vs ${b.version}`);
  if (a.dayEncoding !== b.dayEncoding || a.emaEncoding !== b.emaEncoding) {
    diffs.push(
      `encodings differ (${a.dayEncoding}/${a.emaEncoding} vs ${b.dayEncoding}/${b.emaEncoding})`,
    );
  }
  const aIds = a.habitIds ?? [];
  const bIds = b.habitIds ?? [];
  const missing = aIds.filter((id) => !bIds.includes(id));
  const added = bIds.filter((id) => !aIds.includes(id));
  if (missing.length > 0) diffs.push(`habits no longer present: ${list(missing)}`);
  if (added.length > 0) diffs.push(`habits not in the stored spec: ${list(added)}`);
  if (missing.length === 0 && added.length === 0 && aIds.join("\u0000") !== bIds.join("\u0000")) {
    diffs.push(`habit order differs: ${list(aIds)} vs ${list(bIds)}`);
  }
  // Per habit present in both (matched by id): the action space and the actor group.
  aIds.forEach((id, i) => {
    const j = bIds.indexOf(id);
    if (j < 0) return;
    const la = a.levels?.[i] ?? [];
    const lb = b.levels?.[j] ?? [];
    if (la.join(",") !== lb.join(",")) {
      diffs.push(`habit ${JSON.stringify(id)} levels [${la.join(", ")}] vs [${lb.join(", ")}]`);
    }
    if (a.actorGroups?.[i] !== b.actorGroups?.[j]) {
      diffs.push(
        `habit ${JSON.stringify(id)} actor group ${a.actorGroups?.[i]} vs ${b.actorGroups?.[j]}`,
      );
    }
  });
  if ((a.metricIds ?? []).join("\u0000") !== (b.metricIds ?? []).join("\u0000")) {
    diffs.push(`metrics [${list(a.metricIds ?? [])}] vs [${list(b.metricIds ?? [])}]`);
  }
  if (diffs.length === 0 && a.size !== b.size) diffs.push(`size ${a.size} vs ${b.size}`);
  return diffs.length === 0 ? { same: true } : { same: false, differences: diffs };
}

/**
 * The observation for a day, from the previous day's EMAs (spec habit order), the day (a
 * LocalDate or a weekday index 0 = Monday) and optional signed metric deviations in tolerance
 * units (spec metric order). Writes into `out` at `offset` without allocating when given.
 */
export function buildObservation(
  spec: ObservationSpec,
  previousEmas: ArrayLike<number>,
  day: LocalDate | number,
  metricDeviations?: ArrayLike<number>,
  out?: Float32Array,
  offset = 0,
): Float32Array {
  const res = out ?? new Float32Array(spec.size);
  const h = spec.habitIds.length;
  for (let i = 0; i < h; i++) {
    const x = previousEmas[i] - 1;
    res[offset + i] = x > -1 ? Math.min(x, 1) : -1; // NaN → −1
  }
  const weekday = typeof day === "number" ? day : weekdayOf(day);
  if (!(weekday >= 0 && weekday <= 6) || !Number.isInteger(weekday)) {
    throw new RangeError(`weekday must be 0–6 (Monday = 0), got ${weekday}`);
  }
  const w = offset + spec.weekdayOffset;
  for (let d = 0; d < 7; d++) res[w + d] = d === weekday ? 1 : 0;
  const m = spec.metricIds.length;
  const mo = offset + spec.metricOffset;
  for (let i = 0; i < m; i++) {
    const v = metricDeviations === undefined ? Number.NaN : metricDeviations[i];
    res[mo + i] =
      v === undefined || Number.isNaN(v)
        ? 0
        : Math.max(-METRIC_DISTANCE_CAP, Math.min(METRIC_DISTANCE_CAP, v)) / METRIC_DISTANCE_CAP;
  }
  return res;
}

/** EMAs by habit id → an array in spec order (missing habits get `fallback`). */
export function emasInSpecOrder(
  spec: ObservationSpec,
  emasById: Record<string, number>,
  fallback = 0,
): Float64Array {
  return Float64Array.from(spec.habitIds, (id) => emasById[id] ?? fallback);
}
