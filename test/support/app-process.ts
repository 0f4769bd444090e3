// The app as a child process (`node --import tsx src/main.ts`), for tests that need the real
// process: kill -9, restarts, a database reset under it. Every wait is for an event with a
// generous deadline (a loaded machine is slow, not failing); a missed one fails with the output.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Database, openPglite, openPostgres } from "../../src/db/client.js";
import { createEmptyPostgresDatabase, onRealPostgres } from "./database.js";

/** How long one step of a child process may take (start-up on a loaded machine included). */
export const PROCESS_DEADLINE_MS = 180_000;

export interface AppProcess {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  exited: Promise<number | null>;
  /** The JSON log lines written so far. */
  logLines(): Record<string, unknown>[];
  /** Resolves once the process logged a line containing `text`; fails if it exits first. */
  waitForLog(text: string, timeoutMs?: number): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `nodeArgs` go before the entry point (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
export function startApp(env: Record<string, string>, nodeArgs: string[] = []): AppProcess {
  const base = { ...process.env };
  for (const key of Object.keys(base)) {
    if (/^(TELEGRAM_|WEBHOOK_|DATABASE_URL|ADMIN_|HTTP_|npm_)/.test(key)) delete base[key];
  }
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", "src/main.ts"], {
    cwd: process.cwd(),
    env: { ...base, LOG_FORMAT: "json", RETRAIN_CRON: "off", ...env },
    stdio: ["pipe", "pipe", "pipe"],
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
  const output = () => ({ stdout, stderr });
  return {
    child,
    output,
    exited,
    logLines: () =>
      stdout
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    async waitForLog(text, timeoutMs = PROCESS_DEADLINE_MS) {
      const deadline = Date.now() + timeoutMs;
      while (!stdout.includes(text)) {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`the process exited before logging "${text}":\n${stdout}\n${stderr}`);
        }
        if (Date.now() > deadline) throw new Error(`timed out waiting for "${text}":\n${stdout}`);
        await sleep(50);
      }
    },
  };
}

/** Ends the process with SIGKILL (no chance to finish anything) and waits for it. */
export async function killHard(app: AppProcess): Promise<void> {
  if (app.child.exitCode === null && app.child.signalCode === null) app.child.kill("SIGKILL");
  await app.exited;
}

/**
 * A fresh database for app processes: a new Postgres database on TEST_DATABASE_URL's server when
 * that is set (dropped afterwards), an embedded PGlite under a temporary DATA_DIR otherwise.
 */
export async function processDatabase(): Promise<{
  env: Record<string, string>;
  /** the Postgres URL (undefined on PGlite) */
  url: string | undefined;
  /** opens the database the process used (PGlite: only after it exited) */
  open(): Promise<Database>;
  dispose(): Promise<void>;
}> {
  const dataDir = mkdtempSync(join(tmpdir(), "coachrl-process-"));
  const removeDir = () => rmSync(dataDir, { recursive: true, force: true });
  if (onRealPostgres) {
    const empty = await createEmptyPostgresDatabase();
    return {
      env: { DATABASE_URL: empty.url, DATA_DIR: dataDir },
      url: empty.url,
      open: async () => openPostgres({ url: empty.url, poolSize: 2, acquireTimeoutMs: 30_000 }),
      async dispose() {
        await empty.drop();
        removeDir();
      },
    };
  }
  return {
    env: { DATA_DIR: dataDir },
    url: undefined,
    open: () => openPglite(dataDir),
    dispose: async () => removeDir(),
  };
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A plan time ("HH:MM", UTC) six hours from `now`: a real process runs on the real clock, and
 * the morning plan is pushed from the plan time until five hours after it (PLAN_CUT_OFF_MS), so
 * with this one no push falls within the next hour. With a fixed 07:30 a test run between 07:30
 * and 12:30 UTC got "Good morning! Plan for …" among the replies it counted.
 */
export const DEFAULT_DAY_START_HOUR = 4;
export function planTimeAwayFromNow(now: Date = new Date()): string {
  // and at or after the default day start (04:00): an earlier time is refused as yesterday's
  // plan, so between 18:00 and 22:00 UTC take the time six hours ago (its pushes ended an hour ago)
  let at = new Date(now.getTime() + 6 * 3_600_000);
  if (at.getUTCHours() < DEFAULT_DAY_START_HOUR) at = new Date(now.getTime() - 6 * 3_600_000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}`;
}
