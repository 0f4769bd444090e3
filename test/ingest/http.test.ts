import { request } from "node:http";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newIngestToken } from "../../src/app/people.js";
import { ensureMetric, findMetric } from "../../src/db/metrics.js";
import { registerUser, updateUserSettings } from "../../src/db/users.js";
import { createHttpServer, type HttpServer } from "../../src/http/server.js";
import { registerIngestRoutes } from "../../src/ingest/http.js";
import { createLogger } from "../../src/logger.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { appleHealthXmlParts, appleHealthZipStreamed, dailyWeights } from "./fixtures.js";

const NOW = new Date("2026-11-30T12:00:00.000Z");
const LIMIT = 1024 * 1024;

function collector() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, stream };
}

describe("POST /ingest/weight", () => {
  let t: TestDatabase;
  let server: HttpServer;
  let base: string;
  let port: number;
  const logs = collector();
  const alice = newIngestToken();
  const bob = newIngestToken();
  let aliceId: number;
  let bobId: number;

  const post = (
    body: string | Uint8Array,
    headers: Record<string, string> = {},
    token = alice.token,
  ) =>
    fetch(`${base}/ingest/weight`, {
      method: "POST",
      body,
      headers: { authorization: `Bearer ${token}`, ...headers },
    });
  const samples = (userId: number) =>
    t.db.prisma.metricSample.findMany({ where: { userId }, orderBy: { measuredAt: "asc" } });

  beforeAll(async () => {
    t = await createTestDatabase();
    const log = createLogger({
      level: "trace",
      pretty: false,
      secrets: [],
      destination: logs.stream,
    });
    server = createHttpServer({ log, db: t.db });
    registerIngestRoutes(server, {
      db: t.db,
      log,
      config: { ingestMaxBytes: LIMIT },
      now: () => NOW,
      maxFailedAuthPerMinute: 1000,
    });
    port = await server.listen("127.0.0.1", 0);
    base = `http://127.0.0.1:${port}`;
    const reg = (telegramId: bigint, timezone: string) =>
      registerUser(t.db, {
        telegramId,
        chatId: telegramId,
        displayName: `p${telegramId}`,
        timezone,
        isAdmin: false,
      });
    aliceId = (await reg(1001n, "Europe/Berlin")).user.id;
    bobId = (await reg(1002n, "America/New_York")).user.id;
    await updateUserSettings(t.db, aliceId, { ingestTokenHash: alice.hash });
    await updateUserSettings(t.db, bobId, { ingestTokenHash: bob.hash });
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  it("answers 401 without a token, with a wrong token or a non-bearer scheme, and stores nothing", async () => {
    const body = JSON.stringify({ weight: 72.4, measuredAt: "2026-11-30T07:10:00+01:00" });
    const wrong = newIngestToken().token;
    const cases: Record<string, string>[] = [
      {},
      { authorization: `Bearer ${wrong}` },
      { authorization: "Bearer " },
      { authorization: `Basic ${Buffer.from(`x:${alice.token}`).toString("base64")}` },
      { authorization: `Bearer ${alice.token.slice(0, -1)}` },
      { authorization: `Bearer ${alice.hash}` },
    ];
    for (const headers of cases) {
      const res = await fetch(`${base}/ingest/weight`, { method: "POST", body, headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toContain("Bearer");
      const json = (await res.json()) as { error: string };
      expect(json.error).toMatch(/ingest token/);
      expect(json.error).toContain("/settings token");
    }
    expect(await samples(aliceId)).toEqual([]);
    expect(await findMetric(t.db, aliceId, "weight")).toBeNull();
  });

  it("stores a JSON sample once: a re-delivery is counted as a duplicate", async () => {
    const body = JSON.stringify({
      weight: 72.4,
      unit: "kg",
      measuredAt: "2026-11-30T07:10:00+01:00",
    });
    const first = await post(body, { "content-type": "application/json" });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ stored: 1, duplicates: 0, problems: [] });
    const again = await post(body, { "content-type": "application/json" });
    expect(await again.json()).toEqual({ stored: 0, duplicates: 1, problems: [] });
    const rows = await samples(aliceId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ value: 72.4, source: "ingest" });
    expect(rows[0].measuredAt.toISOString()).toBe("2026-11-30T06:10:00.000Z");
    const metric = await findMetric(t.db, aliceId, "weight");
    expect(metric).toMatchObject({ name: "weight", unit: "kg", id: rows[0].metricId });
  });

  it("takes a list with pounds and no date (now), and reports bad items next to the stored ones", async () => {
    const res = await post(
      JSON.stringify([
        { weight: 160, unit: "lb", measuredAt: "2026-11-29T07:10:00Z" },
        { weight: "7a.2" },
        { weight: 72.1 },
      ]),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      stored: 2,
      duplicates: 0,
      problems: ['item 2: weight "7a.2" is not a number'],
    });
    const rows = await samples(aliceId);
    expect(rows.map((r) => [r.measuredAt.toISOString(), r.value])).toEqual([
      ["2026-11-29T07:10:00.000Z", 72.575],
      ["2026-11-30T06:10:00.000Z", 72.4],
      [NOW.toISOString(), 72.1],
    ]);
  });

  it("takes a CSV in the person's own time zone, row problems included", async () => {
    const csv =
      "Date,Weight (lb)\n2026-11-20 07:00,170\n2026-11-21 07:00,abc\n2026-11-22 07:00,169.5\n";
    const res = await post(csv, { "content-type": "text/csv" }, bob.token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      stored: 2,
      duplicates: 0,
      problems: ['row 3: weight "abc" is not a number'],
    });
    const rows = await samples(bobId);
    // 07:00 in New York (EST, −05:00)
    expect(rows.map((r) => [r.measuredAt.toISOString(), r.value, r.source])).toEqual([
      ["2026-11-20T12:00:00.000Z", 77.111, "ingest"],
      ["2026-11-22T12:00:00.000Z", 76.884, "ingest"],
    ]);
    // re-sent with one more row: only that one is new
    const more = await post(
      `${csv}2026-11-23 07:00,169\n`,
      { "content-type": "text/csv" },
      bob.token,
    );
    expect(await more.json()).toMatchObject({ stored: 1, duplicates: 2 });
  });

  it("stores in pounds for a person whose weight is kept in pounds", async () => {
    const { user } = await registerUser(t.db, {
      telegramId: 1003n,
      chatId: 1003n,
      displayName: "lb person",
      timezone: "UTC",
      isAdmin: false,
    });
    const token = newIngestToken();
    await updateUserSettings(t.db, user.id, { ingestTokenHash: token.hash });
    await ensureMetric(t.db, user.id, "Weight", "lb");
    const res = await post(
      '[{"weight":72.5747792,"unit":"kg","measuredAt":"2026-11-01T07:00:00Z"},{"weight":170,"measuredAt":"2026-11-02T07:00:00Z"}]',
      {},
      token.token,
    );
    expect(await res.json()).toEqual({ stored: 2, duplicates: 0, problems: [] });
    expect((await samples(user.id)).map((s) => s.value)).toEqual([160, 170]);
  });

  it("answers 400 with the problems when nothing can be stored", async () => {
    const cases: [string, Record<string, string>, string][] = [
      ["{weight: 72", { "content-type": "application/json" }, "the body is not valid JSON"],
      ['{"weight": 4}', {}, "weight 4 kg is not a plausible body weight"],
      [
        "Date,Steps\n2026-11-01,9000\n",
        { "content-type": "text/csv" },
        "no weight and date columns",
      ],
      ["", {}, "the upload is empty"],
      ["<html>hi</html>", {}, "this is not an Apple Health export.xml"],
    ];
    for (const [body, headers, problem] of cases) {
      const res = await post(body, headers, bob.token);
      expect(res.status).toBe(400);
      const json = (await res.json()) as { error: string; problems: string[] };
      expect(json.error).toContain("Nothing could be stored");
      expect(json.problems.join("\n")).toContain(problem);
    }
  });

  it("takes an Apple Health export.zip (and the export.xml itself), a re-import adds nothing", async () => {
    const parts = appleHealthXmlParts(dailyWeights(300), 3000);
    const zip = appleHealthZipStreamed(parts);
    const res = await post(zip, { "content-type": "application/zip" }, bob.token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ stored: 300, duplicates: 0, problems: [] });
    const xml = await post(
      parts.join(""),
      { "content-type": "application/octet-stream" },
      bob.token,
    );
    expect(await xml.json()).toEqual({ stored: 0, duplicates: 300, problems: [] });
  });

  it("answers 413 for a body over the limit, declared or streamed, and stays up", async () => {
    const big = new Uint8Array(LIMIT + 1).fill(0x41);
    const declared = await post(big, { "content-type": "text/csv" });
    expect(declared.status).toBe(413);
    const json = (await declared.json()) as { error: string; limit: number };
    expect(json.error).toContain(`larger than the limit of ${LIMIT} bytes (INGEST_MAX_BYTES)`);
    expect(json.limit).toBe(LIMIT);

    // chunked, no Content-Length: refused while streaming, long before the client stops
    const streamed = await new Promise<{ status: number; body: string; sent: number }>(
      (resolve, reject) => {
        let sent = 0;
        const req = request(
          {
            host: "127.0.0.1",
            port,
            method: "POST",
            path: "/ingest/weight",
            headers: { authorization: `Bearer ${alice.token}`, "content-type": "text/csv" },
          },
          (res) => {
            let body = "";
            res.on("data", (c) => (body += c));
            res.on("end", () => {
              clearInterval(timer);
              req.destroy();
              resolve({ status: res.statusCode ?? 0, body, sent });
            });
          },
        );
        req.on("error", (error) => {
          clearInterval(timer);
          reject(error);
        });
        const chunk = Buffer.alloc(16 * 1024, 0x42);
        const timer = setInterval(() => {
          if (sent > 50 * LIMIT) {
            clearInterval(timer);
            req.end();
            return;
          }
          sent += chunk.length;
          req.write(chunk);
        }, 1);
      },
    );
    expect(streamed.status).toBe(413);
    expect(streamed.body).toContain("INGEST_MAX_BYTES");
    expect(streamed.sent).toBeLessThan(50 * LIMIT);

    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ok = await post('{"weight":72,"measuredAt":"2026-11-10T07:00:00Z"}');
    expect(ok.status).toBe(200);
  });

  it("answers 429 after too many wrong tokens from one address", async () => {
    const log = createLogger({ level: "silent", pretty: false, secrets: [] });
    const other = createHttpServer({ log, db: t.db });
    registerIngestRoutes(other, {
      db: t.db,
      log,
      config: { ingestMaxBytes: LIMIT },
      maxFailedAuthPerMinute: 3,
    });
    const otherBase = `http://127.0.0.1:${await other.listen("127.0.0.1", 0)}`;
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${otherBase}/ingest/weight`, {
          method: "POST",
          body: "{}",
          headers: { authorization: "Bearer crl_wrongwrongwrongwrongwrong" },
        });
        statuses.push(res.status);
        await res.text();
      }
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await other.close();
    }
  });

  it("never blocks a valid token, even after 50 failed attempts from the same address", async () => {
    const log = createLogger({ level: "silent", pretty: false, secrets: [] });
    const other = createHttpServer({ log, db: t.db });
    registerIngestRoutes(other, {
      db: t.db,
      log,
      config: { ingestMaxBytes: LIMIT },
      now: () => NOW,
      maxFailedAuthPerMinute: 3,
    });
    const otherBase = `http://127.0.0.1:${await other.listen("127.0.0.1", 0)}`;
    const send = async (token: string, body = "{}") => {
      const res = await fetch(`${otherBase}/ingest/weight`, {
        method: "POST",
        body,
        headers: { authorization: `Bearer ${token}` },
      });
      await res.text();
      return res.status;
    };
    try {
      const failed: number[] = [];
      for (let i = 0; i < 50; i++) failed.push(await send("crl_wrongwrongwrongwrongwrong"));
      expect(failed.slice(0, 3)).toEqual([401, 401, 401]);
      expect(new Set(failed.slice(3))).toEqual(new Set([429]));
      // behind a TLS proxy every automation shares the proxy's address: the valid one still works
      expect(await send(bob.token, '{"weight":80,"measuredAt":"2026-11-10T07:30:00Z"}')).toBe(200);
      expect(await send("crl_wrongwrongwrongwrongwrong")).toBe(429);
    } finally {
      await other.close();
    }
  });

  it("limits requests per token after authentication", async () => {
    const log = createLogger({ level: "silent", pretty: false, secrets: [] });
    const other = createHttpServer({ log, db: t.db });
    registerIngestRoutes(other, {
      db: t.db,
      log,
      config: { ingestMaxBytes: LIMIT },
      now: () => NOW,
      maxRequestsPerTokenPerMinute: 2,
    });
    const otherBase = `http://127.0.0.1:${await other.listen("127.0.0.1", 0)}`;
    try {
      const statuses: number[] = [];
      const retryAfter: (string | null)[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${otherBase}/ingest/weight`, {
          method: "POST",
          body: `{"weight":80,"measuredAt":"2026-11-10T08:0${i}:00Z"}`,
          headers: { authorization: `Bearer ${bob.token}` },
        });
        statuses.push(res.status);
        retryAfter.push(res.headers.get("retry-after"));
        await res.text();
      }
      expect(statuses).toEqual([200, 200, 429]);
      expect(retryAfter[2]).toBe("60");
      // another person's token is counted on its own
      const res = await fetch(`${otherBase}/ingest/weight`, {
        method: "POST",
        body: '{"weight":72,"measuredAt":"2026-11-10T08:05:00Z"}',
        headers: { authorization: `Bearer ${alice.token}` },
      });
      expect(res.status).toBe(200);
    } finally {
      await other.close();
    }
  });

  it("never writes a token or the Authorization header to the log", async () => {
    await new Promise((r) => setImmediate(r));
    const output = logs.lines.join("");
    expect(output).toContain("weights ingested");
    expect(output).toContain("ingest refused: unknown token");
    expect(output).toContain("ingest refused: body too large");
    expect(output).not.toContain(alice.token);
    expect(output).not.toContain(bob.token);
    expect(output).not.toContain(alice.token.slice(4, 24));
    expect(output).not.toContain(alice.hash);
    expect(output.toLowerCase()).not.toContain("bearer");
  });
});
