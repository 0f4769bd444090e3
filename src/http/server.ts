// The app's HTTP server: health and metrics here; the webhook and ingest endpoints register
// their own routes. Plain node:http — a route table, bounded bodies, JSON errors, no framework.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Database } from "../db/client.js";
import { migrationStatus } from "../db/migrate.js";
import type { Logger } from "../logger.js";
import { type CounterName, MetricsRegistry } from "./metrics.js";

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;
export type Method = "GET" | "POST" | "PUT" | "DELETE";

export interface HttpServer {
  route(method: Method, path: string, handler: RouteHandler): void;
  listen(host: string, port: number): Promise<number>;
  close(): Promise<void>;
  /** Counts one handled Telegram update for /metrics. */
  countUpdate(outcome?: "ok" | "error" | "duplicate"): void;
  readonly metrics: MetricsRegistry;
}

export interface HealthReport {
  ok: boolean;
  database: "ok" | "unreachable";
  migrations: "current" | "pending" | "problem" | "unknown";
  pending?: string[];
  problems?: string[];
}

export async function checkHealth(db: Database): Promise<HealthReport> {
  try {
    const status = await db.withSession(async (session) => {
      await session.query("SELECT 1");
      return migrationStatus(session);
    });
    if (status.problems.length > 0) {
      return { ok: false, database: "ok", migrations: "problem", problems: status.problems };
    }
    if (status.pending.length > 0) {
      return { ok: false, database: "ok", migrations: "pending", pending: status.pending };
    }
    return { ok: true, database: "ok", migrations: "current" };
  } catch {
    return { ok: false, database: "unreachable", migrations: "unknown" };
  }
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

export function createHttpServer(options: { log: Logger; db: Database }): HttpServer {
  const { log, db } = options;
  const routes = new Map<string, RouteHandler>();
  const metrics = new MetricsRegistry(db);
  const key = (method: string, path: string) => `${method} ${path}`;

  routes.set(key("GET", "/healthz"), async (_req, res) => {
    const report = await checkHealth(db);
    sendJson(res, report.ok ? 200 : 503, report);
  });
  routes.set(key("GET", "/metrics"), async (_req, res) => {
    const text = await metrics.render();
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
    res.end(text);
  });

  const server: Server = createServer((req, res) => {
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
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
    countUpdate(outcome = "ok") {
      const name: CounterName = `telegram_updates_${outcome}`;
      metrics.increment(name);
    },
  };
}
