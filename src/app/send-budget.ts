/**
 * The budget of outgoing Bot API messages, shared by every instance of the app: Telegram allows a
 * bot about 30 messages a second in all, about one a second to one chat and 20 a minute to one
 * group; beyond that it answers 429 and makes the bot wait. Each message first takes its place
 * here: one from the per-chat (or per-group) window, then one from the global window, waiting
 * when a window is full. The counters live in Postgres (rate-limiter-flexible's Postgres store on
 * `telegram_send_budget`), so two instances together stay within the limits; with PGlite (one
 * process) they are kept in memory.
 *
 * The global limit is counted in windows of a fifth of a second, so that no second ever holds
 * more than the limit plus one window's share (a one-second window lets two full windows meet at
 * their border). Once the global window refused a message, this process's later messages queue
 * in arrival order and one at a time asks the store, the others wait without queries.
 *
 * When the store cannot be reached, messages are sent without waiting (Telegram's own 429 answers
 * still pace the bot, see src/bot/telegram-policies.ts); the failure is logged once per minute.
 */
import {
  type IRateLimiterOptions,
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRes,
} from "rate-limiter-flexible";
import { SEND_BUDGET_TABLE, type SendBudgetStore } from "../db/send-budget.js";
import type { Logger } from "../logger.js";

export interface SendRates {
  /** messages per second across all chats and instances */
  globalPerSecond: number;
  /** messages per second to one private chat */
  perChatPerSecond: number;
  /** messages per minute to one group (a negative chat id) */
  perGroupPerMinute: number;
}

export const TELEGRAM_SEND_RATES: SendRates = {
  // Telegram's ~30/s, with room for the window border and for other bots' tools on the token
  globalPerSecond: 25,
  perChatPerSecond: 1,
  perGroupPerMinute: 20,
};

export interface SendBudget {
  readonly rates: SendRates;
  /**
   * Resolves once one more message to `chatId` fits every limit. `onWait` is called (once) when
   * it has to wait for the global window (the whole bot's pace), before waiting; a wait for the
   * chat's own window is short and not reported.
   */
  take(chatId: number | string | undefined, onWait?: () => void): Promise<void>;
  /** How long `messages` messages to different chats take at the global rate, in seconds. */
  secondsFor(messages: number): number;
  close(): Promise<void>;
}

const GLOBAL_WINDOW_SECONDS = 0.2;
const GLOBAL_KEY = "all";

/** A limiter's window: `points` messages per `duration` seconds, for a rate per second. */
function windowFor(perSecond: number, preferredSeconds: number) {
  const points = Math.floor(perSecond * preferredSeconds);
  return points >= 1
    ? { points, duration: points / perSecond }
    : { points: 1, duration: 1 / perSecond };
}

export function createSendBudget(options: {
  rates?: Partial<SendRates>;
  /** Postgres store shared by instances; undefined: in memory (one process). */
  store?: SendBudgetStore;
  log?: Logger;
  sleep?: (ms: number) => Promise<void>;
}): SendBudget {
  const rates: SendRates = { ...TELEGRAM_SEND_RATES, ...options.rates };
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const limiter = (
    keyPrefix: string,
    window: { points: number; duration: number },
    pool: "globalPool" | "chatPool",
  ) => {
    const settings: IRateLimiterOptions = { keyPrefix, ...window };
    return options.store === undefined
      ? new RateLimiterMemory(settings)
      : new RateLimiterPostgres({
          ...settings,
          storeClient: options.store[pool],
          storeType: "pool",
          tableName: SEND_BUDGET_TABLE,
          tableCreated: true,
        });
  };
  const global = limiter(
    "telegram-all",
    windowFor(rates.globalPerSecond, GLOBAL_WINDOW_SECONDS),
    "globalPool",
  );
  const perChat = limiter("telegram-chat", windowFor(rates.perChatPerSecond, 1), "chatPool");
  const perGroup = limiter(
    "telegram-group",
    windowFor(rates.perGroupPerMinute / 60, 60),
    "chatPool",
  );

  let lastStoreProblem = 0;
  const storeProblem = (error: unknown) => {
    if (Date.now() - lastStoreProblem < 60_000) return;
    lastStoreProblem = Date.now();
    options.log?.warn(
      { err: error },
      "send budget: the shared counters cannot be reached; sending without waiting",
    );
  };

  /** Takes one point from `limiter` for `key`, waiting while its window is full. */
  const takeFrom = async (from: RateLimiterAbstract, key: string) => {
    for (;;) {
      try {
        await from.consume(key);
        return;
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) {
          storeProblem(rejection);
          return;
        }
        await sleep(Math.max(1, rejection.msBeforeNext));
      }
    }
  };

  // The global window. A take asks the store at once while nobody in this process waits; once
  // one was refused, takes queue here in arrival order and one at a time asks the store, after
  // the refused window's end (no query storm from thousands of waiting morning plans).
  const waiters: (() => void)[] = [];
  let draining = false;
  const drain = async () => {
    if (draining) return;
    draining = true;
    while (waiters.length > 0) {
      try {
        await global.consume(GLOBAL_KEY);
        waiters.shift()!();
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) await sleep(Math.max(1, rejection.msBeforeNext));
        else {
          storeProblem(rejection);
          waiters.shift()!();
        }
      }
    }
    draining = false;
  };
  const takeGlobal = async (waiting: () => void) => {
    if (waiters.length === 0) {
      try {
        await global.consume(GLOBAL_KEY);
        return;
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) {
          storeProblem(rejection);
          return;
        }
      }
    }
    waiting();
    await new Promise<void>((resolve) => {
      waiters.push(resolve);
      void drain();
    });
  };

  return {
    rates,
    async take(chatId, onWait) {
      let told = false;
      const waiting = () => {
        if (told) return;
        told = true;
        onWait?.();
      };
      if (chatId !== undefined) {
        const chat = String(chatId);
        await takeFrom(chat.startsWith("-") ? perGroup : perChat, chat);
      }
      await takeGlobal(waiting);
    },
    secondsFor(messages) {
      return messages / rates.globalPerSecond;
    },
    async close() {
      await options.store?.close();
    },
  };
}
