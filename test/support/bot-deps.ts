// BotDeps for tests that drive handlers without the Telegram emulator: silent logs, a fixed
// clock and a fresh directory for charts and exports.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInProcessQueue } from "../../src/app/training/in-process-queue.js";
import type { BotDeps } from "../../src/bot/context.js";
import { type AppConfig, parseConfig } from "../../src/config.js";
import type { Database } from "../../src/db/client.js";
import { createLogger } from "../../src/logger.js";

export function testBotDeps(
  db: Database,
  options: { config?: AppConfig; now?: () => Date } = {},
): BotDeps {
  const base = {
    config: options.config ?? parseConfig({ LOG_LEVEL: "silent" }),
    db,
    log: createLogger({ level: "silent", pretty: false, secrets: [] }),
    now: options.now ?? (() => new Date()),
  };
  return {
    ...base,
    chartsDir: mkdtempSync(join(tmpdir(), "coachrl-test-files-")),
    training: createInProcessQueue(base),
  };
}
