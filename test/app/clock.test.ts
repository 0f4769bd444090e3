// The simulated clock the soak and simulations move (src/app/clock.ts), and the cron occurrences
// a jump passes over (src/app/scheduling/cron.ts): real files, real file watching.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { simulatedClock, systemClock } from "../../src/app/clock.js";
import { cronOccurrences, cronProblem } from "../../src/app/scheduling/cron.js";
import { createLogger } from "../../src/logger.js";

const log = createLogger({ level: "silent", pretty: false, secrets: [] });
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function clockFile(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), "coachrl-clock-"));
  dirs.push(dir);
  const file = join(dir, "clock");
  writeFileSync(file, content);
  return file;
}

function rewrite(file: string, content: string) {
  writeFileSync(`${file}.tmp`, content);
  renameSync(`${file}.tmp`, file);
}

describe("simulatedClock", () => {
  it("starts at the file's instant, runs on at the real pace, and jumps when the file changes", async () => {
    const file = clockFile("2027-01-04T07:31:00Z\n");
    const clock = simulatedClock(file, log, { pollIntervalMs: 10 });
    try {
      const start = clock.now().getTime();
      expect(start).toBeGreaterThanOrEqual(Date.parse("2027-01-04T07:31:00Z"));
      expect(start).toBeLessThan(Date.parse("2027-01-04T07:32:00Z"));
      const jumps: [string, string][] = [];
      const jumped = new Promise<void>((resolve) =>
        clock.onJump((from, to) => {
          jumps.push([from.toISOString().slice(0, 16), to.toISOString()]);
          resolve();
        }),
      );
      rewrite(file, "2027-01-05T02:31:00.000Z");
      await jumped;
      expect(jumps).toEqual([["2027-01-04T07:31", "2027-01-05T02:31:00.000Z"]]);
      expect(clock.now().getTime()).toBeGreaterThanOrEqual(Date.parse("2027-01-05T02:31:00Z"));
      expect(clock.simulated).toBe(true);
    } finally {
      clock.stop();
    }
  });

  it("keeps running on its last instant when the file is rewritten with nonsense", async () => {
    const file = clockFile("2027-01-04T07:31:00Z");
    const clock = simulatedClock(file, log, { pollIntervalMs: 10 });
    try {
      const jumps: string[] = [];
      clock.onJump((_, to) => jumps.push(to.toISOString()));
      rewrite(file, "tomorrow morning");
      const next = new Promise<void>((resolve) => clock.onJump(() => resolve()));
      await new Promise((resolve) => setTimeout(resolve, 100));
      rewrite(file, "2027-01-06T00:00:00Z");
      await next;
      expect(jumps).toEqual(["2027-01-06T00:00:00.000Z"]);
    } finally {
      clock.stop();
    }
  });

  it("refuses a missing file or one without an ISO instant, naming the variable", () => {
    expect(() => simulatedClock("/nonexistent/coachrl-clock", log)).toThrow(
      /SIMULATED_CLOCK_FILE \/nonexistent\/coachrl-clock cannot be read \(ENOENT\)/,
    );
    expect(() => simulatedClock(clockFile("next tuesday"), log)).toThrow(
      /must hold an ISO instant such as 2026-12-01T07:31:00Z, got "next tuesday"/,
    );
  });

  it("the system clock is the machine's and never jumps", () => {
    const clock = systemClock();
    expect(Math.abs(clock.now().getTime() - Date.now())).toBeLessThan(1000);
    expect(clock.simulated).toBe(false);
  });
});

describe("cronOccurrences", () => {
  it("lists the firings after `from` and up to `to`, in UTC", () => {
    const at = (iso: string) => new Date(iso);
    expect(
      cronOccurrences("30 2 * * *", at("2027-01-03T20:00:00Z"), at("2027-01-06T02:30:00Z")).map(
        (d) => d.toISOString(),
      ),
    ).toEqual(["2027-01-04T02:30:00.000Z", "2027-01-05T02:30:00.000Z", "2027-01-06T02:30:00.000Z"]);
    // Sundays only; nothing when the jump passes no firing, or goes backwards
    expect(
      cronOccurrences("30 2 * * 0", at("2027-01-04T00:00:00Z"), at("2027-01-12T00:00:00Z")).map(
        (d) => d.toISOString(),
      ),
    ).toEqual(["2027-01-10T02:30:00.000Z"]);
    expect(
      cronOccurrences("30 2 * * *", at("2027-01-04T03:00:00Z"), at("2027-01-04T07:31:00Z")),
    ).toEqual([]);
    expect(
      cronOccurrences("30 2 * * *", at("2027-01-05T03:00:00Z"), at("2027-01-04T03:00:00Z")),
    ).toEqual([]);
  });

  it("cronProblem names what the scheduler's parser refuses", () => {
    expect(cronProblem("30 2 * * *")).toBeUndefined();
    expect(cronProblem("99 99 * * *")).toMatch(/./);
  });
});
