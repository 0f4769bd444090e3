// Rules every Bot API call follows, installed once on the bot's Telegram client (src/bot/bot.ts):
//  - a 429 answer is retried after the `retry_after` seconds Telegram asks for (bounded);
//  - a message longer than Telegram's 4096 characters is split into several messages (on line
//    breaks where possible; buttons go on the last part), and an edit is shortened to fit;
//  - every message waits for its place in the outgoing budget shared by the instances
//    (src/app/send-budget.ts: ~25/s in all, 1/s per chat, 20/min per group); a webhook update
//    whose reply waits is acknowledged first (./update-ack.ts), once the reply is stored in the
//    reply outbox (./reply-outbox.ts) so that a crash cannot lose it;
//  - a tap's answer that Telegram refuses because the tap was already answered or is too old
//    (a re-delivered update handled again) is let go: the answer is only the tap's toast, and the
//    handler goes on to do its work;
//  - optionally, calls are served by an in-process transport instead of HTTP (local chat mode).
import type { Telegram } from "telegraf";
import { TelegramError } from "telegraf";
import type { SendBudget } from "../app/send-budget.js";
import type { Logger } from "../logger.js";
import { type AttemptHooks, NOT_SENT, type ReplyOutbox } from "./reply-outbox.js";
import { currentUpdate } from "./update-ack.js";

export const MAX_MESSAGE_LENGTH = 4096;
/** Longest wait we accept from a 429 before giving up on that call. */
export const MAX_RETRY_AFTER_SECONDS = 60;
export const MAX_RETRIES = 3;

/** Serves one Bot API call in-process (local chat mode); resolves with the method's result. */
export type ApiTransport = (method: string, payload: Record<string, unknown>) => Promise<unknown>;

type CallApi = (
  method: string,
  payload: object,
  options?: { signal?: AbortSignal },
) => Promise<unknown>;

export interface PolicyOptions {
  log: Logger;
  transport?: ApiTransport;
  /** Injected so tests don't really sleep; defaults to setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /** The outgoing budget every message takes its place in; undefined: none (tests, local chat). */
  budget?: SendBudget;
  /**
   * Where a webhook update's messages are stored when it is acknowledged before they are sent;
   * undefined: the update is acknowledged without storing them (tests).
   */
  outbox?: ReplyOutbox;
  /** Told the duration and outcome of every call attempt (/metrics). */
  observeCall?: (method: string, outcome: "ok" | "error" | "rate-limited", seconds: number) => void;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * An attempt outside the outbox: a webhook update whose message waits is acknowledged at once
 * (without an outbox, the message is not stored first; with one, only unstored calls come here).
 */
const WITHOUT_OUTBOX: AttemptHooks = { onWait: () => currentUpdate()?.acknowledge() };

/**
 * Splits text into chunks of at most `limit` characters, preferring paragraph breaks, then line
 * breaks, then spaces; never splits a surrogate pair.
 */
export function splitMessage(text: string, limit = MAX_MESSAGE_LENGTH): string[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    const window = rest.slice(0, limit);
    let cut = window.lastIndexOf("\n\n");
    if (cut < limit / 2) cut = window.lastIndexOf("\n");
    if (cut < limit / 2) cut = window.lastIndexOf(" ");
    if (cut < limit / 2) {
      cut = limit;
      const code = rest.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut -= 1; // keep a surrogate pair together
    }
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).replace(/^\s+/, "");
  }
  if (rest.length > 0 || parts.length === 0) parts.push(rest);
  return parts.filter((p, i) => p.length > 0 || i === parts.length - 1);
}

/**
 * telegraf attaches the failed call's payload (message texts) to TelegramError.on; drop it so
 * that logging the error never writes what people were told. Keeps the method name.
 */
export function withoutPayload(error: unknown, method: string): unknown {
  if (error instanceof TelegramError) {
    (error as unknown as { on: unknown }).on = { method };
  }
  return error;
}

function retryAfterOf(error: unknown): number | undefined {
  if (!(error instanceof TelegramError) || error.code !== 429) return undefined;
  const seconds = error.parameters?.retry_after;
  return typeof seconds === "number" && seconds >= 0 ? seconds : 1;
}

/** Whether a Bot API method sends or changes a message (and so counts against the limits). */
export function isMessage(method: string): boolean {
  return (
    (method.startsWith("send") && method !== "sendChatAction") ||
    method.startsWith("editMessage") ||
    method === "copyMessage" ||
    method === "forwardMessage"
  );
}

/** Installs the policies on a Telegram client (idempotent per client). */
/** Telegram's answer to a second (or late) answer of the same callback query. */
function isSpentCallbackQuery(error: unknown): boolean {
  return (
    error instanceof TelegramError &&
    error.code === 400 &&
    /query is too old|query ID is invalid/i.test(error.description)
  );
}

export function installTelegramPolicies(telegram: Telegram, options: PolicyOptions): void {
  const marked = telegram as Telegram & { __coachPolicies?: boolean };
  if (marked.__coachPolicies) return;
  marked.__coachPolicies = true;
  const sleep = options.sleep ?? defaultSleep;
  const original: CallApi = telegram.callApi.bind(telegram) as CallApi;
  const transport = options.transport;
  const unobserved: CallApi = transport
    ? (method, payload) => transport(method, payload as Record<string, unknown>)
    : original;
  const observe = options.observeCall;
  const raw: CallApi =
    observe === undefined
      ? unobserved
      : async (method, payload, callOptions) => {
          const started = performance.now();
          const seconds = () => (performance.now() - started) / 1000;
          try {
            const result = await unobserved(method, payload, callOptions);
            observe(method, "ok", seconds());
            return result;
          } catch (error) {
            observe(
              method,
              retryAfterOf(error) === undefined ? "error" : "rate-limited",
              seconds(),
            );
            throw error;
          }
        };

  const budget = options.budget;
  /** One attempt: the message's place in the budget, the outbox's last word, the call. */
  const budgeted = async (
    method: string,
    payload: object,
    callOptions: { signal?: AbortSignal } | undefined,
    hooks: AttemptHooks,
  ): Promise<unknown> => {
    if (budget !== undefined && isMessage(method)) {
      const chatId = (payload as { chat_id?: number | string }).chat_id;
      await budget.take(chatId, hooks.onWait);
    }
    if (hooks.beforeSend !== undefined && !(await hooks.beforeSend())) return NOT_SENT;
    return raw(method, payload, callOptions);
  };

  const withRetry = async (
    method: string,
    payload: object,
    callOptions: { signal?: AbortSignal } | undefined,
    hooks: AttemptHooks = WITHOUT_OUTBOX,
  ): Promise<unknown> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await budgeted(method, payload, callOptions, hooks);
      } catch (error) {
        const retryAfter = retryAfterOf(error);
        // getUpdates has its own back-off in telegraf's polling loop.
        if (
          retryAfter === undefined ||
          method === "getUpdates" ||
          attempt >= MAX_RETRIES ||
          retryAfter > MAX_RETRY_AFTER_SECONDS
        ) {
          throw withoutPayload(error, method);
        }
        options.log.warn(
          { method, retryAfter, attempt: attempt + 1 },
          "telegram rate limit; retrying",
        );
        await sleep(retryAfter * 1000);
      }
    }
  };

  // A webhook update's message goes through the outbox (stored when the update is acknowledged
  // before it is sent); any other call (schedules, long polling, the outbox's own resends) not.
  const outbox = options.outbox;
  const delivered: CallApi = (method, payload, callOptions) => {
    const handling = outbox !== undefined && isMessage(method) ? currentUpdate() : undefined;
    if (handling === undefined) return withRetry(method, payload, callOptions);
    return outbox!.deliver(
      handling,
      { method, payload: payload as Record<string, unknown> },
      (hooks) => withRetry(method, payload, callOptions, hooks),
    );
  };

  const policed: CallApi = async (method, payload, callOptions) => {
    if (method === "answerCallbackQuery") {
      try {
        return await withRetry(method, payload, callOptions);
      } catch (error) {
        if (!isSpentCallbackQuery(error)) throw error;
        options.log.info("callback query already answered or too old; its answer is skipped");
        return true;
      }
    }
    const body = payload as Record<string, unknown>;
    const text = body.text;
    if (typeof text === "string" && text.length > MAX_MESSAGE_LENGTH) {
      if (method === "sendMessage") {
        const parts = splitMessage(text);
        let last: unknown;
        for (let i = 0; i < parts.length; i++) {
          const isLast = i === parts.length - 1;
          const { reply_markup: markup, ...rest } = body;
          last = await delivered(
            method,
            {
              ...rest,
              text: parts[i],
              ...(isLast && markup !== undefined ? { reply_markup: markup } : {}),
            },
            callOptions,
          );
        }
        return last;
      }
      if (method === "editMessageText") {
        return delivered(
          method,
          { ...body, text: `${text.slice(0, MAX_MESSAGE_LENGTH - 1)}…` },
          callOptions,
        );
      }
    }
    return delivered(method, payload, callOptions);
  };

  (telegram as unknown as { callApi: CallApi }).callApi = policed;
}
