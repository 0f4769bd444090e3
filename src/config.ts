// The one typed configuration object, parsed from the environment (and an optional .env file)
// at start-up, validated by one zod schema per variable. Every invalid or missing variable is
// reported in one error.
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse as parseDotenv } from "dotenv";
import { z } from "zod";
import { cronProblem } from "./app/scheduling/cron.js";
import { isValidTimeZone } from "./coach/days.js";
import { type DatabaseTimeouts, DEFAULT_DATABASE_TIMEOUTS } from "./db/timeouts.js";

export type LogLevel = (typeof LOG_LEVELS)[number];

export interface GoogleCredentials {
  clientEmail: string;
  privateKey: string;
}

export interface AppConfig {
  /** Postgres connection string; undefined → embedded PGlite under dataDir. */
  databaseUrl: string | undefined;
  databasePoolSize: number;
  databaseAcquireTimeoutMs: number;
  /** connect, statement and idle-in-transaction bounds on every Postgres connection */
  databaseTimeouts: DatabaseTimeouts;
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
  /**
   * What a retrain's warm start continues: "line", the person's latest trained policy (nightly
   * steps add up), or "active", their active policy (src/app/training/training-policy.ts).
   */
  retrainWarmStartFrom: "line" | "active";
  /** cap on CPU-seconds of training per retrain (whichever of the two ends first); undefined: none. */
  retrainCpuSeconds: number | undefined;
  /** evaluation size and PPO width of a retrain; undefined → src/app/training/training-policy.ts */
  retrainEval: { episodes?: number; days?: number; numEnvs?: number };
  /** time limit of one retrain job in seconds (then it is stopped and retried). */
  retrainJobTimeoutSeconds: number;
  /** delay before the first retry of a failed retrain job, in seconds (then doubled). */
  retrainRetryDelaySeconds: number;
  /** PPO steps of a habit-set shape's population policy, seeded on first use; 0 (default): not seeded */
  populationPolicySteps: number;
  /** plausible people drawn from the behaviour fit that a retrain trains on; 0/1: the point estimate */
  retrainBehaviourSamples: number;
  /** controlled exploration of the day's plan (src/coach/exploration.ts); probability 0 = off */
  planExploration: { probability: number; maxCost: number };
  /** training worker threads in the bot process (0: this process only enqueues). */
  workers: number;
  /** maximum size in bytes of an ingest upload (CSV / Apple Health export). */
  ingestMaxBytes: number;
  /** outgoing messages per second in all, per private chat, and per group per minute */
  telegramSendRates: {
    globalPerSecond: number;
    perChatPerSecond: number;
    perGroupPerMinute: number;
  };
  /** when set, GET /metrics needs "Authorization: Bearer <token>" (a secret). */
  metricsToken: string | undefined;
  /** most weight samples one ingest upload may carry (more: refused whole, 413). */
  ingestMaxSamples: number;
  /** a file holding the simulated "now" (simulations and the soak only; src/app/clock.ts) */
  simulatedClockFile: string | undefined;
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

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

type Env = Record<string, string | undefined>;

/** Reads KEY=VALUE pairs from a .env file; values already in the environment win. */
export function loadDotenv(path: string, env: Env): Env {
  if (!existsSync(path)) return env;
  const fromFile = parseDotenv(readFileSync(path));
  return { ...fromFile, ...env };
}

// One schema per variable. An issue's message follows the variable's name, which is its path in
// the environment object ("HTTP_PORT" + "must be between 0 and 65535, got 99999"). Values that
// may be secrets (token, database URL, webhook secret, private key) are never echoed.

/** A whole number in [min, max]; unset → fallback. */
const wholeNumber = (fallback: number, min: number, max: number) =>
  z
    .string()
    .regex(/^-?\d+$/, { error: (issue) => `must be a whole number, got "${issue.input}"` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, {
      error: (issue) => `must be between ${min} and ${max}, got ${issue.input}`,
    })
    .default(fallback);

/** A decimal number in [min, max]; unset → fallback. */
const decimalNumber = (fallback: number, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?$/, {
      error: (issue) => `must be a number such as 0.1, got "${issue.input}"`,
    })
    .transform(Number)
    .refine((n) => n >= min && n <= max, {
      error: (issue) => `must be between ${min} and ${max}, got ${issue.input}`,
    })
    .default(fallback);

/** A URL with one of `protocols` (without the colon); `echo` adds the value to the message. */
const url = (protocols: string[], what: string, echo = true) =>
  z.url({
    protocol: new RegExp(`^(${protocols.join("|")})$`),
    error: (issue) => `must be ${what}${echo ? `, got "${issue.input}"` : ""}`,
  });

/** One of `values`, case-insensitively (the result is lower case). */
const oneOf = <T extends string>(values: readonly T[], fallback: NoInfer<T>) =>
  z
    .string()
    .default(fallback)
    .refine((v) => (values as readonly string[]).includes(v.toLowerCase()), {
      error: (issue) => `must be one of ${values.join(", ")}, got "${issue.input}"`,
    })
    .transform((v) => v.toLowerCase() as T);

const withoutTrailingSlash = (u: string) => u.replace(/\/+$/, "");

const LOOPBACK_HOSTS = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/** Telegram delivers webhooks only over https; plain http is for a local emulator or proxy. */
function isWebhookUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol, hostname } = new URL(value);
  return protocol === "https:" || (protocol === "http:" && LOOPBACK_HOSTS.test(hostname));
}

const HTTPS_ONLY =
  "must be an https URL (Telegram delivers webhooks only over https; http is accepted only for a loopback host such as 127.0.0.1, for local tests)";

const variables = z.object({
  DATABASE_URL: url(
    ["postgres", "postgresql"],
    "a postgres:// or postgresql:// URL",
    false,
  ).optional(),
  DATABASE_POOL_SIZE: wholeNumber(10, 1, 200),
  DATABASE_ACQUIRE_TIMEOUT_MS: wholeNumber(10_000, 100, 600_000),
  DATABASE_CONNECT_TIMEOUT_MS: wholeNumber(DEFAULT_DATABASE_TIMEOUTS.connectMs, 100, 600_000),
  DATABASE_STATEMENT_TIMEOUT_MS: wholeNumber(DEFAULT_DATABASE_TIMEOUTS.statementMs, 100, 3_600_000),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: wholeNumber(
    DEFAULT_DATABASE_TIMEOUTS.idleInTransactionMs,
    100,
    3_600_000,
  ),
  DATA_DIR: z.string().default("./.data"),
  TELEGRAM_BOT_TOKEN: z
    .string()
    .regex(
      /^\d+:[A-Za-z0-9_-]{20,}$/,
      "does not look like a bot token (expected <digits>:<secret>)",
    )
    .optional(),
  TELEGRAM_API_ROOT: url(["http", "https"], "an http(s) URL")
    .default("https://api.telegram.org")
    .transform(withoutTrailingSlash),
  WEBHOOK_URL: z.string().refine(isWebhookUrl, { error: HTTPS_ONLY }).optional(),
  WEBHOOK_SECRET: z
    .string()
    .regex(
      /^[A-Za-z0-9_-]{16,256}$/,
      "must be 16-256 characters of A-Z, a-z, 0-9, _ or - (Telegram's rule)",
    )
    .optional(),
  ADMIN_TELEGRAM_IDS: z
    .string()
    .default("")
    .transform((list) =>
      list
        .split(",")
        .map((id) => id.trim())
        .filter((id) => id !== ""),
    )
    .pipe(
      z.array(
        z.string().regex(/^\d{1,20}$/, {
          error: (issue) => `must be comma-separated numeric user ids, got "${issue.input}"`,
        }),
      ),
    )
    .transform((ids): ReadonlySet<bigint> => new Set(ids.map((id) => BigInt(id)))),
  HTTP_HOST: z.string().default("127.0.0.1"),
  HTTP_PORT: wholeNumber(8080, 0, 65535),
  LOG_LEVEL: oneOf(LOG_LEVELS, "info"),
  LOG_FORMAT: oneOf(["auto", "json", "pretty"], "auto"),
  NODE_ENV: z.string().optional(),
  TZ_DEFAULT: z
    .string()
    .refine(isValidTimeZone, {
      error: (issue) => `must be an IANA time zone such as Europe/Berlin, got "${issue.input}"`,
    })
    .default("UTC"),
  GOOGLE_CLIENT_EMAIL: z
    .string()
    .regex(/^[^@\s]+@[^@\s]+$/, {
      error: (issue) => `must be a service-account e-mail, got "${issue.input}"`,
    })
    .optional(),
  GOOGLE_PRIVATE_KEY: z
    .string()
    .transform((key) => key.replace(/\\n/g, "\n"))
    .refine((key) => key.includes("PRIVATE KEY"), {
      error: "must be a PEM private key (-----BEGIN PRIVATE KEY-----…)",
    })
    .optional(),
  SHEETS_API_ROOT: url(["http", "https"], "an http(s) URL")
    .default("https://sheets.googleapis.com")
    .transform(withoutTrailingSlash),
  RETRAIN_CRON: z
    .string()
    .superRefine((cron, ctx) => {
      if (cron === "off") return;
      if (cron.split(/\s+/).length !== 5) {
        ctx.addIssue({
          code: "custom",
          message: `must be a 5-field cron expression in UTC (e.g. "30 2 * * *") or "off", got "${cron}"`,
        });
        return;
      }
      const problem = cronProblem(cron);
      if (problem !== undefined) {
        ctx.addIssue({
          code: "custom",
          message: `is not a schedule the scheduler accepts (${problem}): use a 5-field cron expression in UTC such as "30 2 * * *", or "off"; got "${cron}"`,
        });
      }
    })
    .default("30 2 * * *"),
  RETRAIN_STEPS: wholeNumber(32_768, 1_000, 100_000_000),
  RETRAIN_WARM_START_FROM: oneOf(["line", "active"], "line"),
  RETRAIN_CPU_SECONDS: wholeNumber(0, 1, 24 * 3_600)
    .unwrap()
    .optional(),
  RETRAIN_EVAL_EPISODES: wholeNumber(0, 1, 10_000).unwrap().optional(),
  RETRAIN_EVAL_DAYS: wholeNumber(0, 7, 3_650).unwrap().optional(),
  RETRAIN_NUM_ENVS: wholeNumber(0, 1, 1_024).unwrap().optional(),
  RETRAIN_JOB_TIMEOUT: wholeNumber(3_600, 10, 23 * 3_600),
  RETRAIN_RETRY_DELAY: wholeNumber(60, 1, 3_600),
  POPULATION_POLICY_STEPS: wholeNumber(0, 0, 100_000_000),
  RETRAIN_BEHAVIOUR_SAMPLES: wholeNumber(0, 0, 64),
  PLAN_EXPLORATION_PROBABILITY: decimalNumber(0, 0, 1),
  PLAN_EXPLORATION_MAX_COST: decimalNumber(0.25, 0, 10),
  COACHRL_WORKERS: wholeNumber(1, 0, 256),
  INGEST_MAX_BYTES: wholeNumber(20 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
  INGEST_MAX_SAMPLES: wholeNumber(50_000, 1, 10_000_000),
  TELEGRAM_MESSAGES_PER_SECOND: wholeNumber(25, 1, 100_000),
  TELEGRAM_MESSAGES_PER_CHAT_PER_SECOND: wholeNumber(1, 1, 1_000),
  TELEGRAM_MESSAGES_PER_GROUP_PER_MINUTE: wholeNumber(20, 1, 60_000),
  METRICS_TOKEN: z
    .string()
    .min(16, { error: "must be at least 16 characters (a shared secret for the scraper)" })
    .optional(),
  SIMULATED_CLOCK_FILE: z.string().optional(),
});

/** Variables that only make sense together, checked on the raw values whatever else failed. */
const together = z
  .object({
    TELEGRAM_BOT_TOKEN: z.string().optional(),
    WEBHOOK_URL: z.string().optional(),
    WEBHOOK_SECRET: z.string().optional(),
    GOOGLE_CLIENT_EMAIL: z.string().optional(),
    GOOGLE_PRIVATE_KEY: z.string().optional(),
  })
  .superRefine((env, ctx) => {
    const problem = (variable: string, message: string) =>
      ctx.addIssue({ code: "custom", path: [variable], message });
    if (env.WEBHOOK_URL !== undefined && env.TELEGRAM_BOT_TOKEN === undefined)
      problem("WEBHOOK_URL", "is set but TELEGRAM_BOT_TOKEN is not (webhook mode needs a bot)");
    if (env.WEBHOOK_URL !== undefined && env.WEBHOOK_SECRET === undefined)
      problem("WEBHOOK_SECRET", "is required when WEBHOOK_URL is set");
    if ((env.GOOGLE_CLIENT_EMAIL === undefined) !== (env.GOOGLE_PRIVATE_KEY === undefined))
      problem("GOOGLE_CLIENT_EMAIL", "and GOOGLE_PRIVATE_KEY must be set together");
  });

/** "HTTP_PORT must be between 0 and 65535, got 99999": the variable, then what is wrong. */
const problemOf = (issue: z.core.$ZodIssue) => `${String(issue.path[0])} ${issue.message}`;

/** Parses the environment into an AppConfig, or throws one ConfigError naming every bad variable. */
export function parseConfig(rawEnv: Env): AppConfig {
  const env: Env = {};
  for (const [key, value] of Object.entries(rawEnv)) {
    env[key] = value === undefined || value.trim() === "" ? undefined : value.trim();
  }
  const parsed = variables.safeParse(env);
  const pairs = together.safeParse(env);
  const problems = [...(parsed.error?.issues ?? []), ...(pairs.error?.issues ?? [])].map(problemOf);
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const v = parsed.data;
  return {
    databaseUrl: v.DATABASE_URL,
    databasePoolSize: v.DATABASE_POOL_SIZE,
    databaseAcquireTimeoutMs: v.DATABASE_ACQUIRE_TIMEOUT_MS,
    databaseTimeouts: {
      connectMs: v.DATABASE_CONNECT_TIMEOUT_MS,
      statementMs: v.DATABASE_STATEMENT_TIMEOUT_MS,
      idleInTransactionMs: v.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    },
    dataDir: resolve(v.DATA_DIR),
    telegramBotToken: v.TELEGRAM_BOT_TOKEN,
    telegramApiRoot: v.TELEGRAM_API_ROOT,
    webhookUrl: v.WEBHOOK_URL,
    webhookSecret: v.WEBHOOK_SECRET,
    adminTelegramIds: v.ADMIN_TELEGRAM_IDS,
    httpHost: v.HTTP_HOST,
    httpPort: v.HTTP_PORT,
    logLevel: v.LOG_LEVEL,
    logPretty:
      v.LOG_FORMAT === "pretty" ||
      (v.LOG_FORMAT === "auto" && v.NODE_ENV !== "production" && process.stdout.isTTY === true),
    tzDefault: v.TZ_DEFAULT,
    google:
      v.GOOGLE_CLIENT_EMAIL !== undefined && v.GOOGLE_PRIVATE_KEY !== undefined
        ? { clientEmail: v.GOOGLE_CLIENT_EMAIL, privateKey: v.GOOGLE_PRIVATE_KEY }
        : undefined,
    sheetsApiRoot: v.SHEETS_API_ROOT,
    retrainCron: v.RETRAIN_CRON,
    retrainSteps: v.RETRAIN_STEPS,
    retrainWarmStartFrom: v.RETRAIN_WARM_START_FROM,
    retrainCpuSeconds: v.RETRAIN_CPU_SECONDS,
    retrainEval: {
      episodes: v.RETRAIN_EVAL_EPISODES,
      days: v.RETRAIN_EVAL_DAYS,
      numEnvs: v.RETRAIN_NUM_ENVS,
    },
    retrainJobTimeoutSeconds: v.RETRAIN_JOB_TIMEOUT,
    retrainRetryDelaySeconds: v.RETRAIN_RETRY_DELAY,
    populationPolicySteps: v.POPULATION_POLICY_STEPS,
    retrainBehaviourSamples: v.RETRAIN_BEHAVIOUR_SAMPLES,
    planExploration: {
      probability: v.PLAN_EXPLORATION_PROBABILITY,
      maxCost: v.PLAN_EXPLORATION_MAX_COST,
    },
    workers: v.COACHRL_WORKERS,
    ingestMaxBytes: v.INGEST_MAX_BYTES,
    ingestMaxSamples: v.INGEST_MAX_SAMPLES,
    metricsToken: v.METRICS_TOKEN,
    telegramSendRates: {
      globalPerSecond: v.TELEGRAM_MESSAGES_PER_SECOND,
      perChatPerSecond: v.TELEGRAM_MESSAGES_PER_CHAT_PER_SECOND,
      perGroupPerMinute: v.TELEGRAM_MESSAGES_PER_GROUP_PER_MINUTE,
    },
    simulatedClockFile:
      v.SIMULATED_CLOCK_FILE === undefined ? undefined : resolve(v.SIMULATED_CLOCK_FILE),
  };
}

/** Loads .env (if present in the working directory) and parses the process environment. */
export function loadConfig(env: Env = process.env, dotenvPath = resolve(".env")): AppConfig {
  return parseConfig(loadDotenv(dotenvPath, env));
}

/** The secrets of a configuration, so that loggers can redact them wherever they appear. */
export function configSecrets(config: AppConfig): string[] {
  const secrets = [
    config.telegramBotToken,
    config.webhookSecret,
    config.google?.privateKey,
    config.metricsToken,
  ];
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
