import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPglite, openPostgres } from "../../src/db/client.js";
import {
  checksumOf,
  type MigrationFile,
  migrate,
  migrationStatus,
  readMigrations,
  resolveRolledBack,
} from "../../src/db/migrate.js";
import type { SqlSession } from "../../src/db/sql.js";
import { createEmptyPostgresDatabase, onRealPostgres } from "../support/database.js";

const files = readMigrations();

async function appliedRecords(session: SqlSession) {
  return session.query<{
    migration_name: string;
    checksum: string;
    finished_at: Date | null;
    applied_steps_count: number;
  }>(
    `SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name`,
  );
}

describe("migration files", () => {
  it("are in Prisma's layout with lowercase hex SHA-256 checksums", () => {
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      expect(file.name).toMatch(/^\d{14}_[a-z0-9_]+$/);
      expect(file.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(file.checksum).toBe(checksumOf(file.sql));
    }
  });
});

describe("migration runner on PGlite", () => {
  it("applies from empty, then a second run is a no-op", async () => {
    const db = await openPglite(undefined);
    try {
      const first = await db.withSession((s) => migrate(s));
      expect(first.applied).toEqual(files.map((f) => f.name));
      const second = await db.withSession((s) => migrate(s));
      expect(second.applied).toEqual([]);
      expect(second.alreadyApplied).toEqual(files.map((f) => f.name));
      const rows = await db.withSession(appliedRecords);
      expect(rows.map((r) => r.migration_name)).toEqual(files.map((f) => f.name));
      expect(rows.every((r) => r.finished_at !== null && r.applied_steps_count === 1)).toBe(true);
      expect(rows.map((r) => r.checksum)).toEqual(files.map((f) => f.checksum));
      const status = await db.withSession((s) => migrationStatus(s));
      expect(status).toEqual({ applied: files.map((f) => f.name), pending: [], problems: [] });
    } finally {
      await db.close();
    }
  });

  it("refuses to start when an applied migration's file has changed, naming it", async () => {
    const db = await openPglite(undefined);
    try {
      await db.withSession((s) => migrate(s));
      const tampered: MigrationFile[] = files.map((f, i) =>
        i === 0
          ? { ...f, sql: `${f.sql}\n-- edited`, checksum: checksumOf(`${f.sql}\n-- edited`) }
          : f,
      );
      await expect(db.withSession((s) => migrate(s, { migrations: tampered }))).rejects.toThrow(
        new RegExp(`Migration ${files[0]!.name} was changed after it was applied`),
      );
    } finally {
      await db.close();
    }
  });

  it("rolls back a failing migration, records it, and refuses to continue until resolved", async () => {
    const db = await openPglite(undefined);
    try {
      await db.withSession((s) => migrate(s));
      const broken: MigrationFile = {
        name: "29990101000000_broken",
        sql: 'CREATE TABLE "half_done" (id int);\nSELECT no_such_function();',
        checksum: checksumOf("x"),
      };
      await expect(
        db.withSession((s) => migrate(s, { migrations: [...files, broken] })),
      ).rejects.toThrow(/Migration 29990101000000_broken failed and was rolled back/);
      // nothing half-applied
      const tables = await db.withSession((s) =>
        s.query<{ present: boolean }>(`SELECT to_regclass('"half_done"') IS NOT NULL AS present`),
      );
      expect(tables[0]!.present).toBe(false);
      // the next start refuses, naming the failed migration
      await expect(
        db.withSession((s) => migrate(s, { migrations: [...files, broken] })),
      ).rejects.toThrow(/Migration 29990101000000_broken failed and was not applied/);
      // after resolving and fixing, it applies
      expect(await db.withSession((s) => resolveRolledBack(s, broken.name))).toBe(true);
      const fixed = {
        ...broken,
        sql: 'CREATE TABLE "half_done" (id int);',
        checksum: checksumOf("y"),
      };
      const result = await db.withSession((s) => migrate(s, { migrations: [...files, fixed] }));
      expect(result.applied).toEqual([broken.name]);
    } finally {
      await db.close();
    }
  });
});

describe.skipIf(!onRealPostgres)("migration runner on real Postgres", () => {
  let empty: Awaited<ReturnType<typeof createEmptyPostgresDatabase>>;
  beforeAll(async () => {
    empty = await createEmptyPostgresDatabase();
  });
  afterAll(() => empty.drop());

  it("two runners started at once apply each migration exactly once", async () => {
    const a = openPostgres({ url: empty.url, poolSize: 2, acquireTimeoutMs: 5000 });
    const b = openPostgres({ url: empty.url, poolSize: 2, acquireTimeoutMs: 5000 });
    try {
      const [ra, rb] = await Promise.all([
        a.withSession((s) => migrate(s)),
        b.withSession((s) => migrate(s)),
      ]);
      const appliedByEither = [...ra.applied, ...rb.applied].sort();
      expect(appliedByEither).toEqual(files.map((f) => f.name));
      const rows = await a.withSession(appliedRecords);
      expect(rows.map((r) => r.migration_name)).toEqual(files.map((f) => f.name));
    } finally {
      await a.close();
      await b.close();
    }
  });
});
