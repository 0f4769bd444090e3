// Each test file gets its own fresh database: a new Postgres database on TEST_DATABASE_URL's
// server when that is set, an in-memory PGlite otherwise. Migrations are applied unless asked not to.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { type Database, openPglite, openPostgres } from "../../src/db/client.js";
import { migrate, readMigrations } from "../../src/db/migrate.js";

export interface TestDatabase {
  db: Database;
  /** The connection string of the fresh database (Postgres only). */
  url: string | undefined;
  dispose(): Promise<void>;
}

const pgliteVersion: string = JSON.parse(
  readFileSync(
    new URL("../../node_modules/@electric-sql/pglite/package.json", import.meta.url),
    "utf8",
  ),
).version;

export const testDatabaseUrl = process.env.TEST_DATABASE_URL;
export const onRealPostgres = testDatabaseUrl !== undefined && testDatabaseUrl !== "";

/** Creates an empty Postgres database and returns its URL and a function that drops it. */
export async function createEmptyPostgresDatabase(
  serverUrl: string | undefined = testDatabaseUrl,
): Promise<{ url: string; drop(): Promise<void> }> {
  if (!serverUrl) throw new Error("TEST_DATABASE_URL is not set");
  const name = `coachrl_t_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}

export async function createTestDatabase(
  options: {
    migrate?: boolean;
    poolSize?: number;
    /** Postgres server to create the database on (default TEST_DATABASE_URL); null = PGlite. */
    postgresUrl?: string | null;
  } = {},
): Promise<TestDatabase> {
  const serverUrl = options.postgresUrl === undefined ? testDatabaseUrl : options.postgresUrl;
  if (serverUrl) {
    const empty = await createEmptyPostgresDatabase(serverUrl);
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
  if (options.migrate === false) {
    const db = await openPglite(undefined);
    return { db, url: undefined, dispose: () => db.close() };
  }
  const db = await openPglite(undefined, { loadDataDir: await migratedTemplate() });
  // the template is current, so this only verifies checksums
  await db.withSession((s) => migrate(s));
  return { db, url: undefined, dispose: () => db.close() };
}

/**
 * A migrated PGlite data directory, built once per set of migrations and cached in the OS temp
 * folder: starting PGlite from it takes about a second instead of a full initdb.
 */
async function migratedTemplate(): Promise<Blob> {
  const key = createHash("sha256")
    .update(
      readMigrations()
        .map((m) => `${m.name}:${m.checksum}`)
        .join("\n"),
    )
    .update(pgliteVersion)
    .digest("hex")
    .slice(0, 16);
  const file = join(tmpdir(), `coachrl-pglite-template-${key}.tar`);
  if (existsSync(file)) return new Blob([readFileSync(file)]);
  const fresh = new PGlite();
  await fresh.waitReady;
  await migrate({
    query: async (sql, params) => (await fresh.query(sql, params)).rows as never,
    exec: async (sql) => {
      await fresh.exec(sql);
    },
  });
  const dump = await fresh.dumpDataDir("none");
  await fresh.close();
  const partial = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
  writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
  renameSync(partial, file);
  return dump;
}
