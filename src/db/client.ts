// Creates the Prisma client on one of two drivers: node-postgres (a bounded pool with an
// acquire timeout) when DATABASE_URL is set, embedded PGlite under DATA_DIR otherwise.
// PGlite has a single connection and ignores isolation levels: fine for one person on a laptop.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaClient } from "../generated/prisma/client.js";
import type { SqlSession } from "./sql.js";

export type { PrismaClient } from "../generated/prisma/client.js";

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

export interface Database {
  readonly kind: "postgres" | "pglite";
  readonly prisma: PrismaClient;
  /** Runs fn on one dedicated connection (session-level locks stay on it). */
  withSession<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
  poolStats(): PoolStats;
  close(): Promise<void>;
}

export interface PostgresOptions {
  url: string;
  poolSize: number;
  acquireTimeoutMs: number;
}

function pgSession(client: pg.ClientBase): SqlSession {
  return {
    async query<Row>(sql: string, params: unknown[] = []) {
      const result = await client.query(sql, params);
      return result.rows as Row[];
    },
    async exec(sql: string) {
      await client.query(sql);
    },
  };
}

export function openPostgres(options: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    connectionTimeoutMillis: options.acquireTimeoutMs,
    idleTimeoutMillis: 30_000,
  });
  // A dropped idle connection must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    kind: "postgres",
    prisma,
    async withSession(fn) {
      const client = await pool.connect();
      try {
        return await fn(pgSession(client));
      } finally {
        client.release();
      }
    },
    poolStats() {
      return {
        total: pool.totalCount,
        idle: pool.idleCount,
        waiting: pool.waitingCount,
        max: options.poolSize,
      };
    },
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

function pgliteSession(db: PGlite): SqlSession {
  return {
    async query<Row>(sql: string, params: unknown[] = []) {
      const result = await db.query(sql, params);
      return result.rows as Row[];
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
  };
}

/**
 * Embedded PGlite; dataDir undefined → in memory (tests). `loadDataDir` starts from a dumped
 * data directory (tests use a migrated template).
 */
export async function openPglite(
  dataDir: string | undefined,
  options: { loadDataDir?: Blob } = {},
): Promise<Database> {
  let dir: string | undefined;
  if (dataDir !== undefined) {
    dir = join(dataDir, "pgdata");
    mkdirSync(dir, { recursive: true });
  }
  const db = new PGlite({ dataDir: dir, loadDataDir: options.loadDataDir });
  await db.waitReady;
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) });
  let closed = false;
  return {
    kind: "pglite",
    prisma,
    async withSession(fn) {
      return fn(pgliteSession(db));
    },
    poolStats() {
      return { total: 1, idle: 1, waiting: 0, max: 1 };
    },
    async close() {
      if (closed) return;
      closed = true;
      await prisma.$disconnect();
      await db.close();
    },
  };
}

export interface DatabaseConfig {
  databaseUrl: string | undefined;
  databasePoolSize: number;
  databaseAcquireTimeoutMs: number;
  dataDir: string;
}

export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  if (config.databaseUrl !== undefined) {
    return openPostgres({
      url: config.databaseUrl,
      poolSize: config.databasePoolSize,
      acquireTimeoutMs: config.databaseAcquireTimeoutMs,
    });
  }
  return openPglite(config.dataDir);
}
