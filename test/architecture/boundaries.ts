// The dependency rules of docs/architecture.md as a checker that runs on any tree with a `src/`
// folder: the repository itself (test/architecture/boundaries.test.ts) and the fixture trees
// under test/architecture/fixtures/ that show each rule catching a violation.
//
// Every module reference is read with the TypeScript parser (no type checking, so it is fast):
// static `import … from` and `import "…"`, `export … from`, `import x = require("…")`,
// `import("…")` (also through a `const` holding the specifier), `typeof import("…")` types, and
// worker entries `new URL("./x.js", import.meta.url)`.

import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, posix, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** One module reference in a source file. */
export interface ModuleReference {
  /** what the source says, e.g. "../db/client.js"; null for an import() of a computed value */
  specifier: string | null;
  /** "relative": a file of the tree (`target`); "builtin": node:…; "package": an npm package */
  kind: "relative" | "builtin" | "package" | "computed";
  /** the referenced file relative to the tree root, `.js` mapped to `.ts` (relative only) */
  target?: string;
  /** npm package name, e.g. "@prisma/client" or "telegraf" (package only) */
  packageName?: string;
  /** erased at compile time (`import type`, `export type`, `typeof import()`) */
  typeOnly: boolean;
  how: "import" | "export" | "import()" | "import type()" | "worker URL" | "require";
  line: number;
}

export interface Violation {
  /** file relative to the tree root, with forward slashes: "src/coach/x.ts" */
  file: string;
  line: number;
  rule: string;
  message: string;
}

export interface Rule {
  id: string;
  /** what the rule demands, in one sentence (the test's name) */
  says: string;
  /** files the rule constrains (paths relative to the tree root) */
  appliesTo(file: string): boolean;
  /** why `ref` is not allowed in a file the rule constrains, or null when it is */
  refuse(ref: ModuleReference): string | null;
}

const BUILTINS = new Set(builtinModules.filter((name) => !name.startsWith("_")));

/** "src/coach/days.ts" → is in folder "src/coach" (or is that file). */
const within = (file: string, ...folders: string[]) =>
  folders.some((f) => file === f || file.startsWith(`${f}/`) || file === `${f}.ts`);

const described = (ref: ModuleReference) =>
  ref.kind === "relative" ? `${ref.specifier} (${ref.target})` : `"${ref.specifier}"`;

const PRISMA_PACKAGES = [
  "prisma",
  "@prisma/*",
  "pg",
  "@electric-sql/pglite",
  "pglite-prisma-adapter",
];
const isPrismaOrDriver = (name: string) =>
  name === "prisma" ||
  name.startsWith("@prisma/") ||
  name === "pg" ||
  name === "@electric-sql/pglite" ||
  name === "pglite-prisma-adapter";

/** Packages src/coach may import. Empty on purpose: the core depends on nothing. */
export const COACH_PACKAGES: readonly string[] = [];
/** Packages src/rl may import besides node built-ins: TensorFlow.js and zod. */
export const RL_PACKAGES = ["@tensorflow/*", "zod"] as const;

const matchesPackage = (name: string, allowed: readonly string[]) =>
  allowed.some((a) => (a.endsWith("/*") ? name.startsWith(a.slice(0, -1)) : name === a));

/** The folders a relative import may reach, checked against `target`. */
function onlyFolders(ref: ModuleReference, folders: string[]): boolean {
  return ref.kind !== "relative" || within(ref.target!, ...folders);
}

export const RULES: readonly Rule[] = [
  {
    id: "coach-imports-only-coach",
    says: "src/coach imports nothing outside src/coach (no other folder, no node: module, no package)",
    appliesTo: (file) => within(file, "src/coach"),
    refuse(ref) {
      if (ref.kind === "computed") return "an import() of a computed specifier";
      if (ref.kind === "relative" && !within(ref.target!, "src/coach"))
        return `imports ${described(ref)}, outside src/coach`;
      if (ref.kind === "builtin") return `imports the node module "${ref.specifier}"`;
      if (ref.kind === "package" && !matchesPackage(ref.packageName!, COACH_PACKAGES))
        return `imports the package "${ref.packageName}"`;
      return null;
    },
  },
  {
    id: "rl-imports-only-rl-and-coach",
    says: `src/rl imports only src/rl, src/coach, node built-ins and ${RL_PACKAGES.join(", ")}`,
    appliesTo: (file) => within(file, "src/rl"),
    refuse(ref) {
      if (ref.kind === "computed") return "an import() of a computed specifier";
      if (!onlyFolders(ref, ["src/rl", "src/coach"]))
        return `imports ${described(ref)}, outside src/rl and src/coach`;
      if (ref.kind === "package" && !matchesPackage(ref.packageName!, RL_PACKAGES))
        return `imports the package "${ref.packageName}" (allowed: ${RL_PACKAGES.join(", ")})`;
      return null;
    },
  },
  {
    id: "db-below-the-application",
    says: "src/db does not import src/rl, src/ingest, src/bot, src/app or src/sheets",
    appliesTo: (file) => within(file, "src/db"),
    refuse(ref) {
      const above = ["src/rl", "src/ingest", "src/bot", "src/app", "src/sheets"];
      if (ref.kind === "relative" && within(ref.target!, ...above))
        return `imports ${described(ref)}; src/db must not depend on ${above.find((f) => within(ref.target!, f))}`;
      return null;
    },
  },
  {
    id: "http-not-bot",
    says: "src/http does not import src/bot",
    appliesTo: (file) => within(file, "src/http"),
    refuse: (ref) =>
      ref.kind === "relative" && within(ref.target!, "src/bot")
        ? `imports ${described(ref)} from src/bot`
        : null,
  },
  {
    id: "app-not-telegram",
    says: "src/app does not import src/bot or telegraf",
    appliesTo: (file) => within(file, "src/app"),
    refuse(ref) {
      if (ref.kind === "relative" && within(ref.target!, "src/bot"))
        return `imports ${described(ref)} from src/bot`;
      if (ref.kind === "package" && ref.packageName === "telegraf")
        return `imports "${ref.specifier}" (Telegram belongs to src/bot)`;
      return null;
    },
  },
  {
    id: "bot-through-the-application",
    says: "src/bot reaches the database only through src/app use cases (`import type` from src/db is fine)",
    appliesTo: (file) => within(file, "src/bot"),
    refuse: (ref) =>
      ref.kind === "relative" && within(ref.target!, "src/db") && !ref.typeOnly
        ? `imports ${described(ref)} at run time; call a use case in src/app instead`
        : null,
  },
  {
    id: "prisma-only-in-db",
    says: `only src/db loads Prisma (${PRISMA_PACKAGES.join(", ")}, src/generated/prisma); elsewhere only \`import type\` of the generated model types`,
    appliesTo: (file) => !within(file, "src/db", "src/generated"),
    refuse(ref) {
      if (ref.kind === "package" && isPrismaOrDriver(ref.packageName!))
        return `imports "${ref.specifier}"${ref.typeOnly ? " (even type-only)" : ""}`;
      if (ref.kind === "relative" && within(ref.target!, "src/generated") && !ref.typeOnly)
        return `imports ${described(ref)} at run time (only \`import type\` of generated model types is allowed outside src/db)`;
      return null;
    },
  },
];

export const PRISMA_ACCESS_RULE = "no-prisma-access-outside-db";
export const CYCLE_RULE = "no-import-cycles";

interface SourceFacts {
  refs: ModuleReference[];
  /** lines where the Prisma client is reached: `x.prisma`, `x["prisma"]`, `{ prisma } = x` */
  prismaAccess: number[];
}

function packageNameOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

function toPosix(path: string): string {
  return path.split(sep).join("/");
}

function stringValue(node: ts.Node | undefined): string[] | null {
  if (node === undefined) return null;
  if (ts.isStringLiteralLike(node)) return [node.text];
  if (ts.isConditionalExpression(node)) {
    const a = stringValue(node.whenTrue);
    const b = stringValue(node.whenFalse);
    return a && b ? [...a, ...b] : null;
  }
  if (ts.isParenthesizedExpression(node)) return stringValue(node.expression);
  return null;
}

const isImportMetaUrl = (node: ts.Node): boolean =>
  ts.isPropertyAccessExpression(node) &&
  ts.isMetaProperty(node.expression) &&
  node.expression.keywordToken === ts.SyntaxKind.ImportKeyword &&
  node.name.text === "url";

/** Reads the module references and Prisma accesses of one file. */
export function readSource(fileName: string, text: string, rootRelative: string): SourceFacts {
  const source = ts.createSourceFile(
    fileName,
    text,
    ts.ScriptTarget.Latest,
    true,
    ts.ScriptKind.TS,
  );
  const constants = new Map<string, ts.Expression>();
  const refs: ModuleReference[] = [];
  const prismaAccess: number[] = [];
  const lineOf = (node: ts.Node) =>
    source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const fileDir = posix.dirname(rootRelative);

  const add = (
    specifier: string | null,
    node: ts.Node,
    how: ModuleReference["how"],
    typeOnly: boolean,
  ) => {
    const line = lineOf(node);
    if (specifier === null) {
      refs.push({ specifier, kind: "computed", typeOnly, how, line });
    } else if (specifier.startsWith("./") || specifier.startsWith("../")) {
      const target = posix
        .normalize(posix.join(fileDir, specifier))
        .replace(/\.(m|c)?js$/, ".$1ts");
      refs.push({ specifier, kind: "relative", target, typeOnly, how, line });
    } else if (specifier.startsWith("node:") || BUILTINS.has(packageNameOf(specifier))) {
      refs.push({ specifier, kind: "builtin", typeOnly, how, line });
    } else {
      const packageName = packageNameOf(specifier);
      refs.push({ specifier, kind: "package", packageName, typeOnly, how, line });
    }
  };

  // Top-level and nested `const x = "…"` / `const here = import.meta.url`, for the two
  // indirections the sources use.
  const collect = (node: ts.Node) => {
    if (
      ts.isVariableDeclarationList(node) &&
      (node.flags & ts.NodeFlags.Const) !== 0 &&
      node.declarations.length > 0
    ) {
      for (const d of node.declarations)
        if (ts.isIdentifier(d.name) && d.initializer) constants.set(d.name.text, d.initializer);
    }
    ts.forEachChild(node, collect);
  };
  collect(source);
  const resolveConst = (node: ts.Node): ts.Node =>
    ts.isIdentifier(node) && constants.has(node.text) ? constants.get(node.text)! : node;

  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node, "import", node.importClause?.isTypeOnly === true);
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      add(node.moduleSpecifier.text, node, "export", node.isTypeOnly);
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      add(node.moduleReference.expression.text, node, "require", node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const values = stringValue(resolveConst(node.arguments[0]));
      if (values === null) add(null, node, "import()", false);
      else for (const v of values) add(v, node, "import()", false);
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      if (ts.isLiteralTypeNode(arg) && ts.isStringLiteral(arg.literal))
        add(arg.literal.text, node, "import type()", true);
    } else if (
      ts.isNewExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === "URL" &&
      node.arguments?.length === 2 &&
      isImportMetaUrl(resolveConst(node.arguments[1]))
    ) {
      // A worker entry (or any module file) next to this one; other files (data, wasm) are not
      // module dependencies.
      for (const v of stringValue(resolveConst(node.arguments[0])) ?? [])
        if (/\.(m|c)?[jt]s$/.test(v)) add(v, node, "worker URL", false);
    } else if (ts.isPropertyAccessExpression(node) && node.name.text === "prisma") {
      prismaAccess.push(lineOf(node.name));
    } else if (
      ts.isElementAccessExpression(node) &&
      ts.isStringLiteralLike(node.argumentExpression) &&
      node.argumentExpression.text === "prisma"
    ) {
      prismaAccess.push(lineOf(node));
    } else if (ts.isBindingElement(node)) {
      const name = node.propertyName ?? node.name;
      if ((ts.isIdentifier(name) || ts.isStringLiteral(name)) && name.text === "prisma")
        prismaAccess.push(lineOf(node));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { refs, prismaAccess };
}

/** Every .ts file under `<root>/src`, except the generated Prisma client. */
export function sourceFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const rel = toPosix(relative(root, path));
      if (entry.isDirectory()) {
        if (rel !== "src/generated") walk(path);
      } else if (/\.(m|c)?ts$/.test(entry.name) && !entry.name.endsWith(".d.ts")) {
        out.push(rel);
      }
    }
  };
  walk(join(root, "src"));
  return out.sort();
}

/**
 * The import cycles among the tree's modules (every kind of reference counts, `import type`
 * too): one cycle per strongly connected component, as the path a → b → … → a.
 */
export function findCycles(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const strongConnect = (v: string) => {
    indexOf.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indexOf.has(w)) {
        strongConnect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indexOf.get(w)!));
      }
    }
    if (low.get(v) === indexOf.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)?.has(v)) components.push(component);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!indexOf.has(v)) strongConnect(v);

  // Within each component, the shortest way from its first file back to itself.
  return components.map((component) => {
    const members = new Set(component);
    const start = [...component].sort()[0];
    const previous = new Map<string, string>();
    const queue = [start];
    for (let i = 0; i < queue.length; i++) {
      const v = queue[i];
      for (const w of [...(graph.get(v) ?? [])].sort()) {
        if (!members.has(w)) continue;
        if (w === start) {
          const path = [v];
          while (path[0] !== start) path.unshift(previous.get(path[0])!);
          return [...path, start];
        }
        if (!previous.has(w)) {
          previous.set(w, v);
          queue.push(w);
        }
      }
    }
    return [start, start];
  });
}

/** Checks every rule on the tree at `root` (a folder with `src/` in it). */
export function checkBoundaries(root: string): Violation[] {
  const violations: Violation[] = [];
  const graph = new Map<string, Set<string>>();
  const files = sourceFiles(root);
  const present = new Set(files);
  const firstLine = new Map<string, number>();
  for (const file of files) {
    const facts = readSource(join(root, file), readFileSync(join(root, file), "utf8"), file);
    const edges = new Set<string>();
    for (const ref of facts.refs) {
      for (const rule of RULES) {
        if (!rule.appliesTo(file)) continue;
        const why = rule.refuse(ref);
        if (why !== null)
          violations.push({ file, line: ref.line, rule: rule.id, message: `${ref.how}: ${why}` });
      }
      if (ref.kind === "relative" && present.has(ref.target!) && ref.target !== undefined) {
        edges.add(ref.target);
        if (!firstLine.has(`${file}>${ref.target}`))
          firstLine.set(`${file}>${ref.target}`, ref.line);
      }
    }
    graph.set(file, edges);
    if (!within(file, "src/db")) {
      for (const line of facts.prismaAccess)
        violations.push({
          file,
          line,
          rule: PRISMA_ACCESS_RULE,
          message: "reaches the Prisma client (`.prisma`); call a function of src/db instead",
        });
    }
  }
  for (const cycle of findCycles(graph)) {
    violations.push({
      file: cycle[0],
      line: firstLine.get(`${cycle[0]}>${cycle[1]}`) ?? 1,
      rule: CYCLE_RULE,
      message: `import cycle: ${cycle.join(" → ")}`,
    });
  }
  return violations;
}

/** One line per violation, for test failure messages: "src/coach/x.ts:3 [rule] message". */
export function formatViolations(violations: Violation[]): string[] {
  return violations.map((v) => `${v.file}:${v.line} [${v.rule}] ${v.message}`);
}

/** The repository root (the folder that holds src/ and test/). */
export const REPOSITORY_ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
