// The app's worker threads (chart renderer, training runner) start from the module's own
// location, not from the working directory: the app started from another directory draws /stats.
// Messages from a worker reach the app only when they match the worker's schema.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { z } from "zod";
import { CHART_WIDTH_PX, pngSize } from "../../src/app/charts/charts.js";
import { startWorkerThread, WorkerMessageError } from "../../src/app/worker-thread.js";

const mainTs = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), "coachrl-cwd-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

it("draws the /stats chart when the app is started from another working directory", async () => {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(TELEGRAM_|WEBHOOK_|DATABASE_URL|ADMIN_|HTTP_)/.test(key)) delete env[key];
  }
  // tsx by absolute URL: from the temporary directory the bare name "tsx" resolves to nothing
  const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), mainTs], {
    cwd: dataDir,
    env: { ...env, DATA_DIR: dataDir, LOG_LEVEL: "info", RETRAIN_CRON: "off" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  child.stdin.end("/start\n+1\n1\n2\n/habits add run 30min 5/week\nrun 20\n/stats\n/quit\n");

  expect(await exited, `${stdout}\n${stderr}`).toBe(0);
  expect(stdout).not.toContain("Cannot find package");
  const photos = [...stdout.matchAll(/\[photo saved to ([^\]]+\.png)\]/g)].map((m) => m[1]!);
  expect(photos, stdout).toHaveLength(1);
  expect(pngSize(readFileSync(photos[0]))?.width).toBe(CHART_WIDTH_PX);
}, 90_000);

it("delivers the messages that match the schema and fails the worker on the first that does not", async () => {
  const received: number[] = [];
  const worker = startWorkerThread(new URL("./fixtures/echo-worker.js", import.meta.url), {
    workerData: [{ count: 1 }, { count: 2 }, { count: "three" }, { count: 4 }],
    messages: z.object({ count: z.number() }),
    onMessage: (message) => received.push(message.count),
  });
  const error = await new Promise<Error>((resolve) => worker.once("error", resolve));
  expect(error).toBeInstanceOf(WorkerMessageError);
  expect(error.message).toMatch(/echo-worker\.js.*count/s);
  await new Promise((resolve) => worker.once("exit", resolve));
  expect(received).toEqual([1, 2]);
});
