/**
 * npm run bench:bot — the bot under load as an operator runs it: APPS app processes
 * (`node --import tsx src/main.ts`, webhook mode) on one real Postgres database, a Bot API stub
 * that answers every call and counts them, and 1,000 people with two habits each. After a
 * warm-up (each person asks /plan once, which also gives the plan's buttons), CONCURRENCY
 * clients post UPDATES webhook updates, a third each /done, plan-button taps and /plan,
 * round-robin over the apps. Prints JSON: updates/s, webhook latency percentiles, app CPU per
 * update (from each app's /metrics: process_cpu_seconds_total), outgoing calls/s and the 429s
 * the apps saw (coachrl_telegram_api_rate_limited_total), with the machine and its load.
 *
 *   TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test npm run bench:bot
 *   APPS=2 PEOPLE=1000 UPDATES=6000 CONCURRENCY=40 npm run bench:bot
 *   SEND_RATE=25 npm run bench:bot   # the outgoing budget at Telegram's rate (default: 100000/s,
 *                                    # so that the app's own cost is measured)
 *   CPU_PROF_DIR=/tmp/prof npm run bench:bot   # each app writes a V8 CPU profile (node --cpu-prof)
 *
 * The database (a fresh one on the server of TEST_DATABASE_URL or DATABASE_URL) is dropped
 * afterwards.
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import pg from "pg";
import { openPostgres } from "../src/db/client.js";
import { migrate } from "../src/db/migrate.js";
import { registerUser } from "../src/db/users.js";
import { startApp as startAppProcess } from "../test/support/app-process.js";

const APPS = Number(process.env.APPS ?? 1);
const PEOPLE = Number(process.env.PEOPLE ?? 1000);
const UPDATES = Number(process.env.UPDATES ?? 6000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 40);
const SEND_RATE = process.env.SEND_RATE ?? "100000";
const TOKEN = "123456:bench_token_abcdefghijklmnopqrstuvwxyz";
const SECRET = "bench_webhook_secret_0123456789";
const FIRST_CHAT = 7_000_000;

const serverUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
if (!serverUrl) {
  console.error("bench:bot needs TEST_DATABASE_URL (or DATABASE_URL): a Postgres server");
  process.exit(1);
}

// ---- the Bot API stub ------------------------------------------------------------------------
interface Stub {
  apiRoot: string;
  calls: { method: string; at: number }[];
  /** callback_data of the last message with buttons, per chat */
  buttons: Map<number, string[]>;
  close(): Promise<void>;
}

async function startStub(): Promise<Stub> {
  const calls: Stub["calls"] = [];
  const buttons = new Map<number, string[]>();
  let messageId = 1;
  const answer = (res: ServerResponse, result: unknown) => {
    const text = JSON.stringify({ ok: true, result });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(text);
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const method = (req.url ?? "").split("/").pop() ?? "";
      calls.push({ method, at: performance.now() });
      let payload: Record<string, unknown> = {};
      try {
        payload = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
      } catch {
        // multipart (a chart): nothing to look at
      }
      const chatId = Number(payload.chat_id);
      const keyboard = (
        payload.reply_markup as { inline_keyboard?: { callback_data?: string }[][] }
      )?.inline_keyboard;
      if (keyboard !== undefined && Number.isFinite(chatId)) {
        const data = keyboard.flat().flatMap((b) => (b.callback_data ? [b.callback_data] : []));
        if (data.length > 0) buttons.set(chatId, data);
      }
      switch (method) {
        case "getMe":
          return answer(res, {
            id: 123456,
            is_bot: true,
            first_name: "Bench",
            username: "bench_bot",
          });
        case "sendMessage":
        case "editMessageText":
        case "sendPhoto":
          return answer(res, {
            message_id: messageId++,
            date: Math.floor(Date.now() / 1000),
            chat: { id: chatId, type: "private" },
            text: typeof payload.text === "string" ? payload.text : "",
          });
        default:
          return answer(res, true);
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    apiRoot: `http://127.0.0.1:${port}`,
    calls,
    buttons,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// ---- the app processes -----------------------------------------------------------------------
interface App {
  child: ChildProcess;
  port: number;
  output: () => string;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function startApp(databaseUrl: string, stub: Stub): Promise<App> {
  const apiRoot = stub.apiRoot;
  const webhooksBefore = stub.calls.filter((c) => c.method === "setWebhook").length;
  const port = await freePort();
  const app = startAppProcess(
    {
      DATABASE_URL: databaseUrl,
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: apiRoot,
      WEBHOOK_URL: `http://127.0.0.1:${port}/telegram/webhook`,
      WEBHOOK_SECRET: SECRET,
      HTTP_PORT: String(port),
      LOG_LEVEL: "warn",
      COACHRL_WORKERS: "0",
      TELEGRAM_MESSAGES_PER_SECOND: SEND_RATE,
      TELEGRAM_MESSAGES_PER_CHAT_PER_SECOND: SEND_RATE === "100000" ? "1000" : "1",
    },
    // node refuses --cpu-prof in NODE_OPTIONS: it goes on the command line
    process.env.CPU_PROF_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.CPU_PROF_DIR}`] : [],
  );
  const { child } = app;
  const out = () => {
    const { stdout, stderr } = app.output();
    return stdout + stderr;
  };
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`an app exited at start:\n${out()}`);
    if (Date.now() > deadline) throw new Error(`an app did not start:\n${out()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      const registered = stub.calls.filter((c) => c.method === "setWebhook").length;
      if (res.ok && registered > webhooksBefore) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, port, output: out };
}

async function metric(app: App, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${app.port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) {
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return sum;
}

// ---- updates ---------------------------------------------------------------------------------
let nextUpdateId = 1;
// idle sockets are dropped before the app's 5 s keep-alive ends them under a new request
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2, timeout: 4_000 });

function textUpdate(chatId: number, text: string): object {
  const command = text.startsWith("/") ? text.split(" ")[0]!.length : 0;
  return {
    update_id: nextUpdateId++,
    message: {
      message_id: nextUpdateId,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chatId, type: "private", first_name: `P${chatId}` },
      from: { id: chatId, is_bot: false, first_name: `P${chatId}` },
      text,
      ...(command > 0 ? { entities: [{ type: "bot_command", offset: 0, length: command }] } : {}),
    },
  };
}

function tapUpdate(chatId: number, data: string): object {
  return {
    update_id: nextUpdateId++,
    callback_query: {
      id: String(nextUpdateId),
      from: { id: chatId, is_bot: false, first_name: `P${chatId}` },
      chat_instance: String(chatId),
      data,
      message: {
        message_id: 1,
        date: Math.floor(Date.now() / 1000),
        chat: { id: chatId, type: "private" },
        text: "Today's plan",
      },
    },
  };
}

/**
 * Posts one update to an app's webhook; resolves with the status and the milliseconds taken. A
 * connection reset before the answer is tried once more (a re-delivery is deduplicated).
 */
async function post(app: App, update: object): Promise<{ status: number; ms: number }> {
  try {
    return await postOnce(app, update);
  } catch (error) {
    if ((error as { code?: string }).code !== "ECONNRESET") throw error;
    return postOnce(app, update);
  }
}

function postOnce(app: App, update: object): Promise<{ status: number; ms: number }> {
  const body = JSON.stringify(update);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: app.port,
        path: "/telegram/webhook",
        method: "POST",
        agent,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "x-telegram-bot-api-secret-token": SECRET,
        },
      },
      (res) => {
        res.resume();
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Runs `work` for each item with `concurrency` at a time. */
async function pool<T>(
  items: T[],
  concurrency: number,
  work: (item: T, i: number) => Promise<void>,
) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i]!, i);
      }
    }),
  );
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

// ---- the run ---------------------------------------------------------------------------------
const name = `coachrl_bench_${randomBytes(4).toString("hex")}`;
const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
await admin.query(`CREATE DATABASE "${name}"`);
const url = new URL(serverUrl);
url.pathname = `/${name}`;
const databaseUrl = url.toString();
const stub = await startStub();
const apps: App[] = [];
try {
  const db = openPostgres({ url: databaseUrl, poolSize: 5, acquireTimeoutMs: 10_000 });
  await db.withSession((s) => migrate(s));
  const onboarded = new Date();
  for (let i = 0; i < PEOPLE; i++) {
    const id = BigInt(FIRST_CHAT + i);
    const { user } = await registerUser(db, {
      telegramId: id,
      chatId: id,
      displayName: `P${id}`,
      timezone: "UTC",
      isAdmin: false,
    });
    await db.prisma.user.update({
      where: { id: user.id },
      data: { onboardedAt: onboarded, timezoneChosenAt: onboarded, planTimeChosenAt: onboarded },
    });
  }
  await db.close();
  for (let i = 0; i < APPS; i++) apps.push(await startApp(databaseUrl, stub));
  const appFor = (i: number) => apps[i % apps.length]!;
  const chats = Array.from({ length: PEOPLE }, (_, i) => FIRST_CHAT + i);
  // set-up through the chat: two habits each, then today's plan (its buttons)
  for (const text of ["/habits add run 30min 5/week", "/habits add read 20min daily", "/plan"]) {
    await pool(chats, CONCURRENCY, async (chat, i) => {
      const { status } = await post(appFor(i), textUpdate(chat, text));
      if (status !== 200) throw new Error(`set-up "${text}" for ${chat}: HTTP ${status}`);
    });
  }
  const withButtons = chats.filter((c) => (stub.buttons.get(c)?.length ?? 0) > 0).length;

  // the measured mix
  const mix = Array.from({ length: UPDATES }, (_, i) => {
    const chat = chats[(i * 7919) % PEOPLE]!;
    const kind = i % 3 === 0 ? "done" : i % 3 === 1 ? "tap" : "plan";
    return { chat, kind };
  });
  const cpuBefore = await Promise.all(apps.map((a) => metric(a, "process_cpu_seconds_total")));
  const limitedBefore = await Promise.all(
    apps.map((a) => metric(a, "coachrl_telegram_api_rate_limited_total")),
  );
  const queriesBefore = await Promise.all(
    apps.map((a) => metric(a, "coachrl_db_query_seconds_count")),
  );
  const callsBefore = stub.calls.length;
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const started = performance.now();
  await pool(mix, CONCURRENCY, async ({ chat, kind }, i) => {
    const data = stub.buttons.get(chat) ?? [];
    const update =
      kind === "done"
        ? textUpdate(chat, "/done")
        : kind === "tap" && data.length > 0
          ? tapUpdate(chat, data[i % data.length]!)
          : textUpdate(chat, "/plan");
    const { status, ms } = await post(appFor(i), update);
    latencies.push(ms);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  });
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = await Promise.all(apps.map((a) => metric(a, "process_cpu_seconds_total")));
  const limitedAfter = await Promise.all(
    apps.map((a) => metric(a, "coachrl_telegram_api_rate_limited_total")),
  );
  const queriesAfter = await Promise.all(
    apps.map((a) => metric(a, "coachrl_db_query_seconds_count")),
  );
  const calls = stub.calls.slice(callsBefore);
  const perSecond = new Map<number, number>();
  for (const c of calls) {
    const s = Math.floor((c.at - started) / 1000);
    perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
  }
  latencies.sort((a, b) => a - b);
  const cpuSeconds = cpuAfter.reduce((s, v, i) => s + v - cpuBefore[i]!, 0);
  console.log(
    JSON.stringify(
      {
        apps: APPS,
        people: PEOPLE,
        peopleWithPlanButtons: withButtons,
        updates: UPDATES,
        concurrency: CONCURRENCY,
        mix: "1/3 /done, 1/3 plan-button taps, 1/3 /plan",
        sendRatePerSecond: Number(SEND_RATE),
        seconds: Number(seconds.toFixed(2)),
        updatesPerSecond: Math.round(UPDATES / seconds),
        statuses: Object.fromEntries(statuses),
        latencyMs: {
          p50: Math.round(percentile(latencies, 50)),
          p95: Math.round(percentile(latencies, 95)),
          p99: Math.round(percentile(latencies, 99)),
          max: Math.round(latencies.at(-1) ?? 0),
        },
        appCpuMsPerUpdate: Number(((cpuSeconds * 1000) / UPDATES).toFixed(2)),
        // the app's statements on its pool (the send budget's own connections not included)
        dbStatementsPerUpdate: Number(
          (queriesAfter.reduce((s, v, i) => s + v - queriesBefore[i]!, 0) / UPDATES).toFixed(1),
        ),
        outgoingCalls: calls.length,
        outgoingCallsPerSecond: Math.round(calls.length / seconds),
        outgoingCallsPeakPerSecond: Math.max(0, ...perSecond.values()),
        rateLimited429: limitedAfter.reduce((s, v, i) => s + v - limitedBefore[i]!, 0),
        machine: {
          cpus: os.cpus().length,
          model: os.cpus()[0]?.model,
          loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
          node: process.version,
        },
      },
      null,
      2,
    ),
  );
} finally {
  for (const app of apps) app.child.kill("SIGTERM");
  await Promise.all(
    apps.map(
      (a) =>
        new Promise((resolve) =>
          a.child.exitCode !== null ? resolve(0) : a.child.once("exit", resolve),
        ),
    ),
  );
  agent.destroy();
  await stub.close();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
}
