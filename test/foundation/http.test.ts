import { Agent, request as httpRequest } from "node:http";
import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgres } from "../../src/db/client.js";
import { createHttpServer, type HttpServer } from "../../src/http/server.js";
import { createLogger } from "../../src/logger.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

describe("HTTP server", () => {
  let t: TestDatabase;
  let server: HttpServer;
  let base: string;
  beforeAll(async () => {
    t = await createTestDatabase();
    const log = createLogger({ level: "silent", pretty: false, secrets: [] });
    server = createHttpServer({ log, db: t.db });
    server.route("POST", "/echo-size", async (req, res) => {
      const { readBody } = await import("../../src/http/server.js");
      const body = await readBody(req, 16);
      res.end(String(body.length));
    });
    base = `http://127.0.0.1:${await server.listen("127.0.0.1", 0)}`;
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  // A keep-alive client that never pauses long (a load balancer's health checks, Telegram's
  // webhook connections) must not hold a stopping app open: close() ends such connections too.
  it("close() finishes while a keep-alive client keeps polling over a connection busy at close time", async () => {
    const log = createLogger({ level: "silent", pretty: false, secrets: [] });
    const stopping = createHttpServer({ log, db: t.db });
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    stopping.route("GET", "/held", async (_req, res) => {
      await held;
      res.end("done");
    });
    const port = await stopping.listen("127.0.0.1", 0);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string) =>
      new Promise<number>((resolve, reject) => {
        httpRequest({ host: "127.0.0.1", port, path, agent }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        })
          .on("error", reject)
          .end();
      });
    let polling = true;
    try {
      const first = get("/held"); // the one connection is busy when close() is called
      await sleep(100);
      let closed = false;
      const closing = stopping.close().then(() => {
        closed = true;
      });
      release();
      expect(await first).toBe(200);
      const poller = (async () => {
        while (polling && !closed) {
          await get("/healthz").catch(() => {});
          await sleep(20);
        }
      })();
      const deadline = sleep(20_000).then(() => "still open" as const);
      expect(await Promise.race([closing.then(() => "closed" as const), deadline])).toBe("closed");
      polling = false;
      await poller;
    } finally {
      polling = false;
      release();
      agent.destroy();
    }
  });

  it("GET /healthz reports a reachable database with current migrations", async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, database: "ok", migrations: "current" });
  });

  it("GET /healthz says 503 with the pending migration when the schema is behind at start-up", async () => {
    await t.db.withSession((s) => s.exec(`UPDATE "_prisma_migrations" SET rolled_back_at = now()`));
    const log = createLogger({ level: "silent", pretty: false, secrets: [] });
    const behind = createHttpServer({ log, db: t.db });
    try {
      const url = `http://127.0.0.1:${await behind.listen("127.0.0.1", 0)}`;
      const res = await fetch(`${url}/healthz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as {
        database: string;
        migrations: string;
        pending: string[];
      };
      expect(body.database).toBe("ok");
      expect(body.migrations).toBe("pending");
      expect(body.pending.length).toBeGreaterThan(0);
      // the server started before the change read the migration state once and does not read
      // it (files and table) again on each call: it still reports what it found at start-up
      const started = await fetch(`${base}/healthz`);
      expect(started.status).toBe(200);
      expect(await started.json()).toEqual({ ok: true, database: "ok", migrations: "current" });
    } finally {
      await behind.close();
      await t.db.withSession((s) =>
        s.exec(`UPDATE "_prisma_migrations" SET rolled_back_at = NULL`),
      );
    }
  });

  it("GET /metrics speaks Prometheus text with process, pool and update counters", async () => {
    server.countUpdate("ok");
    server.countUpdate("ok");
    server.countUpdate("duplicate");
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
    expect(text).toMatch(/^db_pool_max_connections \d+$/m);
    expect(text).toContain("coachrl_telegram_updates_ok_total 2");
    expect(text).toContain("coachrl_telegram_updates_duplicate_total 1");
    expect(text).toContain("# TYPE coachrl_telegram_updates_ok_total counter");
  });

  it("answers unknown paths with 404, wrong methods with 405 and oversized bodies with 413", async () => {
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`, { method: "POST" })).status).toBe(405);
    const small = await fetch(`${base}/echo-size`, { method: "POST", body: "12345" });
    expect(await small.text()).toBe("5");
    const big = await fetch(`${base}/echo-size`, { method: "POST", body: "x".repeat(1000) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: string }).error).toContain("larger than 16 bytes");
  });

  it("answers a route whose database is unreachable with 503 and Retry-After (come back), logged as a warning", async () => {
    const lines: string[] = [];
    const log = createLogger({
      level: "info",
      pretty: false,
      secrets: [],
      destination: new Writable({
        write(chunk, _encoding, callback) {
          lines.push(chunk.toString());
          callback();
        },
      }),
    });
    // nothing listens on port 1: every query fails with ECONNREFUSED, as during an outage
    const unreachable = openPostgres({
      url: "postgresql://postgres@127.0.0.1:1/none",
      poolSize: 1,
      acquireTimeoutMs: 2_000,
    });
    const outage = createHttpServer({ log, db: unreachable });
    outage.route("GET", "/needs-the-database", async (_req, res) => {
      await unreachable.prisma.$queryRaw`SELECT 1`;
      res.end("ok");
    });
    const at = `http://127.0.0.1:${await outage.listen("127.0.0.1", 0)}`;
    try {
      const res = await fetch(`${at}/needs-the-database`);
      expect(res.status).toBe(503);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(((await res.json()) as { error: string }).error).toMatch(/database.*unavailable/i);
      const levels = lines.map((l) => JSON.parse(l) as { level: number; msg: string });
      expect(levels.filter((l) => l.level >= 50)).toEqual([]);
      expect(levels.some((l) => l.level === 40 && /database unavailable/.test(l.msg))).toBe(true);
    } finally {
      await outage.close();
      await unreachable.close();
    }
  });
});
