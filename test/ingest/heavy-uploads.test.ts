// Uploads that cannot hurt others (issue 16): the app's HTTP server with the webhook and the
// ingest route, uploads read in the worker thread as src/main.ts wires it. While a 12.6 MiB CSV,
// a record bomb or the largest accepted upload is being read, /healthz and a chat message still
// answer within a second; a zip bomb is refused within a second; memory stays bounded.
import { Zip, ZipDeflate } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newIngestToken } from "../../src/app/people.js";
import {
  type WeightUploadReader,
  workerWeightUploadReader,
} from "../../src/app/weight-upload-reader.js";
import { createWebhookHandler, webhookPath } from "../../src/bot/webhook.js";
import { registerUser, updateUserSettings } from "../../src/db/users.js";
import { createHttpServer, type HttpServer } from "../../src/http/server.js";
import { registerIngestRoutes } from "../../src/ingest/http.js";
import { DEFAULT_MAX_SAMPLES } from "../../src/ingest/weight.js";
import { startTestBot, type TestBot } from "../support/telegram-bot.js";

const SECRET = "s3cret_token_for_heavy_upload_tests";
const LIMIT = 20 * 1024 * 1024;
/** What "still answers" means here: well above a normal answer (milliseconds), far below a stall. */
const ANSWER_WITHIN_MS = 1_000;

/** `rows` rows of "date,weight" a minute apart, as a scale export writes them. */
function scaleCsv(rows: number): Buffer {
  const lines = ["Date,Weight (kg)"];
  const start = Date.UTC(2020, 0, 1);
  for (let i = 0; i < rows; i++) {
    const at = new Date(start + i * 60_000).toISOString().slice(0, 19).replace("T", " ");
    lines.push(`${at},${(70 + (i % 50) / 10).toFixed(1)}`);
  }
  return Buffer.from(lines.join("\n"));
}

/** export.zip (streamed: no sizes in the header) whose export.xml is `head`, then `body` `times`. */
function streamedZip(
  head: string,
  body: string,
  times: number,
  tail = "",
  level: 1 | 6 = 6,
): Buffer {
  const chunks: Uint8Array[] = [];
  const zip = new Zip((error, data) => {
    if (error) throw error;
    chunks.push(data);
  });
  const xml = new ZipDeflate("apple_health_export/export.xml", { level });
  zip.add(xml);
  const encoder = new TextEncoder();
  xml.push(encoder.encode(head));
  const piece = encoder.encode(body);
  for (let i = 0; i < times; i++) xml.push(piece);
  xml.push(encoder.encode(tail), true);
  zip.end();
  return Buffer.concat(chunks);
}

const HEALTH_HEAD = '<?xml version="1.0"?>\n<HealthData locale="en_DE">\n';
const RECORD =
  ' <Record type="HKQuantityTypeIdentifierBodyMass" sourceName="Scale" unit="kg" startDate="2026-11-01 07:00:00 +0100" endDate="2026-11-01 07:00:00 +0100" value="72.4"/>\n';

describe("uploads that cannot hurt others", { timeout: 180_000 }, () => {
  let t: TestBot;
  let http: HttpServer;
  let uploads: WeightUploadReader;
  let base: string;
  const owner = newIngestToken();
  let ownerId: number;

  beforeAll(async () => {
    t = await startTestBot({ launch: false });
    http = createHttpServer({ log: t.deps.log, db: t.db });
    const path = webhookPath("https://coach.example.com/telegram/hook");
    http.route("POST", path, createWebhookHandler(t.bot, { secret: SECRET, log: t.deps.log }));
    uploads = workerWeightUploadReader();
    registerIngestRoutes(http, {
      db: t.db,
      log: t.deps.log,
      config: { ingestMaxBytes: LIMIT },
      uploads,
    });
    const port = await http.listen("127.0.0.1", 0);
    base = `http://127.0.0.1:${port}`;
    await t.bot.telegram.setWebhook(`${base}${path}`, { secret_token: SECRET });
    ownerId = (
      await registerUser(t.db, {
        telegramId: 5001n,
        chatId: 5001n,
        displayName: "Scale owner",
        timezone: "Europe/Berlin",
        isAdmin: false,
      })
    ).user.id;
    await updateUserSettings(t.db, ownerId, { ingestTokenHash: owner.hash });
    // the reader's worker thread starts with the first upload: not part of what is measured
    expect((await upload(Buffer.from("[]"), "application/json")).status).toBe(400);
  });
  afterAll(async () => {
    await uploads?.close();
    await http?.close();
    await t?.stop();
  });

  const upload = (body: Uint8Array, contentType: string) =>
    fetch(`${base}/ingest/weight`, {
      method: "POST",
      body,
      headers: { authorization: `Bearer ${owner.token}`, "content-type": contentType },
    });

  /**
   * Runs `work` while asking /healthz and, once, the chat (/help) over and over; returns the
   * slowest answer of each and the largest resident-memory growth seen.
   */
  async function whileBusy<T>(work: () => Promise<T>) {
    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    let done = false;
    const health: number[] = [];
    const chat: number[] = [];
    const probe = (async () => {
      let chatUser = 7000;
      while (!done) {
        const started = performance.now();
        // a new connection each time: building a bomb blocks this process (client and server)
        // for seconds, after which a kept-alive connection may be closed under a new request
        const res = await fetch(`${base}/healthz`, { headers: { connection: "close" } });
        expect(res.status).toBe(200);
        health.push(performance.now() - started);
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
        const asked = performance.now();
        const replies = await t.emulator.ask(chatUser++, "/help");
        expect(replies.length).toBeGreaterThan(0);
        chat.push(performance.now() - asked);
      }
    })();
    try {
      return {
        result: await work(),
        slowestHealthMs: Math.max(...health),
        slowestChatMs: Math.max(...chat),
        probes: health.length,
        get extraRssMb() {
          return (peakRss - rssBefore) / 1024 ** 2;
        },
      };
    } finally {
      done = true;
      await probe;
    }
  }

  it("refuses a 12.6 MiB CSV of 600,000 rows (more samples than allowed) while others are answered", async () => {
    const csv = scaleCsv(600_000);
    expect(csv.length / 1024 ** 2).toBeGreaterThan(12.5);
    expect(csv.length).toBeLessThan(LIMIT);
    const busy = await whileBusy(async () => {
      const res = await upload(csv, "text/csv");
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    });
    expect(busy.result.status).toBe(413);
    expect(busy.result.body.error).toMatch(
      new RegExp(`more than ${DEFAULT_MAX_SAMPLES} weight samples`),
    );
    expect(busy.probes).toBeGreaterThan(0);
    expect(busy.slowestHealthMs).toBeLessThan(ANSWER_WITHIN_MS);
    expect(busy.slowestChatMs).toBeLessThan(ANSWER_WITHIN_MS);
    expect(busy.extraRssMb).toBeLessThan(200);
    expect(await t.db.prisma.metricSample.count({ where: { userId: ownerId } })).toBe(0);
  });

  it("stores the largest accepted upload (the most samples allowed) while others are answered", async () => {
    const csv = scaleCsv(DEFAULT_MAX_SAMPLES);
    const busy = await whileBusy(async () => {
      const res = await upload(csv, "text/csv");
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    });
    expect(busy.result.status).toBe(200);
    expect(busy.result.body).toMatchObject({ stored: DEFAULT_MAX_SAMPLES, duplicates: 0 });
    expect(busy.slowestHealthMs).toBeLessThan(ANSWER_WITHIN_MS);
    expect(busy.slowestChatMs).toBeLessThan(ANSWER_WITHIN_MS);
    expect(busy.extraRssMb).toBeLessThan(200);
    expect(await t.db.prisma.metricSample.count({ where: { userId: ownerId } })).toBe(
      DEFAULT_MAX_SAMPLES,
    );
  });

  it("refuses a record bomb (a small zip of 400,000 weight records) while others are answered", async () => {
    const zip = streamedZip(HEALTH_HEAD, RECORD.repeat(1000), 400, "</HealthData>\n");
    expect(zip.length).toBeLessThan(2 * 1024 ** 2);
    const busy = await whileBusy(async () => {
      const res = await upload(zip, "application/zip");
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    });
    expect(busy.result.status).toBe(400);
    expect(String((busy.result.body.problems as string[])[0])).toMatch(/zip bomb/);
    expect(busy.slowestHealthMs).toBeLessThan(ANSWER_WITHIN_MS);
    expect(busy.slowestChatMs).toBeLessThan(ANSWER_WITHIN_MS);
    expect(busy.extraRssMb).toBeLessThan(200);
  });

  it("refuses a whitespace zip bomb in under a second", async () => {
    // 128 MiB of spaces inside <HealthData>, under 1 MB zipped
    const zip = streamedZip(HEALTH_HEAD, " ".repeat(1024 * 1024), 128, "</HealthData>\n", 1);
    expect(zip.length).toBeLessThan(LIMIT);
    const started = performance.now();
    const res = await upload(zip, "application/zip");
    const tookMs = performance.now() - started;
    expect(res.status).toBe(400);
    const body = (await res.json()) as { problems: string[] };
    expect(body.problems[0]).toMatch(/more than 60 times its packed size/);
    expect(tookMs).toBeLessThan(1_000);
  });
});
