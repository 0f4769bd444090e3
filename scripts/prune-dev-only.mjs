#!/usr/bin/env node
// Completes `npm prune --omit=dev` (or `npm ci --omit=dev`) for the Docker runtime image.
//
// npm keeps a development dependency in a production install when a production dependency
// names it as an optional peer: the lock file marks such packages "devOptional" and only
// `--omit=optional` drops them, which would drop the optional @tensorflow/tfjs-node as well.
// Here that is the Prisma CLI (an optional peer of @prisma/client) with all its dependencies,
// and TypeScript (an optional peer of prisma). Nothing at run time imports them, so this removes
// every "devOptional" package from node_modules and from npm's record of the installed tree.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = process.argv[2] ?? process.cwd();
const recordFile = join(root, "node_modules", ".package-lock.json");
const record = JSON.parse(readFileSync(recordFile, "utf8"));
const devOnly = Object.keys(record.packages).filter((path) => record.packages[path].devOptional);
for (const path of devOnly) {
  rmSync(join(root, path), { recursive: true, force: true });
  delete record.packages[path];
}
writeFileSync(recordFile, `${JSON.stringify(record, null, 2)}\n`);
// their commands (node_modules/.bin/prisma, tsc, …) now point at nothing
const bin = join(root, "node_modules", ".bin");
for (const name of existsSync(bin) ? readdirSync(bin) : []) {
  if (!existsSync(join(bin, name))) rmSync(join(bin, name), { force: true });
}
console.log(`prune-dev-only: removed ${devOnly.length} packages only development needs`);
