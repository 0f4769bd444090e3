// Applies prisma/migrations/<name>/migration.sql in name order, compatible with
// `prisma migrate deploy` / `prisma migrate status`: same _prisma_migrations table, same
// checksum (lowercase hex SHA-256 of the file), same advisory lock (72707369). Unlike Prisma,
// each migration and its record commit in one transaction, so a failure leaves no half-applied
// schema; the failure is still recorded (finished_at NULL) so that no runner continues past it.
import { createHash, randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SqlSession } from "./sql.js";

export const MIGRATION_LOCK_ID = 72707369;

export const DEFAULT_MIGRATIONS_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "prisma",
  "migrations",
);

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MigrationError";
  }
}

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  applied_steps_count: number;
}

export interface MigrationLog {
  info(obj: object, msg: string): void;
}

export function checksumOf(sql: string): string {
  return createHash("sha256").update(sql).digest("hex");
}

/** The migration folders in name order (Prisma's layout). */
export function readMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): MigrationFile[] {
  if (!existsSync(dir)) throw new MigrationError(`Migrations folder not found: ${dir}`);
  return readdirSync(dir)
    .filter((name) => statSync(join(dir, name)).isDirectory())
    .sort()
    .map((name) => {
      const file = join(dir, name, "migration.sql");
      if (!existsSync(file)) {
        throw new MigrationError(`Migration ${name} has no migration.sql`);
      }
      const sql = readFileSync(file, "utf8");
      return { name, sql, checksum: checksumOf(sql) };
    });
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

async function appliedRows(session: SqlSession): Promise<MigrationRow[]> {
  return session.query<MigrationRow>(
    `SELECT id, checksum, finished_at, migration_name, logs, rolled_back_at, applied_steps_count
       FROM "_prisma_migrations" ORDER BY started_at, migration_name`,
  );
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
  problems: string[];
}

/** Compares the files with the database; never writes. */
export async function migrationStatus(
  session: SqlSession,
  migrations: MigrationFile[] = readMigrations(),
): Promise<MigrationStatus> {
  const exists = await session.query<{ present: boolean }>(
    `SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS present`,
  );
  const rows = exists[0]?.present ? await appliedRows(session) : [];
  return compare(migrations, rows);
}

function compare(migrations: MigrationFile[], rows: MigrationRow[]): MigrationStatus {
  const problems: string[] = [];
  const live = rows.filter((row) => row.rolled_back_at === null);
  for (const row of live) {
    if (row.finished_at === null) {
      problems.push(
        `Migration ${row.migration_name} failed and was not applied` +
          (row.logs ? ` (${firstLine(row.logs)})` : "") +
          `. Fix it, then mark it rolled back: npx coachrl migrate --resolve-rolled-back ${row.migration_name}`,
      );
    }
  }
  const byName = new Map(migrations.map((m) => [m.name, m]));
  const applied: string[] = [];
  for (const row of live) {
    if (row.finished_at === null) continue;
    const file = byName.get(row.migration_name);
    if (file === undefined) {
      problems.push(
        `The database has migration ${row.migration_name}, which this version of CoachRL does not know (was a newer version deployed?)`,
      );
      continue;
    }
    if (file.checksum !== row.checksum) {
      problems.push(
        `Migration ${row.migration_name} was changed after it was applied (checksum ${file.checksum.slice(0, 12)}… ≠ applied ${row.checksum.slice(0, 12)}…). Restore the original file and add a new migration instead.`,
      );
    }
    applied.push(row.migration_name);
  }
  const appliedSet = new Set(applied);
  const failedSet = new Set(
    live.filter((r) => r.finished_at === null).map((r) => r.migration_name),
  );
  const pending = migrations
    .map((m) => m.name)
    .filter((name) => !appliedSet.has(name) && !failedSet.has(name));
  return { applied, pending, problems };
}

function firstLine(text: string): string {
  const line = text.split("\n")[0] ?? "";
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
}

/**
 * Applies every pending migration under the advisory lock. Refuses (MigrationError naming the
 * migration) when an applied file changed, a previous migration failed, or the database is ahead.
 */
export async function migrate(
  session: SqlSession,
  options: { migrations?: MigrationFile[]; log?: MigrationLog } = {},
): Promise<MigrateResult> {
  const migrations = options.migrations ?? readMigrations();
  await session.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_ID]);
  try {
    await session.exec(CREATE_TABLE);
    const status = compare(migrations, await appliedRows(session));
    if (status.problems.length > 0) {
      throw new MigrationError(`Refusing to migrate:\n  - ${status.problems.join("\n  - ")}`);
    }
    const applied: string[] = [];
    for (const name of status.pending) {
      const migration = migrations.find((m) => m.name === name)!;
      await applyOne(session, migration);
      options.log?.info({ migration: name }, "applied migration");
      applied.push(name);
    }
    return { applied, alreadyApplied: status.applied };
  } finally {
    await session.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_ID]);
  }
}

async function applyOne(session: SqlSession, migration: MigrationFile): Promise<void> {
  const id = randomUUID();
  await session.exec("BEGIN");
  try {
    await session.exec(migration.sql);
    await session.query(
      `INSERT INTO "_prisma_migrations"
         (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
       VALUES ($1, $2, now(), $3, NULL, NULL, now(), 1)`,
      [id, migration.checksum, migration.name],
    );
    await session.exec("COMMIT");
  } catch (error) {
    await session.exec("ROLLBACK");
    const message = error instanceof Error ? error.message : String(error);
    // Record the failure the way Prisma does, so neither runner continues past it.
    await session.query(
      `INSERT INTO "_prisma_migrations"
         (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
       VALUES ($1, $2, NULL, $3, $4, NULL, now(), 0)`,
      [id, migration.checksum, migration.name, message],
    );
    throw new MigrationError(
      `Migration ${migration.name} failed and was rolled back: ${message}. Fix it, then run: npx coachrl migrate --resolve-rolled-back ${migration.name}`,
    );
  }
}

/** Marks a failed migration as rolled back (like `prisma migrate resolve --rolled-back`). */
export async function resolveRolledBack(session: SqlSession, name: string): Promise<boolean> {
  const rows = await session.query<{ id: string }>(
    `UPDATE "_prisma_migrations" SET rolled_back_at = now()
      WHERE migration_name = $1 AND finished_at IS NULL AND rolled_back_at IS NULL RETURNING id`,
    [name],
  );
  return rows.length > 0;
}
