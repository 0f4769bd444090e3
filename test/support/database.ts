// Each test file gets its own fresh database: a new Postgres database on TEST_DATABASE_URL's
// server when that is set, an in-memory PGlite otherwise. Migrations are applied unless asked not to.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { type Database, openPglite, openPostgres } from "../../src/db/client.js";
import { migrate } from "../../src/db/migrate.js";

export interface TestDatabase {
  db: Database;
  /** The connection string of the fresh database (Postgres only). */
  url: string | undefined;
  dispose(): Promise<void>;
}

export const testDatabaseUrl = process.env.TEST_DATABASE_URL;
export const onRealPostgres = testDatabaseUrl !== undefined && testDatabaseUrl !== "";

/** Creates an empty Postgres database and returns its URL and a function that drops it. */
export async function createEmptyPostgresDatabase(): Promise<{
  url: string;
  drop(): Promise<void>;
}> {
  if (!onRealPostgres) throw new Error("TEST_DATABASE_URL is not set");
  const name = `coachrl_t_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: testDatabaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(testDatabaseUrl!);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: testDatabaseUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}

export async function createTestDatabase(
  options: { migrate?: boolean; poolSize?: number } = {},
): Promise<TestDatabase> {
  if (onRealPostgres) {
    const empty = await createEmptyPostgresDatabase();
    const db = openPostgres({
      url: empty.url,
      poolSize: options.poolSize ?? 5,
      acquireTimeoutMs: 10_000,
    });
    if (options.migrate !== false) await db.withSession((s) => migrate(s));
    return {
      db,
      url: empty.url,
      async dispose() {
        await db.close();
        await empty.drop();
      },
    };
  }
  const db = await openPglite(undefined);
  if (options.migrate !== false) await db.withSession((s) => migrate(s));
  return { db, url: undefined, dispose: () => db.close() };
}
