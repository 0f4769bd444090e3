#!/usr/bin/env node
// `npx coachrl …`. In a development install (the sources and tsx are there) it runs src/cli.ts
// through tsx, so it never runs stale compiled code; where tsx is not installed (the Docker
// image, `npm ci --omit=dev`) it runs dist/cli.js from `npm run build`.
import { existsSync } from "node:fs";

const sources = new URL("../src/cli.ts", import.meta.url);
const compiled = new URL("../dist/cli.js", import.meta.url);

/** tsx's register API, resolved from this file; null when tsx is not installed. */
async function tsxApi() {
  try {
    return await import("tsx/esm/api");
  } catch (error) {
    if (error?.code === "ERR_MODULE_NOT_FOUND") return null;
    throw error;
  }
}

const tsx = existsSync(sources) ? await tsxApi() : null;
if (tsx) {
  tsx.register();
  await import(sources.href);
} else if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  process.stderr.write(
    "coachrl: nothing to run: install the development dependencies (npm install) to run the " +
      "sources, or build dist/ (npm run build)\n",
  );
  process.exit(1);
}
