// `coachrl runs [--person TELEGRAM_ID] [--status S] [--limit N] [--json]`
// `coachrl runs show ID [--png FILE] [--json]`
// Training runs as a table, or one run in full with a PNG of its metric curves.
import { writeFile } from "node:fs/promises";
import {
  DEFAULT_RUN_LIST_LIMIT,
  listRuns,
  RUN_STATUSES,
  type RunDetails,
  type RunSummary,
  runCurvesChart,
  runDetails,
} from "../app/runs.js";
import { loadConfig } from "../config.js";
import { type Database, openDatabase } from "../db/client.js";
import { choice, parseCommandLine, positiveInteger, USAGE_ERROR } from "./args.js";

const USAGE = `Usage:
  coachrl runs [--person TELEGRAM_ID] [--status S] [--limit N] [--json]
  coachrl runs show ID [--png FILE] [--json]

The first form lists training runs, newest first: id, person, trigger, status, the behaviour
trained on (fitted to the person's history or the default), mean daily reward before → after,
whether the new policy was activated, and how long it took.
The second prints one run: hyperparameters, the behaviour used with its fit quality, the
evaluation (new policy, heuristic and active policy with 95 % confidence intervals) and the
metric curves; --png writes the curves as a chart.

Options:
  --person ID   only this person's runs (Telegram id)
  --status S    ${RUN_STATUSES.join(" | ")}
  --limit N     at most N runs (default ${DEFAULT_RUN_LIST_LIMIT})
  --png FILE    (show) write the metric curves as a PNG
  --json        print JSON on stdout`;

const OPTIONS = {
  person: { type: "string" },
  status: { type: "string" },
  limit: { type: "string" },
  png: { type: "string" },
  json: { type: "boolean", default: false },
} as const;

export interface RunsDeps {
  /** Opens the database (default: from the environment, like `coachrl migrate`). */
  openDatabase?: () => Promise<Database>;
  /** Whether run() closes the database it opened (default true). */
  closeDatabase?: boolean;
  out?: (line: string) => void;
  err?: (line: string) => void;
}

const fixed = (x: number | null, digits = 3) => (x === null ? "–" : x.toFixed(digits));

function duration(seconds: number | null): string {
  if (seconds === null) return "–";
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  return `${(seconds / 60).toFixed(1)} min`;
}

/** JSON with bigints as strings and dates as ISO text. */
function json(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? v.toString() : v));
}

function table(runs: RunSummary[]): string {
  const header = [
    "id",
    "person",
    "telegram id",
    "trigger",
    "status",
    "behaviour",
    "before",
    "after",
    "activated",
    "duration",
    "created",
  ];
  const rows = runs.map((r) => [
    String(r.id),
    r.person?.displayName ?? "(deleted)",
    r.person?.telegramId.toString() ?? "–",
    r.trigger,
    r.status,
    r.behaviour ?? "–",
    fixed(r.before),
    fixed(r.after),
    r.status === "succeeded" ? (r.activated ? "yes" : "no") : "–",
    duration(r.seconds),
    `${r.createdAt.toISOString().slice(0, 16).replace("T", " ")} UTC`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

function showText(run: RunDetails): string {
  const lines: string[] = [];
  const who = run.person
    ? `${run.person.displayName} (telegram id ${run.person.telegramId})`
    : "(deleted person)";
  lines.push(`Training run #${run.id}: ${who}`);
  lines.push(
    `trigger ${run.trigger}, status ${run.status}, created ${run.createdAt.toISOString()}, took ${duration(run.seconds)}`,
  );
  if (run.error) lines.push(`error: ${run.error}`);
  lines.push("", "Hyperparameters");
  for (const [key, value] of Object.entries(run.hyperparameters)) {
    lines.push(`  ${key}: ${json(value)}`);
  }
  if (run.ppo) {
    lines.push(`  PPO (model #${run.modelId}): ${json(run.ppo)}`);
  }
  lines.push("", "Behaviour used");
  const b = run.behaviourUsed;
  if (b === null) lines.push(`  ${run.behaviour ?? "not known yet"}`);
  else {
    lines.push(
      `  ${b.source}: ${b.days} days of history, ${b.daysWithPlan} with a plan${b.source === "default" ? " (too few to fit)" : ""}`,
    );
    if (b.fit) {
      lines.push(
        `  capacity model: ${b.fit.capacity} (log-likelihood gain ${b.fit.capacityGain.toFixed(1)} nats)`,
      );
      for (const [habit, q] of Object.entries(b.fit.habits)) {
        lines.push(
          `  habit ${habit}: done on ${q.plannedDone}/${q.plannedDays} planned days, ${q.unplannedDone}/${q.unplannedDays} unplanned days`,
        );
      }
    }
  }
  lines.push("", "Evaluation (mean daily reward ± 95 % CI)");
  const e = run.evaluation;
  if (e === null) lines.push("  none (the run did not finish)");
  else {
    lines.push(`  ${e.episodes} simulated people × ${e.days} days, seed ${e.seed}`);
    const row = (label: string, s: { meanReward: number; ci95: number } | null) =>
      `  ${label.padEnd(10)} ${s === null ? "–" : `${s.meanReward.toFixed(4)} ± ${s.ci95.toFixed(4)}`}`;
    lines.push(row("candidate", e.candidate));
    lines.push(row("heuristic", e.heuristic));
    lines.push(row("active", e.active));
    if (e.activeNote) lines.push(`  note: ${e.activeNote}`);
    lines.push(`  activated: ${run.activated ? "yes" : "no"}`);
  }
  lines.push("", "Metric curves (first → last, at step)");
  if (run.curves.length === 0) lines.push("  none recorded");
  for (const c of run.curves) {
    const first = c.points[0];
    const last = c.points.at(-1)!;
    lines.push(
      `  ${c.name.padEnd(20)} ${first.value.toPrecision(4)} → ${last.value.toPrecision(4)}  (${c.points.length} points, steps ${first.step}…${last.step})`,
    );
  }
  return lines.join("\n");
}

export async function run(argv: string[], deps: RunsDeps = {}): Promise<number> {
  const out = deps.out ?? ((line: string) => console.log(line));
  const err = deps.err ?? ((line: string) => console.error(line));
  const commandLine = parseCommandLine(argv, USAGE, OPTIONS, { positionals: true, out, err });
  if (typeof commandLine === "number") return commandLine;
  const { values, positionals } = commandLine;
  const problems: string[] = [];
  const show = positionals[0] === "show";
  let runId: number | undefined;
  let telegramId: bigint | undefined;
  let status: (typeof RUN_STATUSES)[number] | undefined;
  let limit: number | undefined;
  const check = (read: () => void) => {
    try {
      read();
    } catch (error) {
      problems.push((error as Error).message);
    }
  };
  if (show) {
    if (positionals.length !== 2) problems.push("runs show needs exactly one run ID");
    else check(() => (runId = positiveInteger(positionals[1], "ID")));
    for (const flag of ["person", "status", "limit"] as const) {
      if (values[flag] !== undefined) problems.push(`--${flag} only applies to the list`);
    }
  } else {
    if (positionals.length > 0) {
      problems.push(`unexpected argument ${JSON.stringify(positionals[0])} (did you mean "show"?)`);
    }
    if (values.png !== undefined) problems.push("--png only applies to runs show ID");
    if (values.person !== undefined) {
      if (/^\d{1,20}$/.test(values.person)) telegramId = BigInt(values.person);
      else {
        problems.push(
          `--person must be a numeric Telegram user id, got ${JSON.stringify(values.person)}`,
        );
      }
    }
    if (values.status !== undefined) {
      check(() => (status = choice(values.status, "--status", RUN_STATUSES, "succeeded")));
    }
    if (values.limit !== undefined) check(() => (limit = positiveInteger(values.limit, "--limit")));
  }
  if (problems.length > 0) {
    err(`${problems.join("\n")}\n\n${USAGE}`);
    return USAGE_ERROR;
  }

  const db = await (deps.openDatabase ?? (async () => openDatabase(loadConfig())))();
  try {
    const appDeps = { db, now: () => new Date() };
    if (!show) {
      const runs = await listRuns(appDeps, { telegramId, status, limit });
      if (values.json) out(json(runs));
      else out(runs.length === 0 ? "no training runs" : table(runs));
      return 0;
    }
    const found = await runDetails(appDeps, runId!);
    if (found.kind === "not-found") {
      err(`no training run #${runId}`);
      return 1;
    }
    let pngWritten: string | null = null;
    if (values.png !== undefined) {
      const png = await runCurvesChart({}, found.run);
      if (png === null) err(`run #${runId} recorded no metrics: no chart written`);
      else {
        await writeFile(values.png, png);
        pngWritten = values.png;
      }
    }
    if (values.json) out(json({ ...found.run, png: pngWritten }));
    else {
      out(showText(found.run));
      if (pngWritten) out(`\ncurves written to ${pngWritten}`);
    }
    return values.png !== undefined && pngWritten === null ? 1 : 0;
  } finally {
    if (deps.closeDatabase !== false) await db.close();
  }
}
