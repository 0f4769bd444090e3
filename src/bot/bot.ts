// The bot, composed from small modules: middleware (context + logging, process-once, person),
// one module per command, and the catch-all handlers last. The same bot runs in long polling,
// webhook and local chat mode (see src/main.ts and docs/bot.md).
import { Telegraf } from "telegraf";
import * as admin from "./commands/admin.js";
import * as deleteme from "./commands/deleteme.js";
import * as done from "./commands/done.js";
import * as exportData from "./commands/export.js";
import * as habitWizard from "./commands/habit-wizard.js";
import * as habits from "./commands/habits.js";
import * as help from "./commands/help.js";
import * as plan from "./commands/plan.js";
import * as settings from "./commands/settings.js";
import * as start from "./commands/start.js";
import * as stats from "./commands/stats.js";
import * as undo from "./commands/undo.js";
import * as weight from "./commands/weight.js";
import type { BotDeps, CoachContext } from "./context.js";
import { handleBotError } from "./middleware/errors.js";
import { processOnce } from "./middleware/idempotency.js";
import { loadPerson, privateChatsOnly } from "./middleware/person.js";
import { updateContext } from "./middleware/update-context.js";
import { installTelegramPolicies } from "./telegram-policies.js";

/** Token used when no TELEGRAM_BOT_TOKEN is configured (local chat mode never calls Telegram). */
export const LOCAL_BOT_TOKEN = "0:local-chat-mode";

/** How long one update may take before telegraf gives up on it (ms). */
export const HANDLER_TIMEOUT_MS = 120_000;

export function createBot(deps: BotDeps): Telegraf<CoachContext> {
  const bot = new Telegraf<CoachContext>(deps.config.telegramBotToken ?? LOCAL_BOT_TOKEN, {
    telegram: { apiRoot: deps.config.telegramApiRoot, webhookReply: false },
    handlerTimeout: HANDLER_TIMEOUT_MS,
  });
  installTelegramPolicies(bot.telegram, {
    log: deps.log,
    transport: deps.transport,
    sleep: deps.sleep,
  });

  bot.use(updateContext(deps));
  bot.use(processOnce);
  bot.use(privateChatsOnly);
  bot.use(loadPerson);

  // Conversation core.
  start.register(bot);
  help.register(bot);
  habits.register(bot);
  habitWizard.register(bot);
  plan.register(bot);
  done.register(bot);
  undo.register(bot);
  settings.register(bot);
  // Media and admin commands (their own modules).
  stats.register(bot);
  weight.register(bot);
  exportData.register(bot);
  deleteme.register(bot);
  admin.register(bot);

  // Catch-alls, in this order: onboarding answers, then any other text is a report.
  start.registerOnboardingAnswers(bot);
  done.registerPlainReports(bot);
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

  bot.catch(handleBotError);
  return bot;
}

export { publishCommandMenu } from "./commands/help.js";
