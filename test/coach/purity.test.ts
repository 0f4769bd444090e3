import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(import.meta.dirname, "../../src/coach");

/** Everything that would make the coach core impure: I/O, environment, clock, global randomness. */
const FORBIDDEN: [RegExp, string][] = [
  [
    /from\s+["'](?:node:)?(?:fs|fs\/promises|net|http|https|http2|child_process|worker_threads|dgram|dns|tls|os|process|readline|cluster)["']/,
    "an I/O module import",
  ],
  [/import\s*\(/, "a dynamic import"],
  [/\brequire\s*\(/, "require()"],
  [/\bprocess\./, "process.*"],
  [/\bDate\.now\s*\(/, "Date.now()"],
  [/\bnew Date\s*\(\s*\)/, "new Date() (the current time)"],
  [/\bMath\.random\s*\(/, "Math.random()"],
  [/\bperformance\.now\s*\(/, "performance.now()"],
  [/\bfetch\s*\(/, "fetch()"],
  [/\bsetTimeout\s*\(|\bsetInterval\s*\(/, "timers"],
  [/from\s+["'](?!\.\.?\/)[^"']+["']/, "a package import (the core depends on nothing)"],
];

function sources(): string[] {
  return readdirSync(SRC)
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(SRC, f));
}

/** Lines of code without comments, so documentation may mention what the code must not do. */
function codeOf(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'])\/\/.*$/gm, "$1");
}

function purityViolations(text: string): string[] {
  const code = codeOf(text);
  return FORBIDDEN.filter(([re]) => re.test(code)).map(([, what]) => what);
}

describe("src/coach is pure", () => {
  it("has sources to scan", () => {
    expect(sources().length).toBeGreaterThanOrEqual(8);
  });

  for (const file of sources()) {
    it(`${file.split("/").pop()} uses no I/O, clock, environment or Math.random`, () => {
      expect(purityViolations(readFileSync(file, "utf8"))).toEqual([]);
    });
  }

  it("the scanner catches each kind of violation", () => {
    expect(purityViolations(`import { readFileSync } from "node:fs";`)).toContain(
      "an I/O module import",
    );
    expect(purityViolations(`import * as net from "net";`)).toContain("an I/O module import");
    expect(purityViolations(`const t = Date.now();`)).toContain("Date.now()");
    expect(purityViolations(`const t = new Date();`)).toContain("new Date() (the current time)");
    expect(purityViolations(`const r = Math.random();`)).toContain("Math.random()");
    expect(purityViolations(`const k = process.env.KEY;`)).toContain("process.*");
    expect(purityViolations(`import pino from "pino";`)).toContain(
      "a package import (the core depends on nothing)",
    );
    expect(purityViolations(`// Math.random() is not used here\nconst x = 1;`)).toEqual([]);
    expect(purityViolations(`import { a } from "./days.js";`)).toEqual([]);
  });
});
