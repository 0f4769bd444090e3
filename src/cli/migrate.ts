// `coachrl migrate [--status | --resolve-rolled-back NAME]`
import { loadConfig } from "../config.js";
import { openDatabase } from "../db/client.js";
import { migrate, migrationStatus, resolveRolledBack } from "../db/migrate.js";
import { parseCommandLine, USAGE_ERROR } from "./args.js";

const USAGE = `Usage: coachrl migrate [--status | --resolve-rolled-back NAME]

Applies the pending database migrations (prisma/migrations) to DATABASE_URL, or to the embedded
database under DATA_DIR when DATABASE_URL is unset. The bot does the same at start-up.

Options:
  --status                     list applied and pending migrations and problems; change nothing
                               (exit 1 when something is pending or wrong)
  --resolve-rolled-back NAME   mark the failed migration NAME as rolled back (after fixing the
                               database by hand), so that it is applied again

With the embedded database (no DATABASE_URL), stop the bot first: only one process
can open it.`;

const OPTIONS = {
  status: { type: "boolean", default: false },
  "resolve-rolled-back": { type: "string" },
} as const;

export async function run(argv: string[]): Promise<number> {
  const commandLine = parseCommandLine(argv, USAGE, OPTIONS);
  if (typeof commandLine === "number") return commandLine;
  const { status: statusOnly, "resolve-rolled-back": resolveName } = commandLine.values;
  if (statusOnly && resolveName !== undefined) {
    console.error(`Give either --status or --resolve-rolled-back, not both.\n\n${USAGE}`);
    return USAGE_ERROR;
  }
  if (resolveName === "") {
    console.error(`--resolve-rolled-back needs the migration's folder name.\n\n${USAGE}`);
    return USAGE_ERROR;
  }
  const config = loadConfig();
  const db = await openDatabase(config);
  try {
    return await db.withSession(async (session) => {
      if (statusOnly) {
        const status = await migrationStatus(session);
        for (const name of status.applied) console.log(`applied  ${name}`);
        for (const name of status.pending) console.log(`pending  ${name}`);
        for (const problem of status.problems) console.error(`problem  ${problem}`);
        return status.problems.length > 0 || status.pending.length > 0 ? 1 : 0;
      }
      if (resolveName !== undefined) {
        const changed = await resolveRolledBack(session, resolveName);
        console.log(
          changed
            ? `marked ${resolveName} as rolled back`
            : `no failed migration named ${resolveName}`,
        );
        return changed ? 0 : 1;
      }
      const result = await migrate(session);
      console.log(
        result.applied.length === 0
          ? `database is up to date (${result.alreadyApplied.length} migrations)`
          : `applied ${result.applied.length} migration(s): ${result.applied.join(", ")}`,
      );
      return 0;
    });
  } finally {
    await db.close();
  }
}
