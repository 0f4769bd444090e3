// `coachrl worker [--concurrency N]`: a process that only trains. It connects to DATABASE_URL,
// takes `retrain` jobs from the shared queue (pg-boss), trains each in a worker thread (N at a
// time, default one per core), stores the model and the run, and on SIGTERM/SIGINT releases the
// job in progress to another worker and exits.
import { availableParallelism, hostname } from "node:os";
import { createPgBossQueue } from "../app/training/pg-boss-queue.js";
import { configSecrets, loadConfig } from "../config.js";
import { openDatabase } from "../db/client.js";
import { migrate } from "../db/migrate.js";
import { createLogger } from "../logger.js";
import { positiveInteger, runCommand } from "./args.js";

const USAGE = `Usage: coachrl worker [--concurrency N]

Trains the retrain jobs queued by the bot (the nightly retrain, /retrain, coachrl retrain):
connects to DATABASE_URL, takes jobs, trains N at a time in worker threads, stores each new
policy and its training run. Start as many as you like, on any machine that reaches the
database. SIGTERM (or Ctrl-C) releases the job in progress to another worker and exits.
Needs Postgres: with the embedded database (no DATABASE_URL) the bot trains in-process.

Options:
  --concurrency N   trainings at a time (default: one per core, here ${availableParallelism()})`;

const OPTIONS = { concurrency: { type: "string" } } as const;

export function run(argv: string[]): Promise<number> {
  return runCommand(argv, USAGE, OPTIONS, async (values) => {
    const concurrency =
      values.concurrency === undefined
        ? availableParallelism()
        : positiveInteger(values.concurrency, "--concurrency");
    const config = loadConfig();
    if (config.databaseUrl === undefined) {
      throw new Error(
        "coachrl worker needs Postgres: set DATABASE_URL. With the embedded database (PGlite) only the bot process can open it, and it trains in-process.",
      );
    }
    const log = createLogger({
      level: config.logLevel,
      pretty: config.logPretty,
      secrets: configSecrets(config),
    });
    const db = await openDatabase(config);
    await db.withSession((session) => migrate(session, { log }));
    const instance = `worker ${hostname()}:${process.pid}`;
    const queue = await createPgBossQueue(
      { config, db, log, now: () => new Date() },
      { url: config.databaseUrl, instance },
    );
    await queue.work(concurrency);
    log.info({ concurrency, instance }, "training worker started");
    await new Promise<void>((resolve) => {
      process.once("SIGTERM", () => resolve());
      process.once("SIGINT", () => resolve());
    });
    log.info("stopping: releasing the jobs in progress");
    await queue.stop();
    await db.close();
    log.info("training worker stopped");
    return 0;
  });
}
