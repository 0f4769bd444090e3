// /metrics tells the truth (issue 16, item 5): prom-client's process metrics and event-loop lag,
// histograms of update handling, webhook answers, Bot API calls (429s counted) and database
// statements, the ingest counters moving, and the optional METRICS_TOKEN.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newIngestToken } from "../../src/app/people.js";
import { createWebhookHandler, webhookPath } from "../../src/bot/webhook.js";
import { registerUser, updateUserSettings } from "../../src/db/users.js";
import { createHttpServer, type HttpServer } from "../../src/http/server.js";
import { registerIngestRoutes } from "../../src/ingest/http.js";
import { createLogger } from "../../src/logger.js";
import { createTestDatabase, onRealPostgres, type TestDatabase } from "../support/database.js";
import { startTestBot, type TestBot } from "../support/telegram-bot.js";
import { startEmulator, type TelegramEmulator } from "../support/telegram-emulator.js";

const SECRET = "s3cret_token_for_metrics_tests";
const METRICS_TOKEN = "metrics-scraper-token-0123456789";

/** The value of one sample line (`name{labels} value`), or 0 when absent. */
function sample(text: string, name: string, labels = ""): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("/metrics", () => {
  let database: TestDatabase;
  let emulator: TelegramEmulator;
  let http: HttpServer;
  let t: TestBot;
  let base: string;
  const owner = newIngestToken();

  beforeAll(async () => {
    database = await createTestDatabase();
    emulator = await startEmulator();
    const log = createLogger({ level: "silent", pretty: false, secrets: [] });
    http = createHttpServer({ log, db: database.db, metricsToken: METRICS_TOKEN });
    t = await startTestBot({
      launch: false,
      database,
      emulator,
      deps: {
        countUpdate: (outcome, seconds) => http.countUpdate(outcome, seconds),
        observeTelegramCall: (method, outcome, seconds) =>
          http.metrics.observeTelegramCall(method, outcome, seconds),
      },
    });
    const path = webhookPath("https://coach.example.com/telegram/hook");
    http.route(
      "POST",
      path,
      createWebhookHandler(t.bot, {
        secret: SECRET,
        log: t.deps.log,
        observe: (status, seconds) => http.metrics.observeWebhook(status, seconds),
      }),
    );
    registerIngestRoutes(http, {
      db: database.db,
      log: t.deps.log,
      config: { ingestMaxBytes: 1 << 20 },
    });
    base = `http://127.0.0.1:${await http.listen("127.0.0.1", 0)}`;
    await t.bot.telegram.setWebhook(`${base}${path}`, { secret_token: SECRET });
    const { user } = await registerUser(database.db, {
      telegramId: 9101n,
      chatId: 9101n,
      displayName: "Scale owner",
      timezone: "UTC",
      isAdmin: false,
    });
    await updateUserSettings(database.db, user.id, { ingestTokenHash: owner.hash });
  });
  afterAll(async () => {
    await http?.close();
    await t?.stop();
    await emulator?.close();
    await database?.dispose();
  });

  const scrape = async () => {
    const res = await fetch(`${base}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(res.status).toBe(200);
    return res.text();
  };

  it("answers only with the token when METRICS_TOKEN is set", async () => {
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${base}/metrics`, { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    expect(await scrape()).toContain("process_cpu_seconds_total");
    // /healthz stays open (load balancers and Docker ask it)
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it("has the process's default metrics and the event-loop lag", async () => {
    const text = await scrape();
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^process_cpu_seconds_total [\d.e+-]+$/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds [\d.e+-]+$/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds [\d.e+-]+$/m);
    expect(text).toMatch(/^db_pool_max_connections \d+$/m);
  });

  it("times updates, webhook answers, Bot API calls (429s counted) and database statements", async () => {
    const before = await scrape();
    emulator.failNext("sendMessage", {
      code: 429,
      description: "Too Many Requests: retry after 1",
      parameters: { retry_after: 1 },
    });
    const replies = await emulator.ask(9201, "/help");
    expect(replies.length).toBeGreaterThan(0);
    const after = await scrape();
    const grew = (name: string, labels: string) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(grew("coachrl_update_handling_seconds_count", '{outcome="ok"}')).toBe(1);
    expect(grew("coachrl_webhook_response_seconds_count", '{status="200"}')).toBe(1);
    expect(
      grew("coachrl_telegram_api_call_seconds_count", '{method="sendMessage",outcome="ok"}'),
    ).toBeGreaterThan(0);
    expect(grew("coachrl_telegram_api_rate_limited_total", '{method="sendMessage"}')).toBe(1);
    expect(grew("coachrl_telegram_updates_ok_total", "")).toBe(1);
    if (onRealPostgres) {
      expect(grew("coachrl_db_query_seconds_count", '{outcome="ok"}')).toBeGreaterThan(0);
    }
  });

  it("counts ingest requests accepted and rejected", async () => {
    const before = await scrape();
    const post = (token: string) =>
      fetch(`${base}/ingest/weight`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: '{"weight":72.4,"measuredAt":"2026-11-10T07:00:00Z"}',
      });
    expect((await post(owner.token)).status).toBe(200);
    expect((await post("not-a-real-token")).status).toBe(401);
    expect((await post("not-a-real-token")).status).toBe(401);
    const after = await scrape();
    const grew = (name: string) => sample(after, name) - sample(before, name);
    expect(grew("coachrl_ingest_requests_ok_total")).toBe(1);
    expect(grew("coachrl_ingest_requests_rejected_total")).toBe(2);
  });
});
