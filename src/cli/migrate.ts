// `coachrl migrate [--status] [--resolve-rolled-back NAME]`
import { loadConfig } from "../config.js";
import { openDatabase } from "../db/client.js";
import { migrate, migrationStatus, resolveRolledBack } from "../db/migrate.js";

export async function run(argv: string[]): Promise<number> {
  const config = loadConfig();
  const db = await openDatabase(config);
  try {
    return await db.withSession(async (session) => {
      if (argv.includes("--status")) {
        const status = await migrationStatus(session);
        for (const name of status.applied) console.log(`applied  ${name}`);
        for (const name of status.pending) console.log(`pending  ${name}`);
        for (const problem of status.problems) console.error(`problem  ${problem}`);
        return status.problems.length > 0 || status.pending.length > 0 ? 1 : 0;
      }
      const resolveIndex = argv.indexOf("--resolve-rolled-back");
      if (resolveIndex >= 0) {
        const name = argv[resolveIndex + 1];
        if (!name) {
          console.error("--resolve-rolled-back needs the migration's folder name");
          return 2;
        }
        const changed = await resolveRolledBack(session, name);
        console.log(
          changed ? `marked ${name} as rolled back` : `no failed migration named ${name}`,
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
