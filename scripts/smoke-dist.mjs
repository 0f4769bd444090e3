#!/usr/bin/env node
// Smoke start of the compiled app (what the Docker image runs), after `npm run build`:
//   1. `node dist/main.js` with a bad HTTP_PORT exits non-zero naming the variable;
//   2. `node dist/cli.js migrate` applies the migration SQL to a fresh embedded database;
//   3. in local chat mode, /stats is drawn by the compiled chart worker (dist/app/charts/worker.js);
//   4. in webhook mode, against a tiny local Bot API stub, GET /healthz answers 200, and SIGTERM
//      stops the app with exit code 0.
// Every wait is on an event (exit, output, a 200) with a deadline, never a fixed sleep.
// Run from any directory: it starts the app from the system's temporary directory.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const mainJs = join(root, "dist", "main.js");
const cliJs = join(root, "dist", "cli.js");
const DEADLINE_MS = 60_000;
const TOKEN = "123456789:smoke_test_token_abcdefghijklmnop";

const cleanups = [];
function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), "coachrl-smoke-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function step(name) {
  console.log(`smoke: ${name}`);
}

/** The environment without the caller's bot, database and HTTP settings. */
function baseEnv(extra) {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(TELEGRAM_|WEBHOOK_|DATABASE_URL|ADMIN_|HTTP_|GOOGLE_|DATA_DIR|COACHRL_)/.test(key)) {
      delete env[key];
    }
  }
  return { ...env, LOG_FORMAT: "json", RETRAIN_CRON: "off", NODE_ENV: "production", ...extra };
}

/** Starts `node <file> ...args` from the temporary directory and collects its output. */
function run(args, env, input) {
  const child = spawn(process.execPath, args, {
    cwd: tmpdir(),
    env: baseEnv(env),
    stdio: ["pipe", "pipe", "pipe"],
  });
  const out = { stdout: "", stderr: "" };
  child.stdout.on("data", (c) => {
    out.stdout += c;
  });
  child.stderr.on("data", (c) => {
    out.stderr += c;
  });
  if (input !== undefined) child.stdin.end(input);
  const exited = new Promise((resolve) => child.on("close", (code) => resolve(code)));
  const timer = setTimeout(() => child.kill("SIGKILL"), 3 * DEADLINE_MS);
  exited.then(() => clearTimeout(timer));
  cleanups.push(() => child.exitCode === null && child.signalCode === null && child.kill());
  return { child, out, exited };
}

function fail(message, out) {
  const detail = out ? `\n--- stdout\n${out.stdout}\n--- stderr\n${out.stderr}` : "";
  throw new Error(`${message}${detail}`);
}

/** A Bot API stub: getMe answers a bot, every other method succeeds. */
async function startBotApiStub() {
  const calls = [];
  const server = createServer((req, res) => {
    const method = (req.url ?? "").split("/").pop();
    calls.push(method);
    const result =
      method === "getMe"
        ? { id: 123456789, is_bot: true, first_name: "CoachRL", username: "coachrl_smoke_bot" }
        : true;
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true, result }));
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => server.close());
  return { root: `http://127.0.0.1:${server.address().port}`, calls };
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls GET url until it answers 200, the process exits, or the deadline passes. */
async function waitFor200(url, app) {
  const deadline = Date.now() + DEADLINE_MS;
  let last = "no answer";
  while (Date.now() < deadline) {
    if (app.child.exitCode !== null) fail(`the app exited (${app.child.exitCode})`, app.out);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (res.status === 200) return res.json();
      last = `${res.status} ${await res.text()}`;
    } catch (error) {
      last = error.message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  fail(`${url} did not answer 200 within ${DEADLINE_MS / 1000} s (last: ${last})`, app.out);
}

async function main() {
  step("a bad configuration exits non-zero naming the variable");
  const bad = run([mainJs], { HTTP_PORT: "abc", DATA_DIR: tempDir() });
  const badCode = await bad.exited;
  if (badCode === 0 || !bad.out.stderr.includes("HTTP_PORT")) {
    fail(`expected a non-zero exit naming HTTP_PORT, got ${badCode}`, bad.out);
  }

  step("dist/cli.js migrate applies prisma/migrations to a fresh database");
  const dataDir = tempDir();
  const migrate = run([cliJs, "migrate"], { DATA_DIR: dataDir });
  if ((await migrate.exited) !== 0) fail("coachrl migrate failed", migrate.out);

  step("local chat: /stats is drawn by the compiled chart worker");
  const typed = "/start\n+1\n1\n2\n/habits add run 30min 5/week\nrun 20\n/stats\n/quit\n";
  const chat = run([mainJs], { DATA_DIR: dataDir, LOG_LEVEL: "info" }, typed);
  if ((await chat.exited) !== 0) fail("the local chat did not exit 0", chat.out);
  const photo = /\[photo saved to ([^\]]+\.png)\]/.exec(chat.out.stdout)?.[1];
  if (!photo) fail("no /stats chart was saved", chat.out);
  const png = readFileSync(photo);
  if (png.subarray(1, 4).toString() !== "PNG") fail(`${photo} is not a PNG`, chat.out);

  step("webhook mode: GET /healthz answers 200, SIGTERM exits 0");
  const api = await startBotApiStub();
  const port = await freePort();
  const app = run([mainJs], {
    DATA_DIR: tempDir(),
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: api.root,
    WEBHOOK_URL: `http://127.0.0.1:${port}/telegram/webhook`,
    WEBHOOK_SECRET: "smoke_test_webhook_secret",
    HTTP_HOST: "127.0.0.1",
    HTTP_PORT: String(port),
  });
  const health = await waitFor200(`http://127.0.0.1:${port}/healthz`, app);
  // the HTTP server answers /healthz before the bot has registered its webhook: wait for the
  // line that says it did (a SIGTERM before it would stop the app too, once started)
  const webhookDeadline = Date.now() + DEADLINE_MS;
  while (!app.out.stdout.includes("bot started (webhook)") && Date.now() < webhookDeadline) {
    if (app.child.exitCode !== null) fail(`the app exited (${app.child.exitCode})`, app.out);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!api.calls.includes("setWebhook")) fail("the app did not set its webhook", app.out);
  if (!app.out.stdout.includes("bot started (webhook)")) fail("the bot did not start", app.out);
  app.child.kill("SIGTERM");
  const code = await app.exited;
  if (code !== 0) fail(`the app exited ${code} on SIGTERM`, app.out);
  console.log(`smoke: passed (healthz ${JSON.stringify(health)}, chart ${png.length} bytes)`);
}

try {
  await main();
} catch (error) {
  console.error(`smoke: FAILED: ${error.message}`);
  process.exitCode = 1;
} finally {
  for (const cleanup of cleanups.reverse()) cleanup();
}
