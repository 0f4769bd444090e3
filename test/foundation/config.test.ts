import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ConfigError, configSecrets, parseConfig } from "../../src/config.js";

const TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345678";

/** The problems parseConfig reports for `env` (none when it parses). */
function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

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

  it("bounds every database wait: defaults, overrides, and refused values", () => {
    expect(parseConfig({}).databaseTimeouts).toEqual({
      connectMs: 5_000,
      statementMs: 15_000,
      idleInTransactionMs: 10_000,
    });
    const config = parseConfig({
      DATABASE_CONNECT_TIMEOUT_MS: "2000",
      DATABASE_STATEMENT_TIMEOUT_MS: "30000",
      DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: "60000",
    });
    expect(config.databaseTimeouts).toEqual({
      connectMs: 2_000,
      statementMs: 30_000,
      idleInTransactionMs: 60_000,
    });
    expect(
      problemsOf({ DATABASE_STATEMENT_TIMEOUT_MS: "0", DATABASE_CONNECT_TIMEOUT_MS: "5s" }),
    ).toEqual([
      'DATABASE_CONNECT_TIMEOUT_MS must be a whole number, got "5s"',
      "DATABASE_STATEMENT_TIMEOUT_MS must be between 100 and 3600000, got 0",
    ]);
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

  it("says for each variable what is wrong, with the value unless it may be a secret", () => {
    let error: unknown;
    try {
      parseConfig({
        DATABASE_URL: "mysql://app:db-password@db/coachrl",
        DATABASE_POOL_SIZE: "0",
        TELEGRAM_BOT_TOKEN: "not-a-token-but-secret",
        TELEGRAM_API_ROOT: "nope",
        WEBHOOK_URL: "ftp://x.example.org",
        WEBHOOK_SECRET: "short",
        HTTP_PORT: "99999",
        LOG_FORMAT: "xml",
        RETRAIN_WARM_START_FROM: "newest",
        GOOGLE_CLIENT_EMAIL: "svc",
        GOOGLE_PRIVATE_KEY: "key-material",
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect([...(error as ConfigError).problems].sort()).toEqual([
      "DATABASE_POOL_SIZE must be between 1 and 200, got 0",
      "DATABASE_URL must be a postgres:// or postgresql:// URL",
      'GOOGLE_CLIENT_EMAIL must be a service-account e-mail, got "svc"',
      "GOOGLE_PRIVATE_KEY must be a PEM private key (-----BEGIN PRIVATE KEY-----…)",
      "HTTP_PORT must be between 0 and 65535, got 99999",
      'LOG_FORMAT must be one of auto, json, pretty, got "xml"',
      'RETRAIN_WARM_START_FROM must be one of line, active, got "newest"',
      'TELEGRAM_API_ROOT must be an http(s) URL, got "nope"',
      "TELEGRAM_BOT_TOKEN does not look like a bot token (expected <digits>:<secret>)",
      "WEBHOOK_SECRET must be 16-256 characters of A-Z, a-z, 0-9, _ or - (Telegram's rule)",
      "WEBHOOK_URL must be an https URL (Telegram delivers webhooks only over https; http is accepted only for a loopback host such as 127.0.0.1, for local tests)",
    ]);
    const message = (error as Error).message;
    for (const secret of ["db-password", "not-a-token-but-secret", "short", "key-material"])
      expect(message).not.toContain(secret);
  });

  it("trims values, treats blank ones as unset and normalises case, slashes and key newlines", () => {
    const config = parseConfig({
      LOG_LEVEL: "DEBUG",
      LOG_FORMAT: " JSON ",
      TELEGRAM_API_ROOT: "http://127.0.0.1:9000//",
      SHEETS_API_ROOT: "   ",
      GOOGLE_CLIENT_EMAIL: "svc@example.iam.gserviceaccount.com",
      GOOGLE_PRIVATE_KEY: "-----BEGIN PRIVATE KEY-----\\nabc\\n-----END PRIVATE KEY-----",
      ADMIN_TELEGRAM_IDS: " 1, ,2 ",
      HTTP_PORT: " 0 ",
      RETRAIN_CRON: "off",
    });
    expect(config.logLevel).toBe("debug");
    expect(config.logPretty).toBe(false);
    expect(config.telegramApiRoot).toBe("http://127.0.0.1:9000");
    expect(config.sheetsApiRoot).toBe("https://sheets.googleapis.com");
    expect(config.google?.privateKey).toBe(
      "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----",
    );
    expect([...config.adminTelegramIds]).toEqual([1n, 2n]);
    expect(config.httpPort).toBe(0);
    expect(config.retrainCron).toBe("off");
    expect(config.retrainSteps).toBe(32_768);
    expect(config.retrainWarmStartFrom).toBe("line");
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

  it("checks RETRAIN_CRON with the cron parser the scheduler itself uses", () => {
    for (const cron of ["30 2 * * *", "*/15 2-4 * * 1-5", "0 3 * * MON", "0 0 * * 7", "off"]) {
      expect(parseConfig({ RETRAIN_CRON: cron }).retrainCron).toBe(cron);
    }
    expect(parseConfig({}).retrainCron).toBe("30 2 * * *");
    // five fields that no nightly run ever matches: refused at start-up, not silently off
    expect(problemsOf({ RETRAIN_CRON: "99 99 * * *" })).toEqual([
      'RETRAIN_CRON is not a schedule the scheduler accepts (Constraint error, got value 99 expected range 0-59): use a 5-field cron expression in UTC such as "30 2 * * *", or "off"; got "99 99 * * *"',
    ]);
    for (const cron of ["0 0 31 2 *", "0 0 * * 8", "a b c d e", "60 * * * *"]) {
      expect(problemsOf({ RETRAIN_CRON: cron })).toEqual([
        expect.stringMatching(
          /^RETRAIN_CRON is not a schedule the scheduler accepts \(.+\).*"30 2/,
        ),
      ]);
    }
    // the scheduler would take a seconds field; the nightly run is documented as 5 fields
    for (const cron of ["0 30 2 * * *", "nightly", "@daily"]) {
      expect(problemsOf({ RETRAIN_CRON: cron })).toEqual([
        `RETRAIN_CRON must be a 5-field cron expression in UTC (e.g. "30 2 * * *") or "off", got "${cron}"`,
      ]);
    }
  });

  it("requires an https WEBHOOK_URL (http only for a loopback host, as in local tests)", () => {
    const webhook = (url: string) => ({
      TELEGRAM_BOT_TOKEN: TOKEN,
      WEBHOOK_SECRET: "s3cret-s3cret-s3cret",
      WEBHOOK_URL: url,
    });
    const httpsOnly =
      "WEBHOOK_URL must be an https URL (Telegram delivers webhooks only over https; http is accepted only for a loopback host such as 127.0.0.1, for local tests)";
    for (const url of [
      "http://bot.example.org/telegram",
      "http://10.0.0.5:8080/hook",
      "http://127.0.0.1.example.org/hook",
      "ftp://bot.example.org/hook",
      "bot.example.org/hook",
    ]) {
      expect(problemsOf(webhook(url)), url).toEqual([httpsOnly]);
    }
    for (const url of [
      "https://bot.example.org/telegram",
      "http://127.0.0.1:8443/telegram/webhook",
      "http://localhost:8080/hook",
      "http://[::1]:8080/hook",
    ]) {
      expect(parseConfig(webhook(url)).webhookUrl, url).toBe(url);
    }
  });

  it("a bad environment makes the CLI exit non-zero with the message and no stack trace", () => {
    const result = spawnSync("node", ["bin/coachrl.mjs", "migrate"], {
      env: {
        PATH: process.env.PATH,
        HTTP_PORT: "99999",
        LOG_LEVEL: "chatty",
        RETRAIN_CRON: "99 99 * * *",
        TELEGRAM_BOT_TOKEN: TOKEN,
        WEBHOOK_SECRET: "s3cret-s3cret-s3cret",
        WEBHOOK_URL: "http://bot.example.org/telegram",
      },
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("HTTP_PORT must be between 0 and 65535, got 99999");
    expect(result.stderr).toContain("LOG_LEVEL must be one of");
    expect(result.stderr).toContain("RETRAIN_CRON is not a schedule the scheduler accepts");
    expect(result.stderr).toContain("WEBHOOK_URL must be an https URL");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);
});
