// The `coachrl` command line as a process: every subcommand it lists answers --help with its
// usage and refuses an unknown flag with exit 2, and neither opens the database or does
// anything else (the data directory stays empty; `migrate --help` used to apply migrations).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dataDirs: string[] = [];
afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

/** An empty DATA_DIR for one test: whatever a command stores lands there. */
function emptyDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "coachrl-cli-args-"));
  dataDirs.push(dir);
  return dir;
}

let dataDir = emptyDataDir();

/** `coachrl …` with the embedded database under the current DATA_DIR. */
function coachrl(...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: "silent" };
  for (const key of Object.keys(env)) {
    if (/^(DATABASE_URL|TELEGRAM_|WEBHOOK_|GOOGLE_)/.test(key)) delete env[key];
  }
  const result = spawnSync(process.execPath, ["bin/coachrl.mjs", ...args], {
    encoding: "utf8",
    env,
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The subcommands `coachrl --help` lists (so that a new one is checked too). */
function subcommands(): string[] {
  const help = coachrl("--help");
  expect(help.code).toBe(0);
  return [...help.stdout.matchAll(/^ {2}([a-z][a-z-]*) {2}/gm)].map((m) => m[1]!);
}

describe("coachrl: --help and unknown flags", () => {
  const commands = subcommands();

  it("lists its subcommands", () => {
    expect(commands).toEqual(
      expect.arrayContaining(["migrate", "import", "train", "eval", "compare"]),
    );
  });

  it.each(commands)(
    "%s --help prints its usage and does nothing else",
    (command) => {
      dataDir = emptyDataDir();
      for (const args of [["--help"], ["-h"], ["--bogus", "--help"]]) {
        const help = coachrl(command, ...args);
        expect([help.code, help.stderr], `${command} ${args.join(" ")}`).toEqual([0, ""]);
        expect(help.stdout).toMatch(new RegExp(`^Usage:\\s+coachrl ${command}\\b`));
      }
      expect(readdirSync(dataDir)).toEqual([]); // no database was opened, nothing was done
    },
    240_000,
  );

  it.each(commands)(
    "%s refuses an unknown flag with exit 2 and its usage",
    (command) => {
      dataDir = emptyDataDir();
      const refused = coachrl(command, "--bogus");
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain("Unknown option '--bogus'");
      expect(refused.stderr).toMatch(new RegExp(`Usage:\\s+coachrl ${command}\\b`));
      expect(refused.stdout).toBe("");
      expect(readdirSync(dataDir)).toEqual([]);
    },
    120_000,
  );

  it("migrate refuses arguments it does not take and contradicting options", () => {
    dataDir = emptyDataDir();
    const extra = coachrl("migrate", "now");
    expect([extra.code, extra.stderr]).toEqual([
      2,
      expect.stringContaining("Unexpected argument 'now'"),
    ]);
    const both = coachrl("migrate", "--status", "--resolve-rolled-back", "x");
    expect([both.code, both.stderr]).toEqual([2, expect.stringContaining("not both")]);
    const missing = coachrl("migrate", "--resolve-rolled-back");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--resolve-rolled-back");
    expect(readdirSync(dataDir)).toEqual([]);
    // and without flags it still migrates
    const applied = coachrl("migrate");
    expect([applied.code, applied.stderr]).toEqual([0, ""]);
    expect(applied.stdout).toMatch(/^applied \d+ migration\(s\)/);
  }, 240_000);

  it("an unknown subcommand is a usage error", () => {
    const unknown = coachrl("migrat");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown command "migrat"');
  }, 60_000);
});
