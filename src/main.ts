// The composition root: configuration → logger → database (+ migrations) → HTTP server → the bot
// in one of three modes, and a graceful shutdown on SIGINT/SIGTERM.
//   - local chat mode when TELEGRAM_BOT_TOKEN is unset: the bot in this terminal (docs/bot.md);
//   - webhook mode when WEBHOOK_URL is set: updates arrive at the HTTP server;
//   - long polling otherwise.
import { hostname } from "node:os";
import { join } from "node:path";
import type { Telegraf } from "telegraf";
import { workerChartRenderer } from "./app/charts/renderer.js";
import { type AppClock, simulatedClock, systemClock } from "./app/clock.js";
import { activePolicyPlanners } from "./app/policy-planner.js";
import { cronOccurrences } from "./app/scheduling/cron.js";
import { startSchedules } from "./app/scheduling/schedule.js";
import { createSendBudget } from "./app/send-budget.js";
import { enqueueNightly } from "./app/training/nightly.js";
import { startNightlyAlerts } from "./app/training/nightly-report.js";
import { openTrainingQueue } from "./app/training/open-queue.js";
import { pruneHandledUpdates } from "./app/updates.js";
import { workerWeightUploadReader } from "./app/weight-upload-reader.js";
import { createBot, publishCommandMenu } from "./bot/bot.js";
import { createCheckInSender } from "./bot/commands/check-in.js";
import { createPlanSender } from "./bot/commands/plan.js";
import type { BotDeps, CoachContext } from "./bot/context.js";
import { retryInProcess } from "./bot/delivery.js";
import { LocalBotApi, localLogFile, runLocalChat } from "./bot/local-chat.js";
import { createSheetEditsReporter, createSheetsNotifier } from "./bot/sheets-notice.js";
import { createTrainingAlertSender } from "./bot/training-alerts.js";
import { createWebhookHandler, webhookPath } from "./bot/webhook.js";
import { type AppConfig, ConfigError, configSecrets, loadConfig } from "./config.js";
import { type Database, openDatabase } from "./db/client.js";
import { MigrationError, migrate } from "./db/migrate.js";
import { openSendBudgetStore } from "./db/send-budget.js";
import { createHttpServer, type HttpServer } from "./http/server.js";
import { registerIngestRoutes } from "./ingest/http.js";
import { createLogger, endLog, type Logger } from "./logger.js";
import { initBackend } from "./rl/backend.js";
import { startSheetsMirror } from "./sheets/mirror.js";

/** How often handled update ids older than their retention are forgotten while running. */
export const PROCESSED_UPDATE_PRUNE_INTERVAL_MS = 3_600_000;

/** Updates the bot asks Telegram for. */
export const ALLOWED_UPDATES = ["message", "callback_query"] as const;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function readConfig(): AppConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
}

/** A one-line explanation of why the bot could not start (no stack: the log has details). */
function startFailure(error: unknown, config: AppConfig): string {
  const code = (error as { code?: unknown }).code;
  const description = (error as { description?: unknown }).description;
  if (code === 401)
    return "Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized): check the token from @BotFather.";
  if (code === 409) {
    return "Telegram reports a conflict (409): another instance is polling with this token, or a webhook is set (start with WEBHOOK_URL, or delete the webhook).";
  }
  if (code === "EADDRINUSE")
    return `HTTP_PORT ${config.httpPort} is already in use on ${config.httpHost}.`;
  if (typeof description === "string") return `Telegram refused to start the bot: ${description}`;
  const message = error instanceof Error ? error.message : String(error);
  return `Could not start the bot (Telegram API at ${config.telegramApiRoot}): ${message}`;
}

interface Running {
  /** stops taking new updates and waits for in-flight ones */
  stop(reason: string): Promise<void>;
}

/**
 * telegraf 4's launch() answers onLaunch after getMe but starts its polling loop only once
 * Telegram has answered deleteWebhook; its stop() throws "Bot is not running!" in that gap, and
 * a loop started after a stop would poll on. The instance's startPolling (internal) is wrapped to
 * know when the loop starts and not to start it once a stop was asked for.
 */
function guardPollingStart(bot: Telegraf<CoachContext>): { stop: (reason: string) => void } {
  const internals = bot as unknown as { startPolling?: (allowed?: unknown) => Promise<void> };
  const original = internals.startPolling;
  if (typeof original !== "function") {
    // another telegraf: stop what is running, and nothing when nothing is
    return {
      stop: (reason) => {
        try {
          bot.stop(reason);
        } catch {
          // not polling yet
        }
      },
    };
  }
  let started = false;
  let stopAsked = false;
  internals.startPolling = (allowed) => {
    if (stopAsked) return Promise.resolve();
    started = true;
    return original.call(bot, allowed);
  };
  return {
    stop: (reason) => {
      stopAsked = true;
      if (started) bot.stop(reason);
    },
  };
}

async function startPolling(bot: Telegraf<CoachContext>, log: Logger): Promise<Running> {
  // an update that failed for a transient reason is retried here (nobody re-delivers it)
  const retries = retryInProcess(bot, { log });
  const polling = guardPollingStart(bot);
  let launched!: Promise<void>;
  await new Promise<void>((resolve, reject) => {
    launched = bot.launch({ allowedUpdates: [...ALLOWED_UPDATES] }, () => resolve());
    launched.catch(reject);
  });
  launched.catch((error: unknown) => {
    log.fatal({ err: error }, "long polling stopped with an error");
    process.exitCode = 1;
  });
  log.info({ bot: bot.botInfo?.username }, "bot started (long polling)");
  return {
    async stop(reason) {
      retries.stop();
      polling.stop(reason);
      // until the loop has ended (or, stopped before it started, until launch() has returned)
      await launched.catch(() => {});
    },
  };
}

async function startWebhook(
  bot: Telegraf<CoachContext>,
  config: AppConfig,
  http: HttpServer,
  log: Logger,
): Promise<Running> {
  const url = config.webhookUrl!;
  const secret = config.webhookSecret!;
  const handler = createWebhookHandler(bot, {
    secret,
    log,
    observe: (status, seconds) => http.metrics.observeWebhook(status, seconds),
  });
  http.route("POST", webhookPath(url), handler);
  bot.botInfo = await bot.telegram.getMe();
  await bot.telegram.setWebhook(url, {
    secret_token: secret,
    allowed_updates: [...ALLOWED_UPDATES],
  });
  log.info({ path: webhookPath(url), bot: bot.botInfo.username }, "bot started (webhook)");
  // Waits for the updates in flight and refuses later ones (Telegram's connections stay open
  // after the server stops listening); the HTTP server's close() then ends those connections.
  return { stop: () => handler.stop() };
}

/** The work beside the chat: morning plan pushes, the nightly retrain, the Sheets mirror. */
function startBackgroundJobs(
  bot: Telegraf<CoachContext>,
  deps: BotDeps,
  clock: AppClock,
): { stop(): Promise<void> } {
  const instance = `${hostname()}:${process.pid}`;
  // claimed per job and person, so several instances never do the same work twice
  const schedules = startSchedules(deps, createPlanSender(bot.telegram, deps), {
    sendCheckIn: createCheckInSender(bot.telegram, deps),
  });
  // the nightly retrain: a schedule of the training queue, fired once across instances
  // ("off" also removes a schedule an earlier start left in the database). A simulated clock
  // fires it itself, for every night a jump passes over (the queue's cron follows real time).
  deps.training
    .scheduleNightly(clock.simulated ? "off" : deps.config.retrainCron)
    .catch((error: unknown) =>
      deps.log.error({ err: error }, "the nightly retrain could not be scheduled"),
    );
  clock.onJump((from, to) => {
    schedules.tickPlans().catch((error) => deps.log.error({ err: error }, "plan push tick failed"));
    schedules
      .tickCheckIns()
      .catch((error) => deps.log.error({ err: error }, "evening check-in tick failed"));
    if (deps.config.retrainCron === "off") return;
    for (const night of cronOccurrences(deps.config.retrainCron, from, to)) {
      enqueueNightly(deps, deps.training, night, instance).catch((error: unknown) =>
        deps.log.error({ err: error }, "nightly retrain could not be queued"),
      );
    }
  });
  // admins hear once how each night went, and at once when a night is failing (claimed once)
  const nightAlerts = startNightlyAlerts(
    deps,
    createTrainingAlertSender(bot.telegram, deps),
    instance,
  );
  // a no-op with one info line when GOOGLE_* is unset
  const sheets = startSheetsMirror({
    db: deps.db,
    log: deps.log,
    config: deps.config,
    now: deps.now,
    notifyPerson: createSheetsNotifier(bot.telegram, deps, deps.config.google?.clientEmail),
    reportEdits: createSheetEditsReporter(bot.telegram, deps),
  });
  // a simulated clock's jump is time passing: the mirror looks again at once (due retries)
  clock.onJump(() => {
    sheets.tick().catch((error: unknown) => deps.log.warn({ err: error }, "sheets tick failed"));
  });
  // claims are stamped by the database's clock, so they age by the real one (not a simulated one)
  const pruning = setInterval(() => {
    pruneHandledUpdates(deps.db, new Date()).catch((error: unknown) =>
      deps.log.warn({ err: error }, "could not prune processed updates"),
    );
  }, PROCESSED_UPDATE_PRUNE_INTERVAL_MS);
  pruning.unref();
  return {
    async stop() {
      clearInterval(pruning);
      clock.stop();
      await schedules.stop();
      await nightAlerts.stop();
      await sheets.stop();
    },
  };
}

/**
 * SIGINT and SIGTERM are the app's from its first line. One that arrives while the app is still
 * starting (migrating, registering the webhook) is kept and acted on as soon as everything that
 * started can be stopped: Node's default would kill the process half-way, with an exit by signal
 * that a process manager reads as a crash. A repeated signal never interrupts a stop under way.
 */
function takeStopSignals(): { onStop(stop: (signal: NodeJS.Signals) => void): void } {
  let pending: NodeJS.Signals | undefined;
  let stop: ((signal: NodeJS.Signals) => void) | undefined;
  const receive = (signal: NodeJS.Signals) => {
    if (stop) stop(signal);
    else pending ??= signal;
  };
  process.on("SIGINT", receive);
  process.on("SIGTERM", receive);
  return {
    onStop(handler) {
      stop = handler;
      if (pending) handler(pending);
    },
  };
}

async function main(): Promise<void> {
  const signals = takeStopSignals();
  const config = readConfig();
  const localChat = config.telegramBotToken === undefined;
  const logFile = localChat ? localLogFile(config.dataDir) : undefined;
  const log = createLogger({
    level: config.logLevel,
    pretty: config.logPretty && !localChat,
    secrets: configSecrets(config),
    ...(logFile ? { destination: logFile } : {}),
  });

  let db: Database;
  try {
    db = await openDatabase(config);
    const result = await db.withSession((session) => migrate(session, { log }));
    if (result.applied.length > 0) log.info({ applied: result.applied }, "migrations applied");
    // Telegram re-delivers an update for at most a day; older ids need not be remembered (also
    // pruned every hour while running, see startBackgroundJobs).
    await pruneHandledUpdates(db, new Date());
  } catch (error) {
    if (error instanceof MigrationError) fail(error.message);
    log.fatal({ err: error }, "could not open the database");
    fail(`Could not open the database: ${error instanceof Error ? error.message : String(error)}`);
  }

  // Pick the TensorFlow.js backend now (tfjs-node, else WASM, else CPU) and log the choice; policies
  // and the retrain worker use the same rule. A failure only matters once a policy is needed.
  void initBackend({ logger: log }).catch((error: unknown) =>
    log.warn({ err: error }, "no TensorFlow.js backend: plans fall back to the heuristic"),
  );
  const http = localChat
    ? undefined
    : createHttpServer({
        log,
        db,
        ...(config.metricsToken ? { metricsToken: config.metricsToken } : {}),
      });
  // Body weight from scales and phone automations: POST /ingest/weight (docs/ingest.md).
  let clock: AppClock;
  try {
    clock = config.simulatedClockFile
      ? simulatedClock(config.simulatedClockFile, log)
      : systemClock();
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const now = clock.now;
  // Uploads are parsed in a worker thread, so a large one never delays anyone's update.
  const uploads = workerWeightUploadReader();
  if (http) registerIngestRoutes(http, { db, log, config, now, uploads });
  // Plans come from the person's active trained policy when there is one (heuristic otherwise).
  const policyPlanners = activePolicyPlanners(db);
  // Charts are drawn in a worker thread so that one /stats never delays anyone else's reply.
  const charts = workerChartRenderer();
  // The training queue (pg-boss on Postgres, in-process on PGlite): /retrain and the nightly
  // schedule enqueue; this process also trains unless COACHRL_WORKERS=0 (docs/operations.md).
  const training = await openTrainingQueue({ config, db, log, now });
  if (config.workers > 0) await training.work(config.workers);
  /** Releases a training in progress, ends the chart worker, and frees the loaded policies. */
  const releaseWorkers = async () => {
    await training.stop();
    policyPlanners.dispose();
    await charts.close();
    await uploads.close();
    await sendBudget?.close();
  };
  // Outgoing messages within Telegram's limits, counted across instances in Postgres
  // (in memory with PGlite); the local chat has no Telegram to respect.
  const sendBudget = localChat
    ? undefined
    : createSendBudget({
        rates: config.telegramSendRates,
        ...(config.databaseUrl ? { store: openSendBudgetStore(config.databaseUrl) } : {}),
        log,
      });
  const deps: BotDeps = {
    config,
    db,
    log,
    now,
    training,
    ...(sendBudget ? { sendBudget } : {}),
    chartsDir: join(config.dataDir, "charts"),
    loadPolicyPlanner: policyPlanners.load,
    charts,
    ...(http
      ? {
          countUpdate: (outcome, seconds) => http.countUpdate(outcome, seconds),
          observeTelegramCall: (method, outcome, seconds) =>
            http.metrics.observeTelegramCall(method, outcome, seconds),
        }
      : {}),
  };

  if (localChat) {
    const api = new LocalBotApi({
      output: process.stdout,
      filesDir: deps.chartsDir,
      stateFile: join(config.dataDir, "local-chat.json"),
    });
    const localDeps: BotDeps = { ...deps, transport: api.handle };
    const bot = createBot(localDeps);
    // The morning plan, the nightly retrain and the mirror also run while the local chat is open.
    const background = startBackgroundJobs(bot, localDeps, clock);
    let finishing = false;
    const finish = async (code: number) => {
      if (finishing) return;
      finishing = true;
      await background.stop();
      await releaseWorkers();
      await db.close();
      await new Promise<void>((resolve) => logFile?.end(resolve) ?? resolve());
      process.exit(code);
    };
    signals.onStop(() => void finish(0));
    await runLocalChat(bot, {
      input: process.stdin,
      output: process.stdout,
      api,
      prompt: process.stdin.isTTY === true,
    });
    await finish(0);
    return;
  }

  const bot = createBot(deps);
  let running: Running;
  try {
    await http!.listen(config.httpHost, config.httpPort);
    running = config.webhookUrl
      ? await startWebhook(bot, config, http!, log)
      : await startPolling(bot, log);
  } catch (error) {
    log.fatal({ err: error }, "could not start the bot");
    await http!.close().catch(() => {});
    await db.close().catch(() => {});
    fail(startFailure(error, config));
  }
  void publishCommandMenu(bot.telegram, log);
  const background = startBackgroundJobs(bot, deps, clock);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down: finishing in-flight updates");
    await background.stop();
    await running.stop(signal);
    await releaseWorkers();
    await http!.close();
    await db.close();
    log.info("stopped cleanly");
    await endLog(log);
    process.exit(process.exitCode ?? 0);
  };
  // a repeated signal (Ctrl-C reaches `npm start` and the app, and npm passes it on too) must not
  // kill the process half-way through its shutdown: `stopping` above, and the handlers stay
  signals.onStop((signal) => void shutdown(signal));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
