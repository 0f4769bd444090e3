// `coachrl seed --people N --persona FILE [--days D] [--seed S] [--json]`
// Fills the database with simulated people acting like a persona (src/app/simulated-people.ts).
import { isAbsolute, relative } from "node:path";
import {
  DEFAULT_SIMULATED_DAYS,
  type SeedSummary,
  SIMULATED_TELEGRAM_ID_BASE,
  seedSimulatedPeople,
} from "../app/simulated-people.js";
import { configSecrets, loadConfig } from "../config.js";
import { openDatabase } from "../db/client.js";
import { migrate } from "../db/migrate.js";
import { createLogger } from "../logger.js";
import { loadPersonaFile } from "../rl/persona.js";
import { positiveInteger, runCommand, USAGE_ERROR } from "./args.js";

const USAGE = `Usage: coachrl seed --people N --persona FILE [options]

Creates N simulated people with the persona's habits and D days of plans and reports, made by
the same functions the bot uses; what each person does is drawn from the persona's behaviour
model. Afterwards the nightly retrain fits their behaviour (14 or more planned days).

Seeded people get Telegram ids from ${SIMULATED_TELEGRAM_ID_BASE} (2^53) up, which no real
account can have; they are never onboarded, so the morning plan push skips them. Running the
command again with the same persona, seed and --days stores nothing twice. Migrations are
applied first.

Options:
  --people N      how many people (required)
  --persona FILE  a persona file, e.g. personas/steady.json (required)
  --days D        days of history, ending the day before each person was created (default ${DEFAULT_SIMULATED_DAYS})
  --seed S        which family of simulated people (default 1)
  --json          print the summary as JSON on stdout

With the embedded database (no DATABASE_URL), stop the bot first: only one process
can open it.`;

const OPTIONS = {
  people: { type: "string" },
  persona: { type: "string" },
  days: { type: "string" },
  seed: { type: "string" },
  json: { type: "boolean", default: false },
} as const;

function summaryJson(summary: SeedSummary) {
  return {
    ...summary,
    people: summary.people.map((p) => ({ ...p, telegramId: p.telegramId.toString() })),
  };
}

export async function run(argv: string[]): Promise<number> {
  return runCommand(argv, USAGE, OPTIONS, async (values) => {
    const problems: string[] = [];
    const check = <T>(read: () => T): T | undefined => {
      try {
        return read();
      } catch (error) {
        problems.push((error as Error).message);
        return undefined;
      }
    };
    if (values.people === undefined) problems.push("--people is required");
    if (values.persona === undefined) problems.push("--persona is required");
    const people =
      values.people === undefined
        ? undefined
        : check(() => positiveInteger(values.people, "--people"));
    const days =
      values.days === undefined ? undefined : check(() => positiveInteger(values.days, "--days"));
    const seed =
      values.seed === undefined
        ? undefined
        : check(() => positiveInteger(values.seed, "--seed", true));
    if (problems.length > 0) {
      console.error(`${problems.join("\n")}\n\n${USAGE}`);
      return USAGE_ERROR;
    }
    const persona = await loadPersonaFile(values.persona!);
    const config = loadConfig();
    const log = createLogger({
      level: "warn",
      pretty: false,
      secrets: configSecrets(config),
      destination: process.stderr,
    });
    const db = await openDatabase(config);
    try {
      await db.withSession((session) => migrate(session));
      const summary = await seedSimulatedPeople(
        { config, db, log, now: () => new Date() },
        persona,
        { people: people!, days, seed },
        (person) => {
          if (values.json) return;
          const unreported = Object.entries(person.unreported);
          console.log(
            `${person.created ? "created" : "existing"} ${person.displayName} (telegram id ${person.telegramId}): ${person.firstDay} … ${person.lastDay}, ${person.entriesStored} new entries${unreported.length > 0 ? `; the parser could not read ${unreported.map(([name, n]) => `"${name}" ×${n}`).join(", ")}` : ""}`,
          );
        },
      );
      if (values.json) console.log(JSON.stringify(summaryJson(summary)));
      else {
        const file = isAbsolute(values.persona!)
          ? relative(process.cwd(), values.persona!)
          : values.persona;
        console.log(
          `${summary.people.length} simulated people of ${file} (seed ${summary.seed}, ${summary.days} days): ${summary.created} created, ${summary.entriesStored} new entries`,
        );
      }
      return 0;
    } finally {
      await db.close();
    }
  });
}
