// Everything stored about one person (loadPersonData, shared with the Sheets mirror), as CSV
// tables in a ZIP (the /export command). One file per table, every column, retracted entries
// included. Policy weights are binary and are listed by size only. Cells are RFC 4180 quoted; text that a spreadsheet would run as a formula
// (=, +, -, @ at the start) is prefixed with an apostrophe.
import { strToU8, zipSync } from "fflate";
import type { Database } from "./client.js";
import { loadPersonData } from "./person-data.js";

export type CsvCell = string | number | bigint | boolean | Date | null | undefined | object;

function isPlainDate(value: Date): boolean {
  // @db.Date columns come back as UTC midnight
  return (
    value.getUTCHours() === 0 &&
    value.getUTCMinutes() === 0 &&
    value.getUTCSeconds() === 0 &&
    value.getUTCMilliseconds() === 0
  );
}

function cellText(value: CsvCell, dateOnly: boolean): string {
  if (value === null || value === undefined) return "";
  if (value instanceof Date) {
    return dateOnly && isPlainDate(value) ? value.toISOString().slice(0, 10) : value.toISOString();
  }
  if (typeof value === "string") return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") {
    return String(value);
  }
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
}

function quote(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * CSV text of rows (header = `columns`, or the keys of the first row). `dateColumns` are
 * calendar dates written as YYYY-MM-DD.
 */
export function toCsv(
  rows: Record<string, CsvCell>[],
  columns?: string[],
  dateColumns: readonly string[] = [],
): string {
  const header = columns ?? (rows.length > 0 ? Object.keys(rows[0]) : []);
  const lines = [header.map(quote).join(",")];
  for (const row of rows) {
    lines.push(header.map((c) => quote(cellText(row[c], dateColumns.includes(c)))).join(","));
  }
  return `${lines.join("\r\n")}\r\n`;
}

export interface ExportTable {
  file: string;
  rows: number;
}

export interface PersonExport {
  zip: Uint8Array;
  tables: ExportTable[];
}

/** Column lists per table, so an empty table still has its header. */
const COLUMNS = {
  user: [
    "id",
    "telegramId",
    "chatId",
    "displayName",
    "timezone",
    "planTime",
    "dayStartHour",
    "isAdmin",
    "onboardedAt",
    "sheetId",
    "ingestTokenHash",
    "capacityMinutes",
    "createdAt",
    "updatedAt",
  ],
  habits: [
    "id",
    "name",
    "nameKey",
    "aliases",
    "kind",
    "unit",
    "target",
    "daysPerWeek",
    "levels",
    "exclusiveGroup",
    "actorGroup",
    "sortOrder",
    "archivedAt",
    "createdAt",
    "updatedAt",
  ],
  entries: [
    "id",
    "habitId",
    "habitName",
    "day",
    "amount",
    "source",
    "idempotencyKey",
    "note",
    "createdAt",
    "retractedAt",
  ],
  metrics: ["id", "name", "nameKey", "unit", "target", "tolerance", "direction", "createdAt"],
  samples: ["id", "metricId", "metricName", "value", "measuredAt", "source", "createdAt"],
  plans: [
    "id",
    "day",
    "items",
    "logProb",
    "producedBy",
    "modelId",
    "sentAt",
    "messageId",
    "createdAt",
  ],
  planRevisions: [
    "id",
    "planId",
    "day",
    "habitId",
    "habitName",
    "change",
    "fromAmount",
    "toAmount",
    "changedBy",
    "via",
    "idempotencyKey",
    "createdAt",
  ],
  trainingRuns: [
    "id",
    "trigger",
    "status",
    "requestedBy",
    "hyperparameters",
    "summary",
    "error",
    "startedAt",
    "finishedAt",
    "createdAt",
  ],
  trainingMetrics: ["id", "runId", "step", "name", "value", "createdAt"],
  policyModels: [
    "id",
    "bytes",
    "formatVersion",
    "spec",
    "hyperparameters",
    "evaluation",
    "active",
    "trainingRunId",
    "createdAt",
  ],
  outboxEvents: [
    "id",
    "kind",
    "payload",
    "attempts",
    "nextAttemptAt",
    "doneAt",
    "lastError",
    "createdAt",
  ],
} as const;

const README = `CoachRL export
==============
Everything CoachRL stores about you, one CSV file per table (UTF-8, comma-separated, RFC 4180).
Times are UTC (ISO 8601); "day" columns are calendar dates in your time zone.

user.csv            your account and settings (the ingest token is stored only as a hash)
habits.csv          your habits, archived ones included
entries.csv         every report you made, including retracted (undone) ones
metrics.csv         tracked measurements (e.g. weight) and their goals
samples.csv         the measurement samples
plans.csv           the daily plans the coach made for you
plan_revisions.csv  your changes to those plans (not today, another amount, a swap): who, when, from, to
training_runs.csv   training runs of your personal policy
training_metrics.csv their progress metrics
policy_models.csv   your trained policies (weights listed by size only)
outbox_events.csv   Google Sheets mirror syncs: pending and recent, attempts, last error

Text cells that start with = + - or @ are prefixed with ' so spreadsheets don't run them.
`;

/** Builds the ZIP of everything stored about user `userId`; null when there is no such user. */
export async function exportPerson(
  db: Database,
  userId: number,
  exportedAt: Date,
): Promise<PersonExport | null> {
  const person = await loadPersonData(db, userId);
  if (person === null) return null;
  const { user, habits, entries, metrics, samples, plans, trainingMetrics } = person;
  const habitName = new Map(habits.map((h) => [h.id, h.name]));
  const metricName = new Map(metrics.map((m) => [m.id, m.name]));
  const planDay = new Map(plans.map((p) => [p.id, p.day]));

  const tables: [string, Record<string, CsvCell>[], readonly string[], readonly string[]][] = [
    ["user.csv", [user], COLUMNS.user, []],
    ["habits.csv", habits, COLUMNS.habits, []],
    [
      "entries.csv",
      entries.map((e) => ({ ...e, habitName: habitName.get(e.habitId) ?? "" })),
      COLUMNS.entries,
      ["day"],
    ],
    ["metrics.csv", metrics, COLUMNS.metrics, []],
    [
      "samples.csv",
      samples.map((s) => ({ ...s, metricName: metricName.get(s.metricId) ?? "" })),
      COLUMNS.samples,
      [],
    ],
    ["plans.csv", plans, COLUMNS.plans, ["day"]],
    [
      "plan_revisions.csv",
      person.planRevisions.map((r) => ({
        ...r,
        day: planDay.get(r.planId) ?? null,
        habitName: habitName.get(r.habitId) ?? "",
      })),
      COLUMNS.planRevisions,
      ["day"],
    ],
    ["training_runs.csv", person.trainingRuns, COLUMNS.trainingRuns, []],
    ["training_metrics.csv", trainingMetrics, COLUMNS.trainingMetrics, []],
    ["policy_models.csv", person.policyModels, COLUMNS.policyModels, []],
    ["outbox_events.csv", person.outboxEvents, COLUMNS.outboxEvents, []],
  ];
  const mtime = exportedAt;
  const files: Record<string, [Uint8Array, { mtime: Date }]> = {
    "README.txt": [strToU8(README), { mtime }],
  };
  for (const [file, rows, columns, dateColumns] of tables) {
    files[file] = [strToU8(toCsv(rows, [...columns], dateColumns)), { mtime }];
  }
  return {
    zip: zipSync(files, { level: 6 }),
    tables: tables.map(([file, rows]) => ({ file, rows: rows.length })),
  };
}
