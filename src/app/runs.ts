// Tracking training runs: the list (`coachrl runs`, /runs) and one run in full (`coachrl runs
// show ID`, /runs ID) — hyperparameters, the behaviour it trained on, the evaluation, the metric
// curves and their chart. Read from TrainingRun, its TrainingMetric rows and its PolicyModel.
import { z } from "zod";
import { findTrainingRun, listTrainingRuns, type TrainingRunRow } from "../db/runs.js";
import type { TrainingStatus, TrainingTrigger } from "../generated/prisma/enums.js";
import type { TrainingCurve } from "./charts/charts.js";
import { inlineChartRenderer } from "./charts/renderer.js";
import type { AppDeps } from "./deps.js";

export const RUN_STATUSES = [
  "queued",
  "running",
  "succeeded",
  "failed",
  "cancelled",
] as const satisfies readonly TrainingStatus[];

export const DEFAULT_RUN_LIST_LIMIT = 20;

/** The metric curves in the order they are shown; other recorded metrics follow by name. */
export const CURVE_ORDER = [
  "mean_reward",
  "entropy",
  "approx_kl",
  "clip_fraction",
  "policy_loss",
  "value_loss",
  "explained_variance",
  "learning_rate",
  "samples_per_second",
];

export interface RunSummary {
  id: number;
  /** null when the person was deleted */
  person: { telegramId: bigint; displayName: string } | null;
  trigger: TrainingTrigger;
  status: TrainingStatus;
  /** what it trained on: "fitted", "default", or "pending" before it started */
  behaviour: string | null;
  /** mean daily reward of what planned before (active policy or heuristic) and of the new policy */
  before: number | null;
  after: number | null;
  activated: boolean;
  /** from start to finish (or to now while running); null before it started */
  seconds: number | null;
  createdAt: Date;
  error: string | null;
}

const evaluationSummary = z.object({
  meanReward: z.number(),
  ci95: z.number(),
  meanRewardLast90: z.number().optional(),
});

export type EvaluationResult = z.infer<typeof evaluationSummary>;

const fitQuality = z.object({
  days: z.number(),
  daysWithPlan: z.number(),
  capacity: z.string(),
  capacityGain: z.number(),
  habits: z.record(
    z.string(),
    z.object({
      plannedDays: z.number(),
      plannedDone: z.number(),
      unplannedDays: z.number(),
      unplannedDone: z.number(),
    }),
  ),
});

/** The fields of a finished run's summary this module reads; anything else is ignored. */
const runSummaryJson = z.object({
  before: z.number().nullable().optional(),
  beforeSource: z.string().nullable().optional(),
  after: z.number().nullable().optional(),
  activated: z.boolean().optional(),
  behaviour: z
    .object({
      source: z.string(),
      days: z.number(),
      daysWithPlan: z.number(),
      fit: fitQuality.nullable(),
    })
    .optional(),
  evaluation: z
    .object({
      episodes: z.number(),
      days: z.number(),
      seed: z.number(),
      candidate: evaluationSummary,
      heuristic: evaluationSummary,
      active: evaluationSummary.nullable(),
      activeNote: z.string().nullable().optional(),
    })
    .optional(),
});

type RunSummaryJson = z.infer<typeof runSummaryJson>;

function summaryOf(row: TrainingRunRow): RunSummaryJson {
  const parsed = runSummaryJson.safeParse(row.summary ?? {});
  return parsed.success ? parsed.data : {};
}

function hyperparametersOf(row: TrainingRunRow): Record<string, unknown> {
  const h = row.hyperparameters;
  return typeof h === "object" && h !== null && !Array.isArray(h)
    ? (h as Record<string, unknown>)
    : {};
}

function runSummary(row: TrainingRunRow, now: Date): RunSummary {
  const summary = summaryOf(row);
  const behaviour = summary.behaviour?.source ?? hyperparametersOf(row).behaviour;
  const end = row.finishedAt ?? (row.status === "running" ? now : null);
  return {
    id: row.id,
    person: row.user
      ? { telegramId: row.user.telegramId, displayName: row.user.displayName }
      : null,
    trigger: row.trigger,
    status: row.status,
    behaviour: typeof behaviour === "string" ? behaviour : null,
    before: summary.before ?? null,
    after: summary.after ?? null,
    activated: summary.activated ?? false,
    seconds:
      row.startedAt !== null && end !== null
        ? (end.getTime() - row.startedAt.getTime()) / 1000
        : null,
    createdAt: row.createdAt,
    error: row.error,
  };
}

export interface RunFilter {
  telegramId?: bigint;
  status?: TrainingStatus;
  limit?: number;
}

/** The latest training runs, newest first. */
export async function listRuns(
  deps: Pick<AppDeps, "db" | "now">,
  filter: RunFilter = {},
): Promise<RunSummary[]> {
  const rows = await listTrainingRuns(deps.db, {
    ...filter,
    limit: filter.limit ?? DEFAULT_RUN_LIST_LIMIT,
  });
  const now = deps.now();
  return rows.map((row) => runSummary(row, now));
}

export interface RunDetails extends RunSummary {
  /** the run's sizes (steps, environments, evaluation) and history used */
  hyperparameters: Record<string, unknown>;
  /** the PPO configuration of the policy it stored (null when none was stored) */
  ppo: Record<string, unknown> | null;
  modelId: number | null;
  /** what the policy trained on; null before the run finished */
  behaviourUsed: NonNullable<RunSummaryJson["behaviour"]> | null;
  beforeSource: string | null;
  evaluation: NonNullable<RunSummaryJson["evaluation"]> | null;
  curves: TrainingCurve[];
}

export type RunLookup = { kind: "not-found" } | { kind: "found"; run: RunDetails };

/** One run in full. */
export async function runDetails(
  deps: Pick<AppDeps, "db" | "now">,
  runId: number,
): Promise<RunLookup> {
  const row = await findTrainingRun(deps.db, runId);
  if (row === null) return { kind: "not-found" };
  const summary = summaryOf(row);
  const byName = new Map<string, TrainingCurve>();
  for (const m of row.metrics) {
    let curve = byName.get(m.name);
    if (curve === undefined) {
      curve = { name: m.name, points: [] };
      byName.set(m.name, curve);
    }
    curve.points.push({ step: m.step, value: m.value });
  }
  const rank = (name: string) => {
    const i = CURVE_ORDER.indexOf(name);
    return i < 0 ? CURVE_ORDER.length : i;
  };
  const curves = [...byName.values()].sort(
    (a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name),
  );
  const model = row.models[0] ?? null;
  const ppo = model?.hyperparameters;
  return {
    kind: "found",
    run: {
      ...runSummary(row, deps.now()),
      hyperparameters: hyperparametersOf(row),
      ppo:
        typeof ppo === "object" && ppo !== null && !Array.isArray(ppo)
          ? (ppo as Record<string, unknown>)
          : null,
      modelId: model?.id ?? null,
      behaviourUsed: summary.behaviour ?? null,
      beforeSource: summary.beforeSource ?? null,
      evaluation: summary.evaluation ?? null,
      curves,
    },
  };
}

/** The PNG of a run's metric curves; null when it recorded none (yet). */
export async function runCurvesChart(
  deps: Pick<AppDeps, "charts">,
  run: RunDetails,
): Promise<Buffer | null> {
  if (run.curves.every((c) => c.points.length === 0)) return null;
  const who = run.person ? ` — ${run.person.displayName}` : "";
  return (deps.charts ?? inlineChartRenderer).trainingCurves({
    title: `Training run #${run.id}${who}`,
    curves: run.curves,
  });
}
