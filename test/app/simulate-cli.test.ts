// `coachrl simulate`'s options (src/cli/simulate.ts): the defaults that keep 8 people × 90 days
// within the speed target (docs/rl-results.md "Closed loop"), --no-population, and clear messages
// for bad values. The loop itself is tested in closed-loop.test.ts; these runs plan the heuristic
// arm only (no training), on a fresh embedded database.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { run as simulate } from "../../src/cli/simulate.js";

function capture() {
  const err: string[] = [];
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
    err.push(args.join(" "));
  });
  vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  return { err };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("coachrl simulate options", () => {
  it("records its defaults: 32,768 steps a night on the training line, no population policy with --no-population", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "coachrl-simulate-"));
    const out = path.join(dir, "result.json");
    capture();
    const env = { ...process.env };
    delete process.env.DATABASE_URL;
    try {
      const code = await simulate([
        "--persona",
        "personas/steady.json",
        "--people",
        "1",
        "--days",
        "3",
        "--arms",
        "product,heuristic",
        "--no-retrain",
        "--no-population",
        "--out",
        out,
      ]);
      expect(code).toBe(0);
    } finally {
      process.env = env;
    }
    const result = JSON.parse(readFileSync(out, "utf8"));
    expect(result).toMatchObject({
      people: 1,
      days: 3,
      stepsPerNight: 32_768,
      warmStartFrom: "line",
      population: null,
      exploration: { probability: 0, exploratoryPlans: 0, plans: 3 },
    });
    expect(result.arms.map((a: { name: string }) => a.name)).toEqual(["product", "heuristic"]);
  }, 120_000);

  it.each([
    [["--explore", "2"], '--explore must be a number from 0 to 1, got "2"'],
    [["--coach", "a2c"], '--coach must be one of ppo, udrl, got "a2c"'],
    [["--warm-start-from", "best"], '--warm-start-from must be line or active, got "best"'],
  ])("refuses %j, naming the option", async (args, message) => {
    const io = capture();
    const code = await simulate(["--persona", "personas/steady.json", ...args]);
    expect(code).not.toBe(0);
    expect(io.err.join("\n")).toContain(message);
  });
});
