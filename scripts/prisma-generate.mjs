#!/usr/bin/env node
// Generates Prisma Client into src/generated/prisma (run on `npm install`; `npm run build`
// compiles it into dist/generated/prisma with the rest of src). Prisma 7's client is engine-free,
// but the CLI still wants a schema-engine binary to exist before it generates. Offline machines
// cannot download one, so when none is installed we point PRISMA_SCHEMA_ENGINE_BINARY at an
// existing file (generation never executes it). A user's own setting, or an engine that npm
// installed, always wins. Without the Prisma CLI (a devDependency: `npm ci --omit=dev`, as in the
// Docker runtime stage, which takes the client already compiled into dist/) there is nothing to do.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const env = { ...process.env };

function installedSchemaEngine() {
  const dir = join(root, "node_modules", "@prisma", "engines");
  if (!existsSync(dir)) return undefined;
  const file = readdirSync(dir).find((name) => name.startsWith("schema-engine"));
  return file ? join(dir, file) : undefined;
}

if (!env.PRISMA_SCHEMA_ENGINE_BINARY) {
  env.PRISMA_SCHEMA_ENGINE_BINARY = installedSchemaEngine() ?? process.execPath;
}
env.PRISMA_HIDE_UPDATE_MESSAGE = "1";
env.CHECKPOINT_DISABLE = "1";

const prismaBin = join(root, "node_modules", "prisma", "build", "index.js");
if (!existsSync(prismaBin)) {
  console.log(
    "prisma-generate: the Prisma CLI is not installed (production install): not generating the " +
      "client; dist/ carries the compiled one (npm run build in a full install)",
  );
  process.exit(0);
}
const result = spawnSync(process.execPath, [prismaBin, "generate"], {
  cwd: root,
  env,
  stdio: "inherit",
});
process.exit(result.status ?? 1);
