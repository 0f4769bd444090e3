// The dependency direction of docs/architecture.md ("Layers"), checked on every import of src/.
// The checker lives in ./boundaries.ts; the fixture trees show that each rule catches a
// violation (and names the file and the rule) and that allowed imports pass.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CYCLE_RULE,
  checkBoundaries,
  findCycles,
  formatViolations,
  PRISMA_ACCESS_RULE,
  REPOSITORY_ROOT,
  RULES,
  readSource,
  sourceFiles,
} from "./boundaries.js";

const FIXTURES = join(import.meta.dirname, "fixtures");

describe("src/ keeps the dependency direction", () => {
  const violations = checkBoundaries(REPOSITORY_ROOT);
  const broken = (rule: string) => formatViolations(violations.filter((v) => v.rule === rule));

  it("scans the sources (and not the generated Prisma client)", () => {
    const files = sourceFiles(REPOSITORY_ROOT);
    expect(files.length).toBeGreaterThan(80);
    expect(files).toContain("src/main.ts");
    expect(files.some((f) => f.startsWith("src/generated/"))).toBe(false);
  });

  for (const rule of RULES) {
    it(rule.says, () => {
      expect(broken(rule.id)).toEqual([]);
    });
  }

  it("only src/db reaches the Prisma client (no `.prisma` elsewhere)", () => {
    expect(broken(PRISMA_ACCESS_RULE)).toEqual([]);
  });

  it("has no import cycles (`import type` counts)", () => {
    expect(broken(CYCLE_RULE)).toEqual([]);
  });
});

describe("the boundary checker", () => {
  it("reports every deliberate violation in the fixture tree, naming the file and the rule", () => {
    const found = checkBoundaries(join(FIXTURES, "violations"));
    const pairs = found.map((v) => `${v.file} ${v.rule}`).sort();
    expect(pairs).toEqual(
      [
        "src/app/use.ts app-not-telegram", // import type { Telegraf } from "telegraf"
        "src/app/use.ts app-not-telegram", // new URL("../bot/worker.js", import.meta.url)
        "src/bot/bot.ts bot-through-the-application", // findPerson from ../db/people.js
        "src/bot/bot.ts no-prisma-access-outside-db", // const { prisma } = db
        "src/bot/bot.ts no-prisma-access-outside-db", // db.prisma.user
        "src/bot/bot.ts prisma-only-in-db", // the generated client loaded at run time
        "src/coach/io.ts coach-imports-only-coach", // node:fs
        "src/coach/io.ts coach-imports-only-coach", // zod
        "src/coach/x.ts coach-imports-only-coach", // ../db/client.js
        "src/db/history.ts db-below-the-application", // import type from ../rl
        "src/http/server.ts http-not-bot", // import("../bot/bot.js")
        "src/rl/train.ts rl-imports-only-rl-and-coach", // ../app/use.js
        "src/rl/train.ts rl-imports-only-rl-and-coach", // pino
        "src/sheets/a.ts no-import-cycles",
      ].sort(),
    );
    const lines = formatViolations(found);
    expect(lines).toContain(
      "src/coach/x.ts:2 [coach-imports-only-coach] import: imports ../db/client.js (src/db/client.ts), outside src/coach",
    );
    expect(lines).toContain(
      "src/sheets/a.ts:2 [no-import-cycles] import cycle: src/sheets/a.ts → src/sheets/b.ts → src/sheets/c.ts → src/sheets/a.ts",
    );
    expect(lines).toContain(
      "src/app/use.ts:6 [app-not-telegram] worker URL: imports ../bot/worker.js (src/bot/worker.ts) from src/bot",
    );
  });

  it("passes a tree that keeps every rule (type-only model imports, worker URLs, drivers in db)", () => {
    expect(formatViolations(checkBoundaries(join(FIXTURES, "clean")))).toEqual([]);
  });

  it("reads every kind of module reference", () => {
    const text = [
      `import a from "./a.js";`,
      `import type { B } from "../b/b.js";`,
      `import { type C } from "./c.js";`,
      `export * from "./d.js";`,
      `export type { E } from "./e.js";`,
      `import "node:fs";`,
      `import x = require("@scope/pkg/sub");`,
      `const f = await import("./f.js");`,
      `const name = "tfjs-node"; await import(name);`,
      `await import(someVariable);`,
      `type G = typeof import("./g.js");`,
      `const here = import.meta.url;`,
      `new URL(compiled ? "./w.js" : "./w.ts", here);`,
      `new URL("../../prisma/migrations", import.meta.url);`,
    ].join("\n");
    const refs = readSource("x.ts", text, "src/app/x.ts").refs.map((r) =>
      [r.how, r.kind, r.target ?? r.packageName ?? r.specifier, r.typeOnly ? "type" : ""].join(" "),
    );
    expect(refs).toEqual([
      "import relative src/app/a.ts ",
      "import relative src/b/b.ts type",
      // `import { type C }` still loads ./c.js under verbatimModuleSyntax (as `import {} from`)
      "import relative src/app/c.ts ",
      "export relative src/app/d.ts ",
      "export relative src/app/e.ts type",
      "import builtin node:fs ",
      "require package @scope/pkg ",
      "import() relative src/app/f.ts ",
      "import() package tfjs-node ",
      "import() computed  ",
      "import type() relative src/app/g.ts type",
      "worker URL relative src/app/w.ts ",
      "worker URL relative src/app/w.ts ",
    ]);
  });

  it("finds the prisma client however it is reached, but not in comments or strings", () => {
    const text = [
      `// db.prisma.user is mentioned here`,
      `const s = "db.prisma.user";`,
      `db.prisma.user.findMany();`,
      `const p = db.prisma;`,
      `const { prisma } = db;`,
      `const q = db["prisma"];`,
    ].join("\n");
    expect(readSource("x.ts", text, "src/bot/x.ts").prismaAccess).toEqual([3, 4, 5, 6]);
  });

  it("reports one cycle path per strongly connected group", () => {
    const graph = new Map<string, Set<string>>([
      ["a", new Set(["b"])],
      ["b", new Set(["c", "a"])],
      ["c", new Set(["a"])],
      ["d", new Set(["d"])],
      ["e", new Set(["a"])],
    ]);
    expect(findCycles(graph)).toEqual([
      ["a", "b", "a"],
      ["d", "d"],
    ]);
  });
});
