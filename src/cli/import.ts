// `coachrl import --telegram-id N FILE [--format csv|xml|zip|json] [--dry-run]`
// Imports body weights from a smart-scale CSV or an Apple Health export (export.xml or
// export.zip) into a person's "weight" metric, for people without the HTTP endpoint. The file
// is read as a stream; samples already stored are counted, not stored again.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { personByTelegramId } from "../app/people.js";
import { importWeights } from "../app/weight.js";
import { loadConfig } from "../config.js";
import { type Database, openDatabase } from "../db/client.js";
import { UPLOAD_FORMATS, type UploadFormat } from "../ingest/upload.js";
import { choice, parseCommandLine, USAGE_ERROR } from "./args.js";

const USAGE = `Usage: coachrl import --telegram-id N FILE [options]

Imports body weights into the person's "weight" metric (the one /weight uses):
a smart-scale CSV export, or Apple Health's export.zip / export.xml.
Samples already stored (same instant) are skipped, so importing a file twice is harmless.
Times without a UTC offset are read in the person's time zone.

Options:
  --telegram-id N   the person's Telegram user id (they must have sent /start)   (required)
  --format F        csv | xml | zip | json (default: from the file name and content)
  --dry-run         parse and report, store nothing
  --json            print the summary as JSON on stdout

With the embedded database (no DATABASE_URL), stop the bot first: only one process
can open it.`;

const OPTIONS = {
  "telegram-id": { type: "string" },
  format: { type: "string" },
  "dry-run": { type: "boolean", default: false },
  json: { type: "boolean", default: false },
} as const;

export interface ImportDeps {
  /** Opens the database (default: from the environment, like `coachrl migrate`). */
  openDatabase?: () => Promise<Database>;
  /** Whether run() closes the database it opened (default true). */
  closeDatabase?: boolean;
  now?: () => Date;
  out?: (line: string) => void;
  err?: (line: string) => void;
}

export async function run(argv: string[], deps: ImportDeps = {}): Promise<number> {
  const out = deps.out ?? ((line: string) => console.log(line));
  const err = deps.err ?? ((line: string) => console.error(line));
  const commandLine = parseCommandLine(argv, USAGE, OPTIONS, { positionals: true, out, err });
  if (typeof commandLine === "number") return commandLine;
  const { values, positionals } = commandLine;
  const idText = values["telegram-id"];
  const problems: string[] = [];
  if (idText === undefined) problems.push("--telegram-id is required");
  else if (!/^\d{1,20}$/.test(idText)) {
    problems.push(
      `--telegram-id must be a numeric Telegram user id, got ${JSON.stringify(idText)}`,
    );
  }
  if (positionals.length !== 1) {
    problems.push(positionals.length === 0 ? "FILE is required" : "give exactly one FILE");
  }
  let format: UploadFormat | undefined;
  try {
    format =
      values.format === undefined
        ? undefined
        : choice<UploadFormat>(values.format, "--format", UPLOAD_FORMATS, "csv");
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (problems.length > 0) {
    err(`${problems.join("\n")}\n\n${USAGE}`);
    return USAGE_ERROR;
  }
  const file = positionals[0];
  try {
    if (!(await stat(file)).isFile()) {
      err(`${file} is not a file`);
      return 1;
    }
  } catch {
    err(`cannot read ${file}: no such file`);
    return 1;
  }

  const db = await (deps.openDatabase ?? (async () => openDatabase(loadConfig())))();
  try {
    const user = await personByTelegramId({ db }, BigInt(idText!));
    if (user === null) {
      err(`No person with Telegram id ${idText}: they need to send /start to the bot first.`);
      return 1;
    }
    const outcome = await importWeights(
      { db, now: deps.now ?? (() => new Date()) },
      user,
      createReadStream(file, { highWaterMark: 1 << 20 }),
      {
        source: "import",
        dryRun: values["dry-run"],
        ...(format === undefined ? {} : { format }),
        fileName: basename(file),
      },
    );
    for (const problem of outcome.problems) err(`${file}: ${problem}`);
    if (outcome.kind === "nothing") {
      err(`${file}: no weights to import`);
      if (values.json) {
        out(JSON.stringify({ stored: 0, duplicates: 0, problems: outcome.problems }));
      }
      return 1;
    }
    const summary = {
      format: outcome.format,
      read: outcome.read,
      stored: outcome.stored,
      duplicates: outcome.duplicates,
      problems: outcome.problems,
      dryRun: values["dry-run"],
    };
    if (values.json) out(JSON.stringify(summary));
    else {
      const span = `${outcome.first.toISOString()} … ${outcome.last.toISOString()}`;
      out(
        outcome.kind === "dry-run"
          ? `dry run: ${summary.read} weights read (${span}), nothing stored`
          : `imported ${summary.stored} new weights, ${summary.duplicates} already stored (${span})${outcome.problems.length > 0 ? `; ${outcome.problems.length} problem line(s) above` : ""}`,
      );
    }
    return 0;
  } finally {
    if (deps.closeDatabase !== false) await db.close();
  }
}
