// The app's HTTP server: health and metrics here; the webhook and ingest endpoints register
// their own routes. Plain node:http — a route table, bounded bodies, JSON errors, no framework.
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Database } from "../db/client.js";
import { isTransientDatabaseFailure } from "../db/failures.js";
import { type MigrationStatus, migrationStatus, readMigrations } from "../db/migrate.js";
import type { Logger } from "../logger.js";
import { type CounterName, MetricsRegistry } from "./metrics.js";

/** What a route answers in Retry-After while its database is unreachable. */
const OUTAGE_RETRY_AFTER_SECONDS = 5;

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;
export type Method = "GET" | "POST" | "PUT" | "DELETE";

export interface HttpServer {
  route(method: Method, path: string, handler: RouteHandler): void;
  listen(host: string, port: number): Promise<number>;
  close(): Promise<void>;
  /** Counts one handled Telegram update for /metrics, with how long it took when known. */
  countUpdate(outcome?: "ok" | "error" | "duplicate", seconds?: number): void;
  readonly metrics: MetricsRegistry;
}

/**
 * /healthz answers within 1 s in every state: the database gets half of that to answer, the rest
 * is the HTTP round trip and a loaded event loop.
 */
export const HEALTH_DEADLINE_MS = 500;

/** How long the one-time read of the migration state may take before it is tried again. */
const MIGRATION_READ_LIMIT_MS = 10_000;

export interface HealthReport {
  ok: boolean;
  database: "ok" | "unreachable";
  migrations: "current" | "pending" | "problem" | "unknown";
  /** why ok is false when the database is unreachable (or the schema not yet checked) */
  reason?: string;
  pending?: string[];
  problems?: string[];
}

/** Rejects with "no answer within ms" unless promise settles first. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

function reasonOf(error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
  return message.length > 200 ? `${message.slice(0, 200)}…` : message || "unknown error";
}

function migrationReport(status: MigrationStatus): HealthReport {
  if (status.problems.length > 0) {
    return { ok: false, database: "ok", migrations: "problem", problems: status.problems };
  }
  if (status.pending.length > 0) {
    return { ok: false, database: "ok", migrations: "pending", pending: status.pending };
  }
  return { ok: true, database: "ok", migrations: "current" };
}

/**
 * The health check behind /healthz. Each call is one `SELECT 1` on the database's probe
 * connection (Database.ping: never queued behind the pool's requests), bounded by
 * HEALTH_DEADLINE_MS; concurrent calls share the probe in flight, so a load balancer polling hard
 * during an outage opens nothing extra. The migration state is read once (the files and the
 * `_prisma_migrations` table, right after start-up has migrated) and then reported from memory.
 */
export function createHealthCheck(db: Database, log?: Logger): () => Promise<HealthReport> {
  let probe: Promise<void> | undefined;
  let migrations: MigrationStatus | undefined;
  let loading: Promise<MigrationStatus> | undefined;
  let reachable = true;
  const loadMigrations = () => {
    // bounded: a read cut off by an outage is given up and tried again by a later call
    loading ??= within(
      db.withSession((session) => migrationStatus(session, readMigrations())),
      MIGRATION_READ_LIMIT_MS,
    )
      .then((status) => {
        migrations = status;
        return status;
      })
      .finally(() => {
        loading = undefined;
      });
    return loading;
  };
  // at start-up, so that the first /healthz finds it ready
  loadMigrations().catch(() => {});

  return async () => {
    const started = Date.now();
    try {
      probe ??= db.ping(HEALTH_DEADLINE_MS).finally(() => {
        probe = undefined;
      });
      await within(probe, HEALTH_DEADLINE_MS);
    } catch (error) {
      const reason = reasonOf(error);
      if (reachable) log?.warn({ reason }, "health: database unreachable");
      reachable = false;
      const known = migrations ? migrationReport(migrations).migrations : "unknown";
      return { ok: false, database: "unreachable", migrations: known, reason };
    }
    if (!reachable) log?.info("health: database reachable again");
    reachable = true;
    if (migrations === undefined) {
      try {
        const left = Math.max(1, HEALTH_DEADLINE_MS - (Date.now() - started));
        await within(loadMigrations(), left);
      } catch (error) {
        const reason = `migration state not read yet: ${reasonOf(error)}`;
        return { ok: false, database: "ok", migrations: "unknown", reason };
      }
    }
    return migrationReport(migrations!);
  };
}

/** "Bearer <token>" compared in constant time (hashing first makes the lengths equal). */
function tokenMatches(header: string | undefined, token: string): boolean {
  const given = createHash("sha256")
    .update(header ?? "")
    .digest();
  return timingSafeEqual(given, createHash("sha256").update(`Bearer ${token}`).digest());
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`Request body is larger than ${limit} bytes`);
    this.name = "BodyTooLargeError";
  }
}

/** Reads a request body, refusing (BodyTooLargeError) beyond maxBytes without buffering more. */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > maxBytes) throw new BodyTooLargeError(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new BodyTooLargeError(maxBytes);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function createHttpServer(options: {
  log: Logger;
  db: Database;
  /** When set, GET /metrics answers only requests with "Authorization: Bearer <token>". */
  metricsToken?: string;
}): HttpServer {
  const { log, db, metricsToken } = options;
  const routes = new Map<string, RouteHandler>();
  const metrics = new MetricsRegistry(db);
  const checkHealth = createHealthCheck(db, log);
  const key = (method: string, path: string) => `${method} ${path}`;

  routes.set(key("GET", "/healthz"), async (_req, res) => {
    const report = await checkHealth();
    sendJson(res, report.ok ? 200 : 503, report);
  });
  routes.set(key("GET", "/metrics"), async (req, res) => {
    if (metricsToken !== undefined && !tokenMatches(req.headers.authorization, metricsToken)) {
      res.setHeader("www-authenticate", 'Bearer realm="metrics"');
      sendJson(res, 401, { error: "GET /metrics needs 'Authorization: Bearer <METRICS_TOKEN>'" });
      return;
    }
    const text = await metrics.render();
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
    res.end(text);
  });

  // Once closing, every answer ends its connection: a keep-alive client that never pauses long
  // (health checks, Telegram's webhook connections) would otherwise keep a connection open that
  // was busy when close() ran, and the stopping app with it.
  let closing = false;
  const server: Server = createServer((req, res) => {
    if (closing) res.setHeader("connection", "close");
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const handler = routes.get(key(req.method ?? "GET", path));
    if (handler === undefined) {
      const known = [...routes.keys()].some((k) => k.endsWith(` ${path}`));
      sendJson(res, known ? 405 : 404, { error: known ? "method not allowed" : "not found" });
      return;
    }
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((error: unknown) => {
        if (error instanceof BodyTooLargeError) {
          if (!res.headersSent) sendJson(res, 413, { error: error.message });
          req.resume();
          return;
        }
        // an outage is not a bug: the caller (a scale, an automation) comes back later
        if (isTransientDatabaseFailure(error)) {
          log.warn({ err: error, path }, "http handler: database unavailable");
          if (!res.headersSent) {
            res.setHeader("retry-after", String(OUTAGE_RETRY_AFTER_SECONDS));
            sendJson(res, 503, {
              error: "The database is unavailable for a moment; send the request again shortly.",
            });
          } else res.end();
          req.resume();
          return;
        }
        log.error({ err: error, path }, "http handler failed");
        if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
        else res.end();
      });
  });
  server.keepAliveTimeout = 5_000;

  return {
    metrics,
    route(method, path, handler) {
      routes.set(key(method, path), handler);
    },
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          const address = server.address() as AddressInfo;
          log.info({ host, port: address.port }, "http server listening");
          resolve(address.port);
        });
      });
    },
    close() {
      closing = true;
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
    countUpdate(outcome = "ok", seconds) {
      const name: CounterName = `telegram_updates_${outcome}`;
      metrics.increment(name);
      if (seconds !== undefined) metrics.observeUpdate(outcome, seconds);
    },
  };
}
