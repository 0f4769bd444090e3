// Creates the Prisma client on one of two drivers: node-postgres (a bounded pool with an
// acquire timeout) when DATABASE_URL is set, embedded PGlite under DATA_DIR otherwise.
// PGlite has a single connection and ignores isolation levels: fine for one person on a laptop.
// Every Postgres wait is bounded (src/db/timeouts.ts): connecting, each statement (on the server,
// and on the client when the server cannot answer), idle transactions; TCP keepalive is on.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaClient } from "../generated/prisma/client.js";
import type { SqlSession } from "./sql.js";
import {
  type DatabaseTimeouts,
  DEFAULT_DATABASE_TIMEOUTS,
  KEEPALIVE_INITIAL_DELAY_MS,
  queryTimeoutMs,
} from "./timeouts.js";

export type { PrismaClient } from "../generated/prisma/client.js";
export type { DatabaseTimeouts } from "./timeouts.js";

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

export interface Database {
  readonly kind: "postgres" | "pglite";
  readonly prisma: PrismaClient;
  /**
   * Runs fn on one dedicated connection (session-level locks stay on it). On Postgres it is a
   * connection of its own, outside the pool and without the statement timeout: its user, the
   * migration runner, may wait for another instance's migration lock or rebuild a large index.
   */
  withSession<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
  /**
   * One `SELECT 1` on a connection kept for this alone (never queued behind the pool's requests);
   * rejects when the database does not answer within timeoutMs.
   */
  ping(timeoutMs: number): Promise<void>;
  poolStats(): PoolStats;
  /**
   * Calls `listener` after every statement on the pool's connections (the app's queries, not
   * migrations or health probes) with its duration in seconds and whether it failed; /metrics
   * keeps the histogram. PGlite's statements are not observed.
   */
  observeQueries(listener: QueryListener | undefined): void;
  /**
   * One parameterised statement ($1, $2 …) on the pool without Prisma Client's query building
   * and result mapping, for the few statements every update runs (claiming and finishing it):
   * `pg` directly on Postgres, Prisma's raw query on PGlite (its one connection stays in
   * Prisma's hands). Rows come as the driver gives them; parameters are plain values.
   */
  sql<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

export type QueryListener = (seconds: number, failed: boolean) => void;

export interface PostgresOptions {
  url: string;
  poolSize: number;
  acquireTimeoutMs: number;
  /** unset fields take DEFAULT_DATABASE_TIMEOUTS */
  timeouts?: Partial<DatabaseTimeouts>;
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
  const timeouts: DatabaseTimeouts = { ...DEFAULT_DATABASE_TIMEOUTS, ...options.timeouts };
  // what every connection shares: the connect timeout, keepalive, idle transactions ended
  const connection: pg.ClientConfig = {
    connectionString: options.url,
    connectionTimeoutMillis: timeouts.connectMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
    idle_in_transaction_session_timeout: timeouts.idleInTransactionMs,
  };
  // the pool's connections also bound each statement, on the server and on the client
  const bounded: pg.ClientConfig = {
    ...connection,
    statement_timeout: timeouts.statementMs,
    query_timeout: queryTimeoutMs(timeouts),
  };
  // pg-pool hands its own options to each client, where connectionTimeoutMillis is the time to
  // wait for a free connection (acquire); the clients get the connect timeout instead.
  let queryListener: QueryListener | undefined;
  class PooledClient extends pg.Client {
    constructor() {
      super(bounded);
    }
  }
  // every statement of the pool timed for the listener: the pool's own query() passes a
  // callback, a checked-out connection (transactions) is awaited
  const plainQuery = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  (PooledClient.prototype as unknown as { query: (...args: unknown[]) => unknown }).query =
    function timedQuery(this: pg.Client, ...args: unknown[]) {
      const listener = queryListener;
      if (listener === undefined) return plainQuery.apply(this, args);
      const started = performance.now();
      const done = (failed: boolean) => listener((performance.now() - started) / 1000, failed);
      const callback = args.at(-1);
      if (typeof callback === "function") {
        args[args.length - 1] = (error: unknown, ...rest: unknown[]) => {
          done(error != null);
          return callback(error, ...rest);
        };
        return plainQuery.apply(this, args);
      }
      const result = plainQuery.apply(this, args);
      if (result instanceof Promise) {
        result.then(
          () => done(false),
          () => done(true),
        );
      }
      return result;
    };
  const pool = new pg.Pool({
    Client: PooledClient,
    max: options.poolSize,
    connectionTimeoutMillis: options.acquireTimeoutMs,
    idleTimeoutMillis: 30_000,
  });
  // A dropped idle connection must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  // The health probe's own connection, kept open (no idle timeout) so that a probe is one round
  // trip; a connection that failed a probe is dropped and the next probe opens a new one.
  const probe = new pg.Pool({
    ...connection,
    max: 1,
    connectionTimeoutMillis: timeouts.connectMs,
    idleTimeoutMillis: 0,
    allowExitOnIdle: true,
  });
  probe.on("error", () => {});
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    kind: "postgres",
    prisma,
    async withSession(fn) {
      const client = new pg.Client(connection);
      client.on("error", () => {});
      await client.connect();
      try {
        return await fn(pgSession(client));
      } finally {
        // not awaited: the goodbye waits for the server's, which a partition never delivers
        void client.end().catch(() => {});
      }
    },
    async ping(timeoutMs) {
      await probe.query({ text: "SELECT 1", query_timeout: timeoutMs } as pg.QueryConfig);
    },
    observeQueries(listener) {
      queryListener = listener;
    },
    async sql<Row>(text: string, params: unknown[] = []) {
      return (await pool.query(text, params)).rows as Row[];
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
      await Promise.all([pool.end(), probe.end()]);
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
    async ping() {
      // one connection in the same process: no network to lose, nothing to queue behind but
      // PGlite's own work (the health check's deadline still bounds the wait)
      await db.query("SELECT 1");
    },
    poolStats() {
      return { total: 1, idle: 1, waiting: 0, max: 1 };
    },
    observeQueries() {},
    async sql<Row>(text: string, params: unknown[] = []) {
      return prisma.$queryRawUnsafe<Row[]>(text, ...params);
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
  databaseTimeouts: DatabaseTimeouts;
  dataDir: string;
}

export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  if (config.databaseUrl !== undefined) {
    return openPostgres({
      url: config.databaseUrl,
      poolSize: config.databasePoolSize,
      acquireTimeoutMs: config.databaseAcquireTimeoutMs,
      timeouts: config.databaseTimeouts,
    });
  }
  return openPglite(config.dataDir);
}
