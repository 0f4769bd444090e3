// The composition root as a process: a bad configuration exits 1 with the message and no stack;
// polling mode answers over the Bot API and stops cleanly on SIGTERM, finishing an update that is
// in flight; webhook mode registers its secret, answers updates POSTed with it, refuses others;
// `npm start` hands SIGTERM and SIGINT to the app, which stops cleanly and leaves no process.
//
// Every wait for the child process is for an event (a log line, an API call, the exit) with a
// generous deadline, so that a loaded CI machine is slow but not failing; a missed deadline
// fails with what was awaited and the process's output.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CHART_WIDTH_PX, pngSize } from "../../src/app/charts/charts.js";
import { type Database, openPglite, openPostgres } from "../../src/db/client.js";
import { FakeSheets } from "../sheets/fake-sheets.js";
import { SERVICE_ACCOUNT, testKeyPair } from "../sheets/helpers.js";
import { planTimeAwayFromNow } from "../support/app-process.js";
import { createEmptyPostgresDatabase, onRealPostgres } from "../support/database.js";
import {
  type HeldCall,
  startEmulator,
  type TelegramEmulator,
} from "../support/telegram-emulator.js";

/** How long any one step of a child process may take (start-up on a loaded machine included). */
const DEADLINE_MS = 180_000;
/** A test's own limit: several steps, each failing on its own deadline first. */
const TEST_TIMEOUT_MS = 3 * DEADLINE_MS;

/**
 * Starts the app as `node --import tsx src/main.ts`, or as `npm start` (in its own process group,
 * like a terminal's foreground job, so that a test can signal the group as Ctrl-C does).
 */
function start(
  env: Record<string, string>,
  options: { via?: "node" | "npm start" } = {},
): {
  child: ChildProcess;
  output: () => { stdout: string; stderr: string };
  exited: Promise<number | null>;
} {
  const base = { ...process.env };
  for (const key of Object.keys(base)) {
    if (/^(TELEGRAM_|WEBHOOK_|DATABASE_URL|ADMIN_|HTTP_|npm_)/.test(key)) delete base[key];
  }
  const [command, args] =
    options.via === "npm start"
      ? ["npm", ["start", "--silent"]]
      : [process.execPath, ["--import", "tsx", "src/main.ts"]];
  const child = spawn(command, args, {
    cwd: process.cwd(),
    env: { ...base, LOG_FORMAT: "json", RETRAIN_CRON: "off", ...env },
    stdio: ["pipe", "pipe", "pipe"],
    detached: options.via === "npm start",
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr!.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  return { child, output: () => ({ stdout, stderr }), exited };
}

type Run = ReturnType<typeof start>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`'s value; fails naming `what` with the process's output after the deadline. */
async function within<T>(
  run: Run,
  what: string,
  promise: Promise<T>,
  timeoutMs = DEADLINE_MS,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const { stdout, stderr } = run.output();
      reject(
        new Error(`timed out after ${timeoutMs} ms waiting for ${what}:\n${stdout}\n${stderr}`),
      );
    }, timeoutMs);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The exit code; fails with the output when the process outlives the deadline. */
const exitOf = (run: Run, timeoutMs = DEADLINE_MS) =>
  within(run, "the process to exit", run.exited, timeoutMs);

/** Whether a process with this id exists (a zombie not yet reaped counts). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw error;
  }
}

/** Resolves once the process has logged `text`; fails early if it exits first. */
async function waitForLog(run: Run, text: string, timeoutMs = DEADLINE_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!run.output().stdout.includes(text)) {
    const { stdout, stderr } = run.output();
    if (run.child.exitCode !== null || run.child.signalCode !== null) {
      throw new Error(`the process exited before logging "${text}":\n${stdout}\n${stderr}`);
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for "${text}":\n${stdout}`);
    await sleep(50);
  }
}

/** The JSON log lines the process wrote to stdout. */
/** The process exited with code 0 (else its output is shown), "stopped cleanly" last, no error logged. */
async function expectStoppedCleanly(run: Run): Promise<void> {
  const code = await exitOf(run);
  const { stdout, stderr } = run.output();
  expect(code, `exit code; stdout:\n${stdout}\nstderr:\n${stderr}`).toBe(0);
  const lines = logLines(run);
  expect(lines.at(-1)).toMatchObject({ msg: "stopped cleanly" });
  expect(lines.filter((l) => Number(l.level) >= 50)).toEqual([]);
}

function logLines(run: Run): Record<string, unknown>[] {
  return run
    .output()
    .stdout.split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * A fresh database for one process: a new Postgres database on TEST_DATABASE_URL's server when
 * that is set (dropped afterwards), an embedded PGlite under a temporary DATA_DIR otherwise.
 */
async function processDatabase(): Promise<{
  env: Record<string, string>;
  /** opens the database the process used (after it exited: PGlite allows one process) */
  open(): Promise<Database>;
  dispose(): Promise<void>;
}> {
  const dataDir = mkdtempSync(join(tmpdir(), "coachrl-process-"));
  const removeDir = () => rmSync(dataDir, { recursive: true, force: true });
  if (onRealPostgres) {
    const empty = await createEmptyPostgresDatabase();
    return {
      env: { DATABASE_URL: empty.url, DATA_DIR: dataDir },
      open: async () => openPostgres({ url: empty.url, poolSize: 2, acquireTimeoutMs: 30_000 }),
      async dispose() {
        await empty.drop();
        removeDir();
      },
    };
  }
  return {
    env: { DATA_DIR: dataDir },
    open: () => openPglite(dataDir),
    dispose: async () => removeDir(),
  };
}

/** A TCP port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** /start → time zone → plan time → own habits → one habit, through the emulator. */
async function onboardOverHttp(emulator: TelegramEmulator, userId: number): Promise<void> {
  await emulator.ask(userId, "/start");
  await emulator.ask(userId, "UTC");
  // typed, away from now: no morning plan is pushed while the test counts replies
  const [habitsQuestion] = await emulator.ask(userId, planTimeAwayFromNow());
  await emulator.tap(userId, habitsQuestion, "I'll add my own", 1);
  const [added] = await emulator.ask(userId, "/habits add run 30min 5/week");
  expect(added.text).toContain("Added run");
}

describe("src/main.ts", () => {
  let emulator: TelegramEmulator;
  let dataDir: string;
  beforeAll(async () => {
    emulator = await startEmulator({ timeoutMs: DEADLINE_MS });
    dataDir = mkdtempSync(join(tmpdir(), "coachrl-main-"));
  });
  afterAll(async () => {
    await emulator.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(
    "exits 1 naming every bad variable, without a stack trace",
    async () => {
      const run = start({
        TELEGRAM_BOT_TOKEN: "nope",
        HTTP_PORT: "99999",
        DATA_DIR: dataDir,
        // five fields, but no night matches: it used to start and never retrain anyone
        RETRAIN_CRON: "99 99 * * *",
        // Telegram delivers webhooks only over https: it used to start and never get an update
        WEBHOOK_URL: "http://coach.example.com/telegram/hook",
        WEBHOOK_SECRET: "process_webhook_secret_0123456789",
      });
      expect(await exitOf(run)).toBe(1);
      const { stderr, stdout } = run.output();
      expect(stderr).toContain("TELEGRAM_BOT_TOKEN does not look like a bot token");
      expect(stderr).toContain("HTTP_PORT must be between 0 and 65535");
      expect(stderr).toContain(
        "RETRAIN_CRON is not a schedule the scheduler accepts (Constraint error, got value 99 expected range 0-59)",
      );
      expect(stderr).toContain("WEBHOOK_URL must be an https URL");
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(stdout).toBe("");
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "answers over long polling, survives a failed setMyCommands and stops cleanly on SIGTERM",
    async () => {
      // publishing the command menu fails: logged, never fatal (success is tested in reliability)
      emulator.failNext("setMyCommands", { code: 500, description: "Internal Server Error" });
      const run = start({
        TELEGRAM_BOT_TOKEN: emulator.token,
        TELEGRAM_API_ROOT: emulator.apiRoot,
        DATA_DIR: dataDir,
        HTTP_PORT: "0",
        LOG_LEVEL: "info",
      });
      try {
        await emulator.waitFor(
          () => emulator.callsOf("getUpdates").length > 0,
          "polling",
          DEADLINE_MS,
        );
        const [reply] = await emulator.ask(901, "/start");
        expect(reply.text).toMatch(/where are you/i);
        await emulator.waitFor(() => emulator.callsOf("setMyCommands").length > 0, "setMyCommands");
        expect(emulator.commands).toBeUndefined();
        const [again] = await emulator.ask(901, "Berlin");
        expect(again.text).toContain("Europe/Berlin");
        run.child.kill("SIGTERM");
        expect(await exitOf(run)).toBe(0);
        const { stdout } = run.output();
        expect(stdout).toContain("could not publish the command menu");
        expect(stdout).toContain("bot started (long polling)");
        expect(stdout).toContain("stopped cleanly");
        expect(stdout).not.toContain(emulator.token);
        // the TensorFlow.js backend chosen at start is logged (no tfjs-node here: wasm or cpu)
        const backend = logLines(run).find((line) =>
          String(line.msg).startsWith("tensorflow backend"),
        );
        expect(backend).toMatchObject({ forced: false });
        expect(["node", "wasm", "cpu"]).toContain(backend?.backend);
      } finally {
        run.child.kill("SIGKILL");
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "explains a token Telegram rejects, without a stack trace",
    async () => {
      const run = start({
        TELEGRAM_BOT_TOKEN: "123456789:another_token_that_telegram_rejects",
        TELEGRAM_API_ROOT: emulator.apiRoot,
        DATA_DIR: dataDir,
        HTTP_PORT: "0",
        LOG_LEVEL: "silent",
      });
      expect(await exitOf(run)).toBe(1);
      const { stderr } = run.output();
      expect(stderr).toContain("Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized)");
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(stderr).not.toContain("another_token_that_telegram_rejects");
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "without a token opens the local chat on stdin/stdout (what `npm start` does)",
    async () => {
      const run = start({ DATA_DIR: dataDir, LOG_LEVEL: "info" });
      run.child.stdin!.write(
        "/start\n+1\n1\n2\n/habits add run 30min 5/week\nrun 20\n/stats\n/weight 72.4\n/weight\n/quit\n",
      );
      run.child.stdin!.end();
      expect(await exitOf(run)).toBe(0);
      const { stdout, stderr } = run.output();
      expect(stderr).toBe("");
      expect(stdout).toContain("local chat mode");
      expect(stdout).toContain("Time zone: Etc/GMT-1");
      expect(stdout).toContain("Added run: 30 min, 5×/week");
      expect(stdout).toMatch(/✓ run: 20 min, today/);
      // charts are drawn by the app's chart worker thread and saved as PNG files
      const photos = [...stdout.matchAll(/\[photo saved to ([^\]]+\.png)\]/g)].map((m) => m[1]!);
      expect(photos).toHaveLength(2);
      for (const file of photos) expect(pngSize(readFileSync(file))?.width).toBe(CHART_WIDTH_PX);
      expect(stdout).not.toMatch(/"level":/); // logs go to a file, not into the chat
      expect(readFileSync(join(dataDir, "coachrl.log"), "utf8")).toMatch(
        /"msg":"person started the bot"/,
      );
    },
    TEST_TIMEOUT_MS,
  );
});

describe("src/main.ts: shutdown and webhook mode (own emulator and database per test)", () => {
  let emulator: TelegramEmulator | undefined;
  let database: Awaited<ReturnType<typeof processDatabase>> | undefined;
  let run: Run | undefined;
  let npmGroup: number | undefined;
  afterEach(async () => {
    if (npmGroup !== undefined) {
      // `npm start` and the app it started (a process group): nothing may outlive the test
      try {
        process.kill(-npmGroup, "SIGKILL");
      } catch {
        // already gone
      }
      npmGroup = undefined;
    }
    if (run && run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill("SIGKILL");
      await run.exited;
    }
    run = undefined;
    await emulator?.close();
    emulator = undefined;
    await database?.dispose();
    database = undefined;
  });

  /** A polling app on its own emulator and fresh database (both cleaned up after the test). */
  async function startPollingApp(
    options: {
      via?: "node" | "npm start";
      beforeStart?: (emulator: TelegramEmulator) => void;
    } = {},
  ): Promise<{
    current: Run;
    emulator: TelegramEmulator;
    database: Awaited<ReturnType<typeof processDatabase>>;
  }> {
    emulator = await startEmulator({ timeoutMs: DEADLINE_MS });
    options.beforeStart?.(emulator);
    database = await processDatabase();
    run = start(
      {
        TELEGRAM_BOT_TOKEN: emulator.token,
        TELEGRAM_API_ROOT: emulator.apiRoot,
        HTTP_PORT: "0",
        LOG_LEVEL: "info",
        ...database.env,
      },
      options,
    );
    return { current: run, emulator, database };
  }

  // A process manager or container runtime signals the process it started: `npm start`. npm
  // passes SIGTERM and SIGINT to its script, whose shell must not stand in between (it would die
  // and leave the app polling as an orphan, and the next instance would get 409 Conflict). A
  // terminal's Ctrl-C signals npm and the app at once, so the app gets SIGINT twice.
  it.each([
    ["SIGTERM to npm", "SIGTERM", "npm"],
    ["SIGINT to npm", "SIGINT", "npm"],
    ["Ctrl-C (SIGINT to npm and the app)", "SIGINT", "group"],
  ] as const)(
    "`npm start` passes on %s: the app stops cleanly within 10 s and no process is left",
    async (_, signal, to) => {
      const { current, emulator } = await startPollingApp({ via: "npm start" });
      npmGroup = current.child.pid;
      await waitForLog(current, "bot started (long polling)");
      const [welcome] = await emulator.ask(951, "/start");
      expect(welcome.text).toMatch(/where are you/i);
      const appPid = Number(
        logLines(current).find((l) => l.msg === "bot started (long polling)")?.pid,
      );
      expect(alive(appPid)).toBe(true);

      process.kill(to === "group" ? -current.child.pid! : current.child.pid!, signal);
      if (to === "group") {
        // the copy npm passes on (or a second Ctrl-C) arrives while the app is stopping
        await waitForLog(current, "shutting down");
        try {
          process.kill(appPid, signal);
        } catch {
          // already stopped
        }
      }
      await waitForLog(current, "stopped cleanly");
      await exitOf(current);
      // the app was npm's child: once npm has ended, it is gone too (reaped, not orphaned)
      const deadline = Date.now() + 30_000;
      while (alive(appPid) && Date.now() < deadline) await sleep(50);
      expect(alive(appPid), `the app (pid ${appPid}) outlived npm start`).toBe(false);

      const lines = logLines(current);
      const stopping = lines.filter((l) => l.msg === "shutting down: finishing in-flight updates");
      expect(stopping).toEqual([expect.objectContaining({ signal, pid: appPid })]);
      const stopped = lines.at(-1)!;
      expect(stopped).toMatchObject({ msg: "stopped cleanly", pid: appPid });
      // the documented order took under 10 s by the app's own clock (a loaded machine may delay
      // the signal's delivery and the test's polling, not this)
      expect(Number(stopped.time) - Number(stopping[0]!.time)).toBeLessThan(10_000);
      expect(lines.filter((l) => Number(l.level) >= 50)).toEqual([]);
      // polling ended: no long poll is open any more, so the next instance gets no 409
      const polls = emulator.callsOf("getUpdates").length;
      await sleep(1_000);
      expect(emulator.callsOf("getUpdates")).toHaveLength(polls);
    },
    TEST_TIMEOUT_MS,
  );

  // A process manager may stop the app while it is still starting (a rolling restart, a crash
  // loop's back-off). Default signal handling would kill it half-way (exit by signal, not 0).
  it.each([
    ["while migrating", "applied migration"],
    ["once the HTTP server listens", "http server listening"],
    ["right after the bot started", "bot started (long polling)"],
  ])(
    "a SIGTERM %s stops the app cleanly with exit code 0",
    async (_, line) => {
      const { current, emulator } = await startPollingApp();
      await waitForLog(current, line);
      current.child.kill("SIGTERM");
      await expectStoppedCleanly(current);
      // stopped for good: no long poll is left open for the next instance
      const polls = emulator.callsOf("getUpdates").length;
      await sleep(500);
      expect(emulator.callsOf("getUpdates")).toHaveLength(polls);
    },
    TEST_TIMEOUT_MS,
  );

  // telegraf's launch() sets up its polling only once Telegram has answered deleteWebhook, after
  // the bot is started (getMe); a SIGTERM in that gap made telegraf's stop() throw "Bot is not
  // running!" and the process crash with exit code 1 (seen on a loaded machine in the test above).
  it(
    "a SIGTERM while long polling is being set up (deleteWebhook unanswered) stops the app cleanly with exit code 0 and no poll",
    async () => {
      let held: HeldCall | undefined;
      const { current, emulator } = await startPollingApp({
        beforeStart: (e) => {
          held = e.holdNext("deleteWebhook");
        },
      });
      await within(current, "the held deleteWebhook", held!.arrived);
      current.child.kill("SIGTERM");
      await waitForLog(current, "shutting down: finishing in-flight updates");
      await held!.release();
      await expectStoppedCleanly(current);
      expect(current.output().stderr).toBe("");
      // stopped before it polled: no long poll was left open for the next instance
      expect(emulator.callsOf("getUpdates").filter((c) => c.payload.timeout !== undefined)).toEqual(
        [],
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "on SIGTERM stops polling, finishes the update in flight, closes the database and exits 0",
    async () => {
      const { current, emulator, database } = await startPollingApp();
      await emulator.waitFor(
        () => emulator!.callsOf("getUpdates").length > 0,
        "polling",
        DEADLINE_MS,
      );
      await onboardOverHttp(emulator, 911);

      // Telegram is slow to accept the reply: the update stays in flight until we release it.
      const held = emulator.holdNext("sendMessage");
      const update = emulator.sendText(911, "run 30");
      await within(current, "the held sendMessage", held.arrived);
      current.child.kill("SIGTERM");
      await waitForLog(current, "shutting down: finishing in-flight updates");
      // A shutdown that did not wait would exit now; a correct one waits however long it takes.
      await sleep(1_500);
      expect(current.child.exitCode).toBeNull();
      expect(current.child.signalCode).toBeNull();
      const pollsBeforeRelease = emulator.callsOf("getUpdates").length;

      // the bot is still connected and receives Telegram's answer, then the process ends cleanly
      expect(await held.release()).toBe(true);
      expect(await exitOf(current)).toBe(0);
      expect(emulator.lastBotMessage(911).text).toMatch(/✓ run: 30 min, today/);
      // polling stopped: after the batch only the offset was confirmed (no new long poll), so
      // Telegram will not deliver the update again
      const later = emulator.callsOf("getUpdates").slice(pollsBeforeRelease);
      expect(later.every((c) => c.payload.timeout === undefined)).toBe(true);
      await emulator.waitForProcessed(update.update_id, 1_000);

      const lines = logLines(current);
      const messages = lines.map((l) => l.msg);
      expect(messages).toContain("bot started (long polling)");
      expect(messages.at(-1)).toBe("stopped cleanly");
      expect(lines.filter((l) => Number(l.level) >= 50)).toEqual([]); // nothing failed on the way
      expect(current.output().stderr).toBe("");

      // the database was closed cleanly (PGlite reopens) and holds the entry and the update id
      const db = await database.open();
      try {
        const user = await db.prisma.user.findUniqueOrThrow({ where: { telegramId: 911n } });
        const entries = await db.prisma.habitEntry.findMany({ where: { userId: user.id } });
        expect(entries.map((e) => e.amount)).toEqual([30]);
        expect(
          await db.prisma.processedUpdate.count({ where: { updateId: BigInt(update.update_id) } }),
        ).toBe(1);
      } finally {
        await db.close();
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "in webhook mode sets the webhook with the secret, answers POSTs carrying it, refuses others with 403, and exits 0 on SIGTERM",
    async () => {
      emulator = await startEmulator({ timeoutMs: DEADLINE_MS });
      database = await processDatabase();
      const secret = "process_webhook_secret_0123456789";
      const webhookUrl = "https://coach.example.com/telegram/hook";
      const port = await freePort();
      const current = start({
        TELEGRAM_BOT_TOKEN: emulator.token,
        TELEGRAM_API_ROOT: emulator.apiRoot,
        WEBHOOK_URL: webhookUrl,
        WEBHOOK_SECRET: secret,
        HTTP_HOST: "127.0.0.1",
        HTTP_PORT: String(port),
        LOG_LEVEL: "info",
        ...database.env,
      });
      run = current;
      await waitForLog(current, "bot started (webhook)");
      expect(emulator.webhook).toEqual({ url: webhookUrl, secretToken: secret });
      const [setWebhook] = emulator.callsOf("setWebhook");
      expect(setWebhook.payload.secret_token).toBe(secret);
      expect(emulator.callsOf("getUpdates")).toHaveLength(0); // webhook mode does not poll
      const listening = logLines(current).find((l) => l.msg === "http server listening");
      expect(listening?.port).toBe(port);
      const hook = `http://127.0.0.1:${port}/telegram/hook`;

      // an update POSTed with the right secret is handled before the 200; the bot replies
      const post = (update: Record<string, unknown>, headers: Record<string, string>) =>
        fetch(hook, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify(update),
        });
      const startUpdate = (updateId: number, userId: number) => ({
        update_id: updateId,
        message: {
          message_id: updateId,
          date: Math.floor(Date.now() / 1000),
          chat: { id: userId, type: "private", first_name: `User${userId}` },
          from: { id: userId, is_bot: false, first_name: `User${userId}` },
          text: "/start",
          entities: [{ type: "bot_command", offset: 0, length: 6 }],
        },
      });
      const accepted = await post(startUpdate(70_001, 921), {
        "x-telegram-bot-api-secret-token": secret,
      });
      expect(accepted.status).toBe(200);
      expect(emulator.lastBotMessage(921).text).toMatch(/where are you/i);

      // a wrong or missing secret: 403, and nothing is processed
      const wrongSecrets: Record<string, string>[] = [
        { "x-telegram-bot-api-secret-token": "wrong_secret_wrong_secret_wrong_12" },
        {},
      ];
      for (const headers of wrongSecrets) {
        const refused = await post(startUpdate(70_002, 922), headers);
        expect(refused.status).toBe(403);
      }

      // Telegram's own delivery (through the "proxy" to the local port) carries the secret too
      emulator.forwardWebhookTo(`http://127.0.0.1:${port}`);
      const [timezone] = await emulator.ask(921, "Berlin");
      expect(timezone.text).toContain("Europe/Berlin");
      expect(emulator.webhookResponses.at(-1)?.status).toBe(200);

      // Telegram keeps its connections to the webhook open. An update in flight when SIGTERM
      // arrives is finished and answered; one sent after that on the same connection is not
      // taken (Telegram delivers it again later, to the next instance).
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const postOnAgent = (update: Record<string, unknown>) =>
          new Promise<number | string>((resolve) => {
            const req = httpRequest(
              hook,
              {
                method: "POST",
                agent,
                headers: {
                  "content-type": "application/json",
                  "x-telegram-bot-api-secret-token": secret,
                },
              },
              (res) => {
                res.resume();
                res.on("end", () => resolve(res.statusCode ?? 0));
              },
            );
            req.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
            req.end(JSON.stringify(update));
          });
        const helpUpdate = (updateId: number) => ({
          ...startUpdate(updateId, 921),
          message: { ...startUpdate(updateId, 921).message, text: "/help", entities: [] },
        });
        const repliesBefore = emulator.botMessages(921).length;
        const held = emulator.holdNext("sendMessage");
        const inFlight = postOnAgent(helpUpdate(70_003));
        await within(current, "the held sendMessage", held.arrived);
        current.child.kill("SIGTERM");
        await waitForLog(current, "shutting down: finishing in-flight updates");
        await sleep(1_500); // time for a shutdown that does not wait to exit (a correct one waits)
        expect(current.child.exitCode).toBeNull();
        // a new request while shutting down: refused, so that Telegram delivers it again later
        const refused = await post(helpUpdate(70_005), {
          "x-telegram-bot-api-secret-token": secret,
        });
        expect(refused.status).toBe(503);
        const afterSigterm = postOnAgent(helpUpdate(70_004)); // queued for the same connection
        expect(await held.release()).toBe(true);
        expect(await inFlight).toBe(200);
        expect(await afterSigterm).not.toBe(200);
        expect(await exitOf(current)).toBe(0);
        expect(emulator.botMessages(921)).toHaveLength(repliesBefore + 1); // /help answered once
      } finally {
        agent.destroy();
      }
      const messages = logLines(current).map((l) => l.msg);
      expect(messages).toContain("webhook request with a wrong secret token; refused");
      expect(messages.at(-1)).toBe("stopped cleanly");
      expect(emulator.botMessages(922)).toHaveLength(0);

      const db = await database.open();
      try {
        expect(await db.prisma.user.count({ where: { telegramId: 921n } })).toBe(1);
        expect(await db.prisma.user.count({ where: { telegramId: 922n } })).toBe(0);
        expect(await db.prisma.processedUpdate.count({ where: { updateId: 70_001n } })).toBe(1);
        expect(await db.prisma.processedUpdate.count({ where: { updateId: 70_002n } })).toBe(0);
        expect(await db.prisma.processedUpdate.count({ where: { updateId: 70_003n } })).toBe(1);
        expect(await db.prisma.processedUpdate.count({ where: { updateId: 70_004n } })).toBe(0);
        expect(await db.prisma.processedUpdate.count({ where: { updateId: 70_005n } })).toBe(0);
      } finally {
        await db.close();
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "mirrors a person's data to their linked Google Sheet (the app's mirror, against a local Sheets API)",
    async () => {
      const keys = testKeyPair();
      const sheets = await new FakeSheets({
        serviceAccount: SERVICE_ACCOUNT,
        publicKey: keys.publicKey,
      }).start();
      const sheetId = "1MirrorTestSheet_abcdefghijklmnopqrstuvwxyz012";
      sheets.create(sheetId);
      try {
        emulator = await startEmulator({ timeoutMs: DEADLINE_MS });
        database = await processDatabase();
        const env = {
          TELEGRAM_BOT_TOKEN: emulator.token,
          TELEGRAM_API_ROOT: emulator.apiRoot,
          HTTP_PORT: "0",
          LOG_LEVEL: "info",
          GOOGLE_CLIENT_EMAIL: SERVICE_ACCOUNT,
          GOOGLE_PRIVATE_KEY: keys.privateKey.replace(/\n/g, "\\n"),
          SHEETS_API_ROOT: sheets.url,
          ...database.env,
        };
        run = start(env);
        await emulator.waitFor(
          () => emulator!.callsOf("getUpdates").length > 0,
          "polling",
          DEADLINE_MS,
        );
        await onboardOverHttp(emulator, 921);
        const [linked] = await emulator.ask(
          921,
          `/settings sheet https://docs.google.com/spreadsheets/d/${sheetId}/edit`,
        );
        expect(linked.text).toContain(`Share it with ${SERVICE_ACCOUNT} (Editor)`);
        const [logged] = await emulator.ask(921, "run 30");
        expect(logged.text).toMatch(/✓ run: 30 min/);
        // the mirror ticks every minute and once at start: a restart mirrors at once
        run.child.kill("SIGTERM");
        expect(await exitOf(run)).toBe(0);
        run = start(env);
        const deadline = Date.now() + DEADLINE_MS;
        while (!(sheets.rows(sheetId, "Entries")?.length ?? 0)) {
          if (Date.now() > deadline) throw new Error(`nothing mirrored:\n${run.output().stdout}`);
          await sleep(100);
        }
        const entries = sheets.rows(sheetId, "Entries")!;
        expect(entries[0]).toContain("habit");
        expect(entries.slice(1).map((row) => [row[2], row[3]])).toEqual([["run", 30]]);
        expect(sheets.tabTitles(sheetId)).toEqual(
          expect.arrayContaining(["Habits", "Entries", "Daily", "Plans", "Metrics", "Coach"]),
        );
        run.child.kill("SIGTERM");
        expect(await exitOf(run)).toBe(0);
        // the service account's key never reaches the logs
        expect(run.output().stdout).not.toContain(keys.privateKey.split("\n")[1]);
      } finally {
        await sheets.close();
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "takes body weight on POST /ingest/weight with the token from /settings token",
    async () => {
      emulator = await startEmulator({ timeoutMs: DEADLINE_MS });
      database = await processDatabase();
      const port = await freePort();
      run = start({
        TELEGRAM_BOT_TOKEN: emulator.token,
        TELEGRAM_API_ROOT: emulator.apiRoot,
        HTTP_PORT: String(port),
        LOG_LEVEL: "info",
        ...database.env,
      });
      await emulator.waitFor(
        () => emulator!.callsOf("getUpdates").length > 0,
        "polling",
        DEADLINE_MS,
      );
      await onboardOverHttp(emulator, 931);
      const [tokenReply] = await emulator.ask(931, "/settings token");
      const token = /crl_[A-Za-z0-9_-]{43}/.exec(tokenReply.text ?? "")?.[0];
      expect(token).toBeDefined();
      const post = (auth: string) =>
        fetch(`http://127.0.0.1:${port}/ingest/weight`, {
          method: "POST",
          headers: { authorization: auth, "content-type": "application/json" },
          body: JSON.stringify({ weight: 72.4, unit: "kg", measuredAt: "2026-11-21T07:10:00Z" }),
        });
      const first = await post(`Bearer ${token}`);
      expect(first.status).toBe(200);
      expect(await first.json()).toMatchObject({ stored: 1, duplicates: 0 });
      const again = await post(`Bearer ${token}`);
      expect(await again.json()).toMatchObject({ stored: 0, duplicates: 1 });
      const wrong = await post("Bearer crl_wrongwrongwrongwrongwrongwrongwrongwrongwro");
      expect(wrong.status).toBe(401);
      const [trend] = await emulator.ask(931, "/weight");
      expect(trend.caption ?? trend.text).toContain("72.4 kg");
      run.child.kill("SIGTERM");
      expect(await exitOf(run)).toBe(0);
      expect(run.output().stdout).not.toContain(token!);
    },
    TEST_TIMEOUT_MS,
  );
});
