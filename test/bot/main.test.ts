// The composition root as a process: a bad configuration exits 1 with the message and no stack;
// polling mode answers over the Bot API and stops cleanly on SIGTERM.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type TelegramEmulator } from "../support/telegram-emulator.js";

function start(env: Record<string, string>): {
  child: ChildProcess;
  output: () => { stdout: string; stderr: string };
  exited: Promise<number | null>;
} {
  const base = { ...process.env };
  for (const key of Object.keys(base)) {
    if (/^(TELEGRAM_|WEBHOOK_|DATABASE_URL|ADMIN_|HTTP_)/.test(key)) delete base[key];
  }
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
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
  return { child, output: () => ({ stdout, stderr }), exited };
}

describe("src/main.ts", () => {
  let emulator: TelegramEmulator;
  let dataDir: string;
  beforeAll(async () => {
    emulator = await startEmulator();
    dataDir = mkdtempSync(join(tmpdir(), "coachrl-main-"));
  });
  afterAll(async () => {
    await emulator.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("exits 1 naming every bad variable, without a stack trace", async () => {
    const run = start({ TELEGRAM_BOT_TOKEN: "nope", HTTP_PORT: "99999", DATA_DIR: dataDir });
    expect(await run.exited).toBe(1);
    const { stderr, stdout } = run.output();
    expect(stderr).toContain("TELEGRAM_BOT_TOKEN does not look like a bot token");
    expect(stderr).toContain("HTTP_PORT must be between 0 and 65535");
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stdout).toBe("");
  }, 60_000);

  it("answers over long polling, survives a failed setMyCommands and stops cleanly on SIGTERM", async () => {
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
      await emulator.waitFor(() => emulator.callsOf("getUpdates").length > 0, "polling", 60_000);
      const [reply] = await emulator.ask(901, "/start");
      expect(reply.text).toMatch(/where are you/i);
      await emulator.waitFor(() => emulator.callsOf("setMyCommands").length > 0, "setMyCommands");
      expect(emulator.commands).toBeUndefined();
      const [again] = await emulator.ask(901, "Berlin");
      expect(again.text).toContain("Europe/Berlin");
      run.child.kill("SIGTERM");
      expect(await run.exited).toBe(0);
      const { stdout } = run.output();
      expect(stdout).toContain("could not publish the command menu");
      expect(stdout).toContain("bot started (long polling)");
      expect(stdout).toContain("stopped cleanly");
      expect(stdout).not.toContain(emulator.token);
    } finally {
      run.child.kill("SIGKILL");
    }
  }, 90_000);

  it("explains a token Telegram rejects, without a stack trace", async () => {
    const run = start({
      TELEGRAM_BOT_TOKEN: "123456789:another_token_that_telegram_rejects",
      TELEGRAM_API_ROOT: emulator.apiRoot,
      DATA_DIR: dataDir,
      HTTP_PORT: "0",
      LOG_LEVEL: "silent",
    });
    expect(await run.exited).toBe(1);
    const { stderr } = run.output();
    expect(stderr).toContain("Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized)");
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stderr).not.toContain("another_token_that_telegram_rejects");
  }, 90_000);

  it("without a token opens the local chat on stdin/stdout (what `npm start` does)", async () => {
    const run = start({ DATA_DIR: dataDir, LOG_LEVEL: "info" });
    run.child.stdin!.write("/start\n+1\n1\n2\n/habits add run 30min 5/week\nrun 20\n/quit\n");
    run.child.stdin!.end();
    expect(await run.exited).toBe(0);
    const { stdout, stderr } = run.output();
    expect(stderr).toBe("");
    expect(stdout).toContain("local chat mode");
    expect(stdout).toContain("Time zone set: Etc/GMT-1");
    expect(stdout).toContain("Added run: 30 min, 5×/week");
    expect(stdout).toMatch(/✓ run: 20 min, today/);
    expect(stdout).not.toMatch(/"level":/); // logs go to a file, not into the chat
    expect(readFileSync(join(dataDir, "coachrl.log"), "utf8")).toMatch(
      /"msg":"person started the bot"/,
    );
  }, 90_000);
});
