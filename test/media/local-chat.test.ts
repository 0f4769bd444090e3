// The media commands in local chat mode: charts and the export are saved as files whose path
// is printed, through the same handlers as on Telegram.
import { readFileSync, rmSync } from "node:fs";
import { PassThrough } from "node:stream";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, expect, it } from "vitest";
import { pngSize } from "../../src/app/charts/charts.js";
import { createBot } from "../../src/bot/bot.js";
import type { BotDeps } from "../../src/bot/context.js";
import { LocalBotApi, runLocalChat } from "../../src/bot/local-chat.js";
import { parseConfig } from "../../src/config.js";
import { testBotDeps } from "../support/bot-deps.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

let database: TestDatabase;
let deps: BotDeps;
beforeAll(async () => {
  database = await createTestDatabase();
  deps = testBotDeps(database.db, {
    config: parseConfig({ LOG_LEVEL: "silent" }),
    now: () => new Date("2026-11-22T09:00:00Z"),
  });
});
afterAll(async () => {
  await database?.dispose();
  rmSync(deps.chartsDir, { recursive: true, force: true });
});

it("saves /stats and /weight charts as PNG files and /export as a ZIP", async () => {
  const input = new PassThrough();
  const output = new PassThrough();
  let printed = "";
  output.on("data", (chunk: Buffer) => {
    printed += chunk.toString();
  });
  const api = new LocalBotApi({ output, filesDir: deps.chartsDir });
  const bot = createBot({ ...deps, transport: api.handle });
  const done = runLocalChat(bot, { input, output, api, firstUpdateId: Date.now() });
  for (const line of [
    "/start",
    "Lisbon",
    "2",
    "1",
    "walk 20",
    "/stats",
    "/weight 72.4",
    "/weight",
    "/export",
    "/quit",
  ]) {
    input.write(`${line}\n`);
  }
  input.end();
  await done;

  const saved = [...printed.matchAll(/\[(photo|document) saved to (\S+?)\]/g)].map((m) => ({
    kind: m[1],
    path: m[2],
  }));
  expect(saved.map((s) => s.kind)).toEqual(["photo", "photo", "document"]);
  for (const photo of saved.filter((s) => s.kind === "photo")) {
    expect(pngSize(readFileSync(photo.path))?.width).toBe(1100);
  }
  expect(printed).toContain("Last 30 days");
  expect(printed).toContain("Recorded weight 72.4 kg");
  const zip = unzipSync(new Uint8Array(readFileSync(saved[2].path)));
  expect(Object.keys(zip)).toContain("entries.csv");
});
