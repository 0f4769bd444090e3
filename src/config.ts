// The one typed configuration object, parsed from the environment (and an optional .env file)
// at start-up. Every invalid or missing variable is reported in one error.
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse as parseDotenv } from "dotenv";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export interface GoogleCredentials {
  clientEmail: string;
  privateKey: string;
}

export interface AppConfig {
  /** Postgres connection string; undefined → embedded PGlite under dataDir. */
  databaseUrl: string | undefined;
  databasePoolSize: number;
  databaseAcquireTimeoutMs: number;
  dataDir: string;
  /** undefined → local chat mode in the terminal. */
  telegramBotToken: string | undefined;
  telegramApiRoot: string;
  webhookUrl: string | undefined;
  webhookSecret: string | undefined;
  adminTelegramIds: ReadonlySet<bigint>;
  httpHost: string;
  httpPort: number;
  logLevel: LogLevel;
  logPretty: boolean;
  tzDefault: string;
  google: GoogleCredentials | undefined;
  sheetsApiRoot: string;
  /** cron expression (node-schedule) for the nightly retrain, in UTC; "off" disables it. */
  retrainCron: string;
  /** cap on simulated steps per nightly/admin retrain. */
  retrainSteps: number;
  /** maximum size in bytes of an ingest upload (CSV / Apple Health export). */
  ingestMaxBytes: number;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems
        .map((p) => `  - ${p}`)
        .join("\n")}`,
    );
    this.name = "ConfigError";
    this.problems = problems;
  }
}

const LOG_LEVELS: readonly LogLevel[] = [
  "fatal",
  "error",
  "warn",
  "info",
  "debug",
  "trace",
  "silent",
];

type Env = Record<string, string | undefined>;

/** Reads KEY=VALUE pairs from a .env file; values already in the environment win. */
export function loadDotenv(path: string, env: Env): Env {
  if (!existsSync(path)) return env;
  const fromFile = parseDotenv(readFileSync(path));
  return { ...fromFile, ...env };
}

function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function isValidUrl(value: string, protocols: string[]): boolean {
  try {
    const url = new URL(value);
    return protocols.includes(url.protocol);
  } catch {
    return false;
  }
}

/** Parses the environment into an AppConfig, or throws one ConfigError naming every bad variable. */
export function parseConfig(rawEnv: Env): AppConfig {
  const problems: string[] = [];
  const env: Env = {};
  for (const [key, value] of Object.entries(rawEnv)) {
    env[key] = value === undefined || value.trim() === "" ? undefined : value.trim();
  }

  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined) return fallback;
    if (!/^-?\d+$/.test(raw)) {
      problems.push(`${name} must be a whole number, got "${raw}"`);
      return fallback;
    }
    const n = Number(raw);
    if (n < min || n > max) {
      problems.push(`${name} must be between ${min} and ${max}, got ${n}`);
      return fallback;
    }
    return n;
  };

  const databaseUrl = env.DATABASE_URL;
  if (databaseUrl !== undefined && !isValidUrl(databaseUrl, ["postgres:", "postgresql:"])) {
    problems.push("DATABASE_URL must be a postgres:// or postgresql:// URL");
  }

  const telegramBotToken = env.TELEGRAM_BOT_TOKEN;
  if (telegramBotToken !== undefined && !/^\d+:[A-Za-z0-9_-]{20,}$/.test(telegramBotToken)) {
    // never echo the token itself
    problems.push("TELEGRAM_BOT_TOKEN does not look like a bot token (expected <digits>:<secret>)");
  }

  const telegramApiRoot = env.TELEGRAM_API_ROOT ?? "https://api.telegram.org";
  if (!isValidUrl(telegramApiRoot, ["http:", "https:"])) {
    problems.push(`TELEGRAM_API_ROOT must be an http(s) URL, got "${telegramApiRoot}"`);
  }

  const webhookUrl = env.WEBHOOK_URL;
  const webhookSecret = env.WEBHOOK_SECRET;
  if (webhookUrl !== undefined) {
    if (!isValidUrl(webhookUrl, ["https:", "http:"])) {
      problems.push("WEBHOOK_URL must be an https URL");
    }
    if (telegramBotToken === undefined) {
      problems.push("WEBHOOK_URL is set but TELEGRAM_BOT_TOKEN is not (webhook mode needs a bot)");
    }
    if (webhookSecret === undefined) {
      problems.push("WEBHOOK_SECRET is required when WEBHOOK_URL is set");
    }
  }
  if (webhookSecret !== undefined && !/^[A-Za-z0-9_-]{16,256}$/.test(webhookSecret)) {
    problems.push(
      "WEBHOOK_SECRET must be 16-256 characters of A-Z, a-z, 0-9, _ or - (Telegram's rule)",
    );
  }

  const adminTelegramIds = new Set<bigint>();
  for (const part of (env.ADMIN_TELEGRAM_IDS ?? "").split(",")) {
    const id = part.trim();
    if (id === "") continue;
    if (!/^\d{1,20}$/.test(id)) {
      problems.push(`ADMIN_TELEGRAM_IDS must be comma-separated numeric user ids, got "${id}"`);
      continue;
    }
    adminTelegramIds.add(BigInt(id));
  }

  const httpHost = env.HTTP_HOST ?? "127.0.0.1";
  const httpPort = int("HTTP_PORT", 8080, 0, 65535);

  const logLevelRaw = (env.LOG_LEVEL ?? "info").toLowerCase();
  let logLevel: LogLevel = "info";
  if ((LOG_LEVELS as readonly string[]).includes(logLevelRaw)) logLevel = logLevelRaw as LogLevel;
  else problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got "${env.LOG_LEVEL}"`);

  const logFormat = (env.LOG_FORMAT ?? "auto").toLowerCase();
  if (!["auto", "json", "pretty"].includes(logFormat)) {
    problems.push(`LOG_FORMAT must be auto, json or pretty, got "${env.LOG_FORMAT}"`);
  }
  const logPretty =
    logFormat === "pretty" ||
    (logFormat === "auto" && env.NODE_ENV !== "production" && process.stdout.isTTY === true);

  const tzDefault = env.TZ_DEFAULT ?? "UTC";
  if (!isValidTimeZone(tzDefault)) {
    problems.push(`TZ_DEFAULT must be an IANA time zone such as Europe/Berlin, got "${tzDefault}"`);
  }

  let google: GoogleCredentials | undefined;
  const clientEmail = env.GOOGLE_CLIENT_EMAIL;
  const privateKey = env.GOOGLE_PRIVATE_KEY;
  if ((clientEmail === undefined) !== (privateKey === undefined)) {
    problems.push("GOOGLE_CLIENT_EMAIL and GOOGLE_PRIVATE_KEY must be set together");
  } else if (clientEmail !== undefined && privateKey !== undefined) {
    if (!/^[^@\s]+@[^@\s]+$/.test(clientEmail)) {
      problems.push(`GOOGLE_CLIENT_EMAIL must be a service-account e-mail, got "${clientEmail}"`);
    }
    const key = privateKey.replace(/\\n/g, "\n");
    if (!key.includes("PRIVATE KEY")) {
      problems.push("GOOGLE_PRIVATE_KEY must be a PEM private key (-----BEGIN PRIVATE KEY-----…)");
    }
    google = { clientEmail, privateKey: key };
  }
  const sheetsApiRoot = env.SHEETS_API_ROOT ?? "https://sheets.googleapis.com";
  if (!isValidUrl(sheetsApiRoot, ["http:", "https:"])) {
    problems.push(`SHEETS_API_ROOT must be an http(s) URL, got "${sheetsApiRoot}"`);
  }

  const retrainCron = env.RETRAIN_CRON ?? "30 2 * * *";
  if (retrainCron !== "off" && retrainCron.split(/\s+/).length !== 5) {
    problems.push(
      `RETRAIN_CRON must be a 5-field cron expression (e.g. "30 2 * * *") or "off", got "${retrainCron}"`,
    );
  }

  const config: AppConfig = {
    databaseUrl,
    databasePoolSize: int("DATABASE_POOL_SIZE", 10, 1, 200),
    databaseAcquireTimeoutMs: int("DATABASE_ACQUIRE_TIMEOUT_MS", 10_000, 100, 600_000),
    dataDir: resolve(env.DATA_DIR ?? "./.data"),
    telegramBotToken,
    telegramApiRoot: telegramApiRoot.replace(/\/+$/, ""),
    webhookUrl,
    webhookSecret,
    adminTelegramIds,
    httpHost,
    httpPort,
    logLevel,
    logPretty,
    tzDefault,
    google,
    sheetsApiRoot: sheetsApiRoot.replace(/\/+$/, ""),
    retrainCron,
    retrainSteps: int("RETRAIN_STEPS", 200_000, 1_000, 100_000_000),
    ingestMaxBytes: int("INGEST_MAX_BYTES", 20 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Loads .env (if present in the working directory) and parses the process environment. */
export function loadConfig(env: Env = process.env, dotenvPath = resolve(".env")): AppConfig {
  return parseConfig(loadDotenv(dotenvPath, env));
}

/** The secrets of a configuration, so that loggers can redact them wherever they appear. */
export function configSecrets(config: AppConfig): string[] {
  const secrets = [config.telegramBotToken, config.webhookSecret, config.google?.privateKey];
  if (config.databaseUrl) {
    try {
      const password = new URL(config.databaseUrl).password;
      if (password) {
        // the password alone when long enough to be unambiguous, and always as ":password@"
        secrets.push(
          decodeURIComponent(password),
          `:${password}@`,
          `:${decodeURIComponent(password)}@`,
        );
      }
    } catch {
      // unparsable URLs were rejected by parseConfig
    }
  }
  return secrets.filter((s): s is string => typeof s === "string" && s.length >= 4);
}
