import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { RULES, readSource } from "../architecture/boundaries.js";

const ROOT = join(import.meta.dirname, "../..");
const SRC = join(ROOT, "src/coach");
const FIXTURE = join(import.meta.dirname, "../architecture/fixtures/violations");

/**
 * What the core may import: only src/coach itself (no other folder of src, no node: module, no
 * package). The rule has one home, the boundary checker (test/architecture/boundaries.ts).
 */
const COACH_IMPORTS = RULES.find((r) => r.id === "coach-imports-only-coach")!;

/** Everything else that would make the coach core impure: environment, clock, randomness. */
const FORBIDDEN: [RegExp, string][] = [
  [/import\s*\(/, "a dynamic import"],
  [/\brequire\s*\(/, "require()"],
  [/\bprocess\./, "process.*"],
  [/\bDate\.now\s*\(/, "Date.now()"],
  [/\bnew Date\s*\(\s*\)/, "new Date() (the current time)"],
  [/\bMath\.random\s*\(/, "Math.random()"],
  [/\bperformance\.now\s*\(/, "performance.now()"],
  [/\bfetch\s*\(/, "fetch()"],
  [/\bsetTimeout\s*\(|\bsetInterval\s*\(/, "timers"],
];

function sources(): string[] {
  return readdirSync(SRC, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(SRC, f));
}

/** Lines of code without comments, so documentation may mention what the code must not do. */
function codeOf(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'])\/\/.*$/gm, "$1");
}

/** `file` is where the text lives relative to the tree root (imports resolve from there). */
function purityViolations(text: string, file = "src/coach/example.ts"): string[] {
  const imports = readSource(file, text, file)
    .refs.map((ref) => COACH_IMPORTS.refuse(ref))
    .filter((why) => why !== null);
  const code = codeOf(text);
  return [...imports, ...FORBIDDEN.filter(([re]) => re.test(code)).map(([, what]) => what)];
}

describe("src/coach is pure", () => {
  it("has sources to scan", () => {
    expect(sources().length).toBeGreaterThanOrEqual(8);
  });

  for (const file of sources()) {
    const name = relative(ROOT, file);
    it(`${name} imports only src/coach and uses no I/O, clock, environment or Math.random`, () => {
      expect(purityViolations(readFileSync(file, "utf8"), name)).toEqual([]);
    });
  }

  it("rejects an import of another folder of src, e.g. the database (fixture src/coach/x.ts)", () => {
    const file = "src/coach/x.ts";
    expect(purityViolations(readFileSync(join(FIXTURE, file), "utf8"), file)).toEqual([
      "imports ../db/client.js (src/db/client.ts), outside src/coach",
    ]);
  });

  it("the scanner catches each kind of violation", () => {
    expect(purityViolations(`import { openDatabase } from "../db/client.js";`)).toEqual([
      "imports ../db/client.js (src/db/client.ts), outside src/coach",
    ]);
    expect(purityViolations(`export { x } from "../rl/ppo.js";`)).toEqual([
      "imports ../rl/ppo.js (src/rl/ppo.ts), outside src/coach",
    ]);
    expect(purityViolations(`import type { User } from "../generated/prisma/client.js";`)).toEqual([
      "imports ../generated/prisma/client.js (src/generated/prisma/client.ts), outside src/coach",
    ]);
    expect(purityViolations(`import { readFileSync } from "node:fs";`)).toContain(
      'imports the node module "node:fs"',
    );
    expect(purityViolations(`import * as net from "net";`)).toContain(
      'imports the node module "net"',
    );
    expect(purityViolations(`const t = Date.now();`)).toContain("Date.now()");
    expect(purityViolations(`const t = new Date();`)).toContain("new Date() (the current time)");
    expect(purityViolations(`const r = Math.random();`)).toContain("Math.random()");
    expect(purityViolations(`const k = process.env.KEY;`)).toContain("process.*");
    expect(purityViolations(`import pino from "pino";`)).toContain('imports the package "pino"');
    expect(purityViolations(`const m = import("./days.js");`)).toContain("a dynamic import");
    expect(purityViolations(`// Math.random() is not used here\nconst x = 1;`)).toEqual([]);
    expect(purityViolations(`import { a } from "./days.js";`)).toEqual([]);
    expect(purityViolations(`import { a } from "../coach/days.js";`)).toEqual([]);
  });
});
