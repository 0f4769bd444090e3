// Webhook mode: Telegram POSTs updates to WEBHOOK_URL, served by the app's HTTP server. Each
// request must carry X-Telegram-Bot-Api-Secret-Token equal to WEBHOOK_SECRET (compared in
// constant time); anything else gets 403 and is not processed. The update is handled before the
// answer is sent: 200 once it was handled (or failed for good and was apologised for); 503 with
// Retry-After when it was not (a transient failure, or another instance holds its claim), so that
// Telegram delivers it again. If the process dies mid-way Telegram gets no answer and re-delivers
// too; the dead handling's claim is taken over once its lease ran out (src/app/updates.ts), and
// until then a re-delivery gets 503. On shutdown `stop()` waits for the updates in flight and
// takes no more: Telegram keeps its connections open and would otherwise go on delivering over
// them after the server stopped listening.
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Telegraf } from "telegraf";
import type { Update } from "telegraf/types";
import type { Logger } from "../logger.js";
import type { CoachContext } from "./context.js";
import { RetryUpdateLater } from "./middleware/errors.js";
import { startStaleReplySender } from "./reply-outbox.js";
import { handlingUpdate } from "./update-ack.js";

export const SECRET_HEADER = "x-telegram-bot-api-secret-token";
/** Telegram updates are small; anything bigger is not from Telegram. */
export const MAX_UPDATE_BYTES = 1024 * 1024;

/** Constant-time comparison (hashing first makes the lengths equal too). */
export function secretMatches(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== "string") return false;
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The path part of WEBHOOK_URL, where the HTTP server listens for updates. */
export function webhookPath(webhookUrl: string): string {
  const path = new URL(webhookUrl).pathname;
  return path === "" || path === "/" ? "/telegram/webhook" : path;
}

function send(res: ServerResponse, status: number, body: unknown, close = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...(close ? { connection: "close" } : {}),
  });
  res.end(text);
}

async function readUpdate(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_UPDATE_BYTES) throw new RangeError("update too large");
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

export interface WebhookHandler {
  (req: IncomingMessage, res: ServerResponse): Promise<void>;
  /**
   * Stops taking updates (shutdown): a request arriving later gets 503 and is not processed
   * (Telegram delivers the update again later), every response from now on closes its
   * connection, and the returned promise resolves once the updates in flight are handled.
   */
  stop(): Promise<void>;
}

export function createWebhookHandler(
  bot: Telegraf<CoachContext>,
  options: {
    secret: string;
    log: Logger;
    /** Told each answer's status and the seconds from the request's arrival (/metrics). */
    observe?: (status: number, seconds: number) => void;
  },
): WebhookHandler {
  let stopping = false;
  const inFlight = new Set<Promise<void>>();
  // replies of updates acknowledged early that a stopped instance left unsent
  const staleReplies =
    bot.context.deps?.sendBudget === undefined
      ? undefined
      : startStaleReplySender(bot.context.deps, (method, payload) =>
          bot.telegram.callApi(method as never, payload as never),
        );
  const reply = (res: ServerResponse, status: number, body: unknown) =>
    send(res, status, body, stopping);

  const handleRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let update: unknown;
    try {
      update = await readUpdate(req);
    } catch {
      reply(res, 400, { error: "the body must be one JSON Telegram update of at most 1 MiB" });
      return;
    }
    if (
      typeof update !== "object" ||
      update === null ||
      typeof (update as Update).update_id !== "number"
    ) {
      reply(res, 400, { error: "not a Telegram update (no update_id)" });
      return;
    }
    // bot.catch apologises for permanent failures; a transient one is thrown as RetryUpdateLater.
    // A reply waiting for the outgoing budget acknowledges the update early (./update-ack.ts):
    // its work is stored, the reply too (the outbox), and Telegram need not wait for it.
    let acknowledged = false;
    const acknowledge = () => {
      if (acknowledged) return;
      acknowledged = true;
      reply(res, 200, { ok: true });
    };
    try {
      await handlingUpdate((update as Update).update_id, acknowledge, () =>
        bot.handleUpdate(update as Update),
      );
    } catch (error) {
      if (acknowledged) {
        options.log.error(
          { err: error, update_id: (update as Update).update_id },
          "an update failed after it was acknowledged (while its replies waited to be sent)",
        );
        return;
      }
      const retryAfter = error instanceof RetryUpdateLater ? error.retryAfterSeconds : 1;
      if (!(error instanceof RetryUpdateLater)) {
        options.log.error(
          { err: error, update_id: (update as Update).update_id },
          "webhook failed",
        );
      }
      res.setHeader("retry-after", String(Math.max(1, Math.ceil(retryAfter))));
      reply(res, 503, { error: "the update was not processed; deliver it again later" });
      return;
    }
    acknowledge();
  };

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const observe = options.observe;
    if (observe !== undefined) {
      const started = performance.now();
      res.once("finish", () => observe(res.statusCode, (performance.now() - started) / 1000));
    }
    if (!secretMatches(req.headers[SECRET_HEADER], options.secret)) {
      options.log.warn(
        { remote: req.socket.remoteAddress },
        "webhook request with a wrong secret token; refused",
      );
      req.resume();
      reply(res, 403, { error: "forbidden" });
      return;
    }
    if (stopping) {
      req.resume();
      reply(res, 503, { error: "shutting down; deliver the update again later" });
      return;
    }
    const handling = handleRequest(req, res);
    inFlight.add(handling);
    try {
      await handling;
    } finally {
      inFlight.delete(handling);
    }
  };
  return Object.assign(handler, {
    async stop() {
      stopping = true;
      await Promise.allSettled([...inFlight, staleReplies?.stop()]);
    },
  });
}
