import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ConfigError, configSecrets, parseConfig } from "../../src/config.js";

const TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345678";

describe("configuration", () => {
  it("has working defaults with an empty environment (local chat on PGlite)", () => {
    const config = parseConfig({});
    expect(config.databaseUrl).toBeUndefined();
    expect(config.telegramBotToken).toBeUndefined();
    expect(config.dataDir).toMatch(/\.data$/);
    expect(config.telegramApiRoot).toBe("https://api.telegram.org");
    expect(config.httpPort).toBe(8080);
    expect(config.tzDefault).toBe("UTC");
    expect(config.adminTelegramIds.size).toBe(0);
  });

  it("parses a full environment", () => {
    const config = parseConfig({
      DATABASE_URL: "postgresql://app:pw@db:5432/coachrl",
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: "http://127.0.0.1:9000/",
      WEBHOOK_URL: "https://bot.example.org/telegram",
      WEBHOOK_SECRET: "s3cret-s3cret-s3cret",
      ADMIN_TELEGRAM_IDS: "42, 4242",
      HTTP_PORT: "9090",
      LOG_LEVEL: "debug",
      TZ_DEFAULT: "Europe/Berlin",
      RETRAIN_CRON: "0 3 * * *",
    });
    expect(config.telegramApiRoot).toBe("http://127.0.0.1:9000");
    expect([...config.adminTelegramIds]).toEqual([42n, 4242n]);
    expect(config.httpPort).toBe(9090);
    expect(config.logLevel).toBe("debug");
    expect(configSecrets(config)).toEqual(
      expect.arrayContaining([TOKEN, "s3cret-s3cret-s3cret", ":pw@"]),
    );
  });

  it("names every invalid variable in one error", () => {
    let error: unknown;
    try {
      parseConfig({
        DATABASE_URL: "mysql://nope",
        HTTP_PORT: "eighty",
        LOG_LEVEL: "loud",
        TZ_DEFAULT: "Mars/Olympus",
        ADMIN_TELEGRAM_IDS: "42,bob",
        WEBHOOK_URL: "https://x.example.org/hook",
        RETRAIN_CRON: "nightly",
        GOOGLE_CLIENT_EMAIL: "svc@example.iam.gserviceaccount.com",
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const name of [
      "DATABASE_URL",
      "HTTP_PORT",
      "LOG_LEVEL",
      "TZ_DEFAULT",
      "ADMIN_TELEGRAM_IDS",
      "WEBHOOK_URL is set but TELEGRAM_BOT_TOKEN",
      "WEBHOOK_SECRET",
      "RETRAIN_CRON",
      "GOOGLE_PRIVATE_KEY",
    ]) {
      expect(message).toContain(name);
    }
    expect((error as ConfigError).problems.length).toBe(9);
  });

  it("never echoes a malformed bot token", () => {
    expect(() => parseConfig({ TELEGRAM_BOT_TOKEN: "not-a-token-but-secret" })).toThrow(
      /TELEGRAM_BOT_TOKEN does not look like a bot token/,
    );
    try {
      parseConfig({ TELEGRAM_BOT_TOKEN: "not-a-token-but-secret" });
    } catch (e) {
      expect((e as Error).message).not.toContain("not-a-token-but-secret");
    }
  });

  it("a bad environment makes the CLI exit non-zero with the message and no stack trace", () => {
    const result = spawnSync("node", ["bin/coachrl.mjs", "migrate"], {
      env: { PATH: process.env.PATH, HTTP_PORT: "99999", LOG_LEVEL: "chatty" },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("HTTP_PORT must be between 0 and 65535, got 99999");
    expect(result.stderr).toContain("LOG_LEVEL must be one of");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
