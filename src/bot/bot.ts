// The bot, composed from small modules: middleware (context + logging, process-once, person),
// one module per command, and the catch-all handlers last. The same bot runs in long polling,
// webhook and local chat mode (see src/main.ts and docs/bot.md).
import { Context, Telegraf, type Telegram } from "telegraf";
import type { Update, UserFromGetMe } from "telegraf/types";
import type { User } from "../generated/prisma/client.js";
import type { Logger } from "../logger.js";
import { adminCommands } from "./commands/admin.js";
import { openQuestionAnswers } from "./commands/answers.js";
import { deletemeCommand } from "./commands/deleteme.js";
import { doneCommand, plainReports } from "./commands/done.js";
import { exportCommand } from "./commands/export.js";
import { habitWizard } from "./commands/habit-wizard.js";
import { habitsCommand } from "./commands/habits.js";
import { helpCommand } from "./commands/help.js";
import { intensityCommand } from "./commands/intensity.js";
import { planCommand } from "./commands/plan.js";
import { planSteeringButtons, planSteeringText } from "./commands/plan-steering.js";
import { runsCommand } from "./commands/runs.js";
import { settingsCommand } from "./commands/settings.js";
import { onboardingAnswers, startCommand } from "./commands/start.js";
import { statsCommand } from "./commands/stats.js";
import { undoCommand } from "./commands/undo.js";
import { weightCommands } from "./commands/weight.js";
import type { BotDeps, CoachContext } from "./context.js";
import { createErrorHandler } from "./middleware/errors.js";
import { processOnce } from "./middleware/idempotency.js";
import { loadPerson, privateChatsOnly } from "./middleware/person.js";
import { updateContext } from "./middleware/update-context.js";
import { createReplyOutbox } from "./reply-outbox.js";
import { installTelegramPolicies } from "./telegram-policies.js";

/** Token used when no TELEGRAM_BOT_TOKEN is configured (local chat mode never calls Telegram). */
export const LOCAL_BOT_TOKEN = "0:local-chat-mode";

/** How long one update may take before telegraf gives up on it (ms). */
export const HANDLER_TIMEOUT_MS = 120_000;

export function createBot(deps: BotDeps): Telegraf<CoachContext> {
  // telegraf builds a fresh Telegram client for every update (only to answer in the webhook's
  // HTTP response, which we don't use: webhookReply is off). Every context uses the bot's one
  // client instead, on which the Bot API policies (429 retry, long messages, local transport)
  // are installed once, here.
  let telegram!: Telegram;
  class CoachUpdateContext extends Context implements CoachContext {
    declare deps: BotDeps;
    declare log: Logger;
    declare person?: User;
    constructor(update: Update, _perUpdateClient: Telegram, botInfo: UserFromGetMe) {
      super(update, telegram, botInfo);
    }
  }
  const bot = new Telegraf<CoachContext>(deps.config.telegramBotToken ?? LOCAL_BOT_TOKEN, {
    telegram: { apiRoot: deps.config.telegramApiRoot, webhookReply: false },
    handlerTimeout: HANDLER_TIMEOUT_MS,
    contextType: CoachUpdateContext,
  });
  telegram = bot.telegram;
  installTelegramPolicies(telegram, {
    log: deps.log,
    transport: deps.transport,
    sleep: deps.sleep,
    observeCall: deps.observeTelegramCall,
    budget: deps.sendBudget,
    // replies that wait for the global window are stored before their update is acknowledged
    ...(deps.sendBudget ? { outbox: createReplyOutbox(deps) } : {}),
  });
  bot.context.deps = deps;

  // Middleware every update passes, in order.
  bot.use(updateContext, processOnce, privateChatsOnly, loadPerson);
  // Commands and their buttons: each module is a composable unit, independent of the others.
  bot.use(
    startCommand,
    helpCommand,
    habitsCommand,
    habitWizard,
    planCommand,
    intensityCommand,
    planSteeringButtons,
    doneCommand,
    undoCommand,
    settingsCommand,
    statsCommand,
    weightCommands,
    exportCommand,
    deletemeCommand,
    adminCommands,
    runsCommand,
  );
  // Catch-alls, in this order: answers to the open question ("daily" after "how many days a
  // week?"), onboarding answers, changes to today's plan ("skip run"), then any other text is a
  // report.
  bot.use(openQuestionAnswers, onboardingAnswers, planSteeringText, plainReports);
  bot.on("message", async (ctx) => {
    await ctx.reply(
      ctx.person
        ? "I only read text (and a shared location). Tell me what you did, e.g. “run 30”, or send /help."
        : "Hi! Send /start and I'll set you up.",
    );
  });
  bot.on("callback_query", (ctx) =>
    ctx.answerCbQuery("This button is no longer valid — send /plan for a fresh one."),
  );

  // transient failures are handled again later; anything else gets an apology
  bot.catch(createErrorHandler());
  return bot;
}

export { publishCommandMenu } from "./commands/help.js";
