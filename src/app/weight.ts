// Measurements a person tracks (body weight, waist, resting pulse…): record one, set a goal,
// load the trend chart, list them, import body weights from machines. /weight and /metric call these; the rules about values and
// units are the coach core's (src/coach/weight.ts), the storage is src/db/metrics.ts.
import { validateMetricGoal } from "../coach/habits.js";
import { checkMetricValue, WEIGHT_METRIC } from "../coach/weight.js";
import { storeWeightSamples, weightUnitOfPerson } from "../db/ingest.js";
import {
  ensureMetric,
  findMetric,
  listMetrics,
  metricSamples,
  previousSample,
  recordSample,
  setMetricGoal,
} from "../db/metrics.js";
import type { Metric, MetricSample, User } from "../generated/prisma/client.js";
import type { UploadFormat } from "../ingest/upload.js";
import { inlineChartRenderer } from "./charts/renderer.js";
import type { AppDeps } from "./deps.js";
import { inlineWeightUploadReader, type WeightUploadReader } from "./weight-upload-reader.js";

/** How far back the trend chart looks. */
export const TREND_DAYS = 365;

export type RecordOutcome =
  | { kind: "refused"; message: string }
  | { kind: "duplicate"; metric: Metric; sample: MetricSample }
  | { kind: "recorded"; metric: Metric; sample: MetricSample; previous: MetricSample | null };

/**
 * Records a measurement typed in chat at `measuredAt` (see chatMeasurementInstant): checked
 * against the metric's unit first, the metric created on first use; a second delivery of the
 * same instant stores nothing ("duplicate").
 */
export async function recordMeasurement(
  deps: Pick<AppDeps, "db">,
  person: User,
  name: string,
  value: number,
  typedUnit: string | null,
  measuredAt: Date,
): Promise<RecordOutcome> {
  const { db } = deps;
  const existing = await findMetric(db, person.id, name);
  const checked = checkMetricValue(name, value, typedUnit, existing?.unit ?? "");
  if (!checked.ok) return { kind: "refused", message: checked.message };
  const metric = existing ?? (await ensureMetric(db, person.id, name, checked.value.unit)).metric;
  const { stored, sample } = await recordSample(db, {
    userId: person.id,
    metricId: metric.id,
    value: checked.value.value,
    measuredAt,
    source: "chat",
  });
  if (!stored) return { kind: "duplicate", metric, sample };
  return {
    kind: "recorded",
    metric,
    sample,
    previous: await previousSample(db, metric.id, measuredAt),
  };
}

export type GoalOutcome =
  | { ok: false; message: string }
  | { ok: true; metric: Metric; target: number; tolerance: number };

/** Sets a metric's goal (target ± tolerance); a bad goal leaves no trace. */
export async function setMeasurementGoal(
  deps: Pick<AppDeps, "db">,
  person: User,
  name: string,
  target: number,
  tolerance: number | null,
): Promise<GoalOutcome> {
  const { db } = deps;
  const existing = await findMetric(db, person.id, name);
  const tol = tolerance ?? existing?.tolerance ?? Math.max(Math.abs(target) * 0.01, 0.1);
  // validate before creating anything, so a bad goal leaves no trace
  const validated = validateMetricGoal({
    id: String(existing?.id ?? "new"),
    name: existing?.name ?? name,
    unit: existing?.unit ?? "",
    target,
    tolerance: tol,
    direction: "reach",
  });
  if (!validated.ok) {
    return { ok: false, message: validated.problems.map((p) => p.message).join("\n") };
  }
  const defaultUnit = name.toLowerCase() === WEIGHT_METRIC ? "kg" : "";
  const metric = existing ?? (await ensureMetric(db, person.id, name, defaultUnit)).metric;
  const updated = await setMetricGoal(db, metric.id, {
    target: validated.metric.target,
    tolerance: validated.metric.tolerance,
    direction: validated.metric.direction,
  });
  return { ok: true, metric: updated, target, tolerance: tol };
}

export type TrendOutcome =
  | { kind: "no-metric" }
  | { kind: "no-samples"; metric: Metric }
  | { kind: "chart"; metric: Metric; samples: MetricSample[]; png: Buffer };

/** A metric's samples of the last TREND_DAYS and their chart (with the goal as a band). */
export async function measurementTrend(
  deps: Pick<AppDeps, "db" | "now" | "charts">,
  person: User,
  name: string,
): Promise<TrendOutcome> {
  const metric = await findMetric(deps.db, person.id, name);
  if (metric === null) return { kind: "no-metric" };
  const since = new Date(deps.now().getTime() - TREND_DAYS * 86_400_000);
  const samples = await metricSamples(deps.db, metric.id, since);
  if (samples.length === 0) return { kind: "no-samples", metric };
  const png = await (deps.charts ?? inlineChartRenderer).metric({
    title: `${metric.name}${metric.unit ? ` (${metric.unit})` : ""}`,
    unit: metric.unit,
    samples: samples.map((s) => ({ at: s.measuredAt, value: s.value })),
    timeZone: person.timezone,
    target: metric.target,
    tolerance: metric.tolerance,
  });
  return { kind: "chart", metric, samples, png };
}

/** The person's metrics with their latest sample and sample count. */
export async function listMeasurements(deps: Pick<AppDeps, "db">, person: User) {
  return listMetrics(deps.db, person.id);
}

export type WeightImportOutcome =
  | { kind: "nothing"; format: UploadFormat; bytes: number; problems: string[] }
  | {
      kind: "stored" | "dry-run";
      format: UploadFormat;
      bytes: number;
      /** samples read from the upload */
      read: number;
      /** new samples stored (0 in a dry run) */
      stored: number;
      /** samples whose instant was already stored */
      duplicates: number;
      problems: string[];
      first: Date;
      last: Date;
    };

/**
 * Body weights from a machine — a scale's CSV, an Apple Health export, a phone automation's
 * JSON — read as they arrive and stored once per measurement instant. The HTTP route
 * (POST /ingest/weight, source "ingest") and `coachrl import` (source "import") both call this;
 * the route reads in a worker thread (`deps.uploads`), the command line in-process.
 * Throws UploadTooLargeError past `maxBytes` and TooManySamplesError past `maxSamples`: nothing
 * is stored then.
 */
export async function importWeights(
  deps: Pick<AppDeps, "db" | "now"> & { uploads?: WeightUploadReader },
  person: User,
  body: AsyncIterable<Uint8Array>,
  options: {
    source: "ingest" | "import";
    dryRun?: boolean;
    format?: UploadFormat;
    contentType?: string;
    fileName?: string;
    maxBytes?: number;
    maxUnzippedBytes?: number;
    maxSamples?: number;
  },
): Promise<WeightImportOutcome> {
  const { source, dryRun = false, ...upload } = options;
  const outcome = await (deps.uploads ?? inlineWeightUploadReader).read(body, {
    ...upload,
    timeZone: person.timezone,
    now: deps.now(),
    defaultUnit: await weightUnitOfPerson(deps.db, person.id),
  });
  const { samples, problems, format, bytes } = outcome;
  if (samples.length === 0) return { kind: "nothing", format, bytes, problems };
  const result = dryRun
    ? { stored: 0, duplicates: 0 }
    : await storeWeightSamples(deps.db, person.id, samples, source);
  let first = samples[0].measuredAt;
  let last = first;
  for (const s of samples) {
    if (s.measuredAt < first) first = s.measuredAt;
    if (s.measuredAt > last) last = s.measuredAt;
  }
  return {
    kind: dryRun ? "dry-run" : "stored",
    format,
    bytes,
    read: samples.length,
    stored: result.stored,
    duplicates: result.duplicates,
    problems,
    first,
    last,
  };
}
