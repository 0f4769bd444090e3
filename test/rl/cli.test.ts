import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { run as compare } from "../../src/cli/compare.js";
import { run as evaluate } from "../../src/cli/eval.js";
import { run as train } from "../../src/cli/train.js";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    out.push(args.join(" "));
  });
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
    err.push(args.join(" "));
  });
  vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  return { out, err };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("coachrl train / eval / compare", () => {
  it("trains, saves a checkpoint, and evaluates and compares it", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "coachrl-cli-"));
    const file = path.join(dir, "steady.crlp");
    let io = capture();
    const code = await train([
      "--persona",
      "personas/steady.json",
      "--steps",
      "2048",
      "--envs",
      "16",
      "--out",
      file,
      "--eval-episodes",
      "4",
      "--json",
    ]);
    expect(io.err).toEqual([]);
    expect(code).toBe(0);
    const summary = JSON.parse(io.out.join("\n"));
    expect(summary).toMatchObject({
      persona: "steady",
      checkpoint: file,
      training: { steps: 2048 },
    });
    expect(readFileSync(file).subarray(0, 4).toString()).toBe("CRLP");
    vi.restoreAllMocks();

    io = capture();
    expect(
      await evaluate([
        "--persona",
        "personas/steady.json",
        "--policy",
        file,
        "--episodes",
        "4",
        "--days",
        "30",
        "--json",
      ]),
    ).toBe(0);
    const result = JSON.parse(io.out.join("\n"));
    expect(result.episodes).toBe(4);
    expect(result.meanReward).toBeGreaterThan(-5);
    expect(Object.keys(result.meanEmaByHabit)).toHaveLength(5);
    vi.restoreAllMocks();

    io = capture();
    expect(
      await compare([
        "--persona",
        "personas/steady.json",
        "--policies",
        `heuristic,random,${file}`,
        "--episodes",
        "4",
        "--days",
        "30",
      ]),
    ).toBe(0);
    expect(io.out.some((line) => line.startsWith("heuristic"))).toBe(true);
    expect(io.out.some((line) => line.startsWith(file))).toBe(true);
  }, 60_000);

  it("explains bad input with exit codes 2 (usage) and 1 (data)", async () => {
    const io = capture();
    expect(await train(["--persona", "personas/steady.json", "--bogus"])).toBe(2);
    expect(await train(["--persona", "personas/steady.json", "--steps", "ten"])).toBe(1);
    expect(io.err.join("\n")).toMatch(/--steps must be a whole number/);
    expect(await evaluate(["--persona", "personas/nope.json", "--policy", "heuristic"])).toBe(1);
    expect(io.err.join("\n")).toMatch(/cannot read persona file personas\/nope.json/);
    expect(await evaluate(["--persona", "personas/steady.json", "--policy", "best"])).toBe(1);
    expect(io.err.join("\n")).toMatch(
      /policy "best" is neither random, heuristic nor a readable checkpoint/,
    );
    expect(await compare(["--persona", "personas/steady.json"])).toBe(1);
  });

  it("is reachable through the coachrl entry point", () => {
    const env = { ...process.env, DATABASE_URL: "", TELEGRAM_BOT_TOKEN: "" };
    const help = spawnSync("node", ["bin/coachrl.mjs", "--help"], { encoding: "utf8", env });
    expect(help.status).toBe(0);
    for (const name of ["migrate", "import", "train", "eval", "compare"]) {
      expect(help.stdout).toMatch(new RegExp(`^  ${name} `, "m"));
    }
    const trainHelp = spawnSync("node", ["bin/coachrl.mjs", "train", "--help"], {
      encoding: "utf8",
      env,
    });
    expect(trainHelp.status).toBe(0);
    expect(trainHelp.stdout).toMatch(/--persona FILE/);
    const bad = spawnSync(
      "node",
      ["bin/coachrl.mjs", "eval", "--persona", "personas/steady.json"],
      {
        encoding: "utf8",
        env,
      },
    );
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--policy/);
    expect(bad.stderr).not.toMatch(/ at .*\.ts:\d+/); // no stack trace
  }, 60_000);
});
