// A small, faithful Telegram Bot API emulator on localhost for end-to-end tests.
//
// The real telegraf bot talks to it over HTTP (point TELEGRAM_API_ROOT / telegram.apiRoot at
// `emulator.apiRoot`). It implements the methods CoachRL uses, with Telegram's own limits and
// error texts where they matter:
//   getMe, getUpdates (long polling with offset/limit/timeout, 409 when a webhook is set or a newer
//   poll supersedes), setWebhook, deleteWebhook, getWebhookInfo, sendMessage (4096-char limit),
//   editMessageText ("message is not modified"), editMessageReplyMarkup, editMessageCaption,
//   deleteMessage, answerCallbackQuery, sendChatAction, sendPhoto and sendDocument (multipart
//   uploads or file_id), setMyCommands, getMyCommands, deleteMyCommands.
// Inline keyboards are validated (callback_data 1-64 bytes). Any method can be made to fail once
// with `failNext` (e.g. a 429 with retry_after, a 500), a person can block the bot (`block`: every
// send to their chat answers 403 until `unblock`), or to answer only when the test says so with
// `holdNext` (a slow Telegram: keeps an update in flight, e.g. across a SIGTERM). In webhook mode
// updates are POSTed to the webhook; `forwardWebhookTo` sends them to a local origin instead (what
// the TLS proxy in front of the app does in production).
//
// Typical use:
//   const emulator = await startEmulator();
//   const replies = await emulator.ask(42, "/start");          // send as user 42, wait for 1 reply
//   const next = await emulator.tap(42, replies[0], "Yes");    // press an inline button
//   emulator.botMessages(42); emulator.photos(42); emulator.documents(42);
//   await emulator.close();
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { inflateSync } from "node:zlib";

export const DEFAULT_TEST_TOKEN = "123456789:TEST_emulator_token_abcdefghijklmnop";
export const MAX_MESSAGE_LENGTH = 4096;
export const MAX_CALLBACK_DATA_BYTES = 64;

export interface InlineButton {
  text: string;
  callback_data?: string;
  url?: string;
}

export interface UploadedFile {
  fileId: string;
  /** The uploaded bytes (undefined when the bot re-sent an existing file_id we never saw). */
  bytes: Buffer | undefined;
  filename: string | undefined;
  mimeType: string | undefined;
}

/** A message as the emulator stores it (both the person's and the bot's). */
export interface EmulatedMessage {
  message_id: number;
  chatId: number;
  /** "bot" for messages the bot sent, "user" for what the emulated person typed */
  sender: "bot" | "user";
  date: number;
  text?: string;
  caption?: string;
  parseMode?: string;
  /** current inline keyboard (after edits); undefined when none */
  keyboard?: InlineButton[][];
  /** sent with reply_markup.force_reply (the app asks the person to reply to it) */
  forceReply?: boolean;
  photo?: UploadedFile & { width: number | undefined; height: number | undefined };
  document?: UploadedFile;
  /** previous texts, oldest first, when the bot edited this message */
  edits: string[];
  deleted: boolean;
  /** the raw Bot API payload of the last send/edit call */
  payload: Record<string, unknown>;
}

export interface CallbackAnswer {
  queryId: string;
  text?: string;
  showAlert: boolean;
}

export interface ApiCall {
  method: string;
  payload: Record<string, unknown>;
  at: number;
}

export interface BotCommandSpec {
  command: string;
  description: string;
}

export interface StartEmulatorOptions {
  token?: string;
  botUsername?: string;
  /** default wait for `waitFor*`, `ask`, `tap` (ms) */
  timeoutMs?: number;
}

/** A call of the bot that the emulator holds unanswered (see `holdNext`). */
export interface HeldCall {
  /** Resolves once the bot has made the call (it is then waiting for Telegram's answer). */
  arrived: Promise<ApiCall>;
  /**
   * Answers the held call as usual (storing the message etc.) and resolves with whether the bot
   * was still connected to receive the answer (false: it gave up or its process went away).
   */
  release(): Promise<boolean>;
}

interface Hold {
  method: string;
  arrive(call: ApiCall): void;
  released: Promise<void>;
  settle(connected: boolean): void;
}

interface Waiter {
  res: ServerResponse;
  offset: number;
  limit: number;
  timer: NodeJS.Timeout;
}

export type Update = Record<string, unknown> & { update_id: number };

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
    readonly parameters?: Record<string, unknown>,
  ) {
    super(description);
  }
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

function pngSize(bytes: Buffer): { width: number; height: number } | undefined {
  const signature = "89504e470d0a1a0a";
  if (bytes.length < 24 || bytes.subarray(0, 8).toString("hex") !== signature) return undefined;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

export interface DecodedPng {
  width: number;
  height: number;
  /** samples per pixel (3 = RGB, 4 = RGBA, …) */
  channels: number;
  /** unfiltered samples, row by row (8-bit only) */
  pixels: Buffer;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Fully decodes an 8-bit, non-interlaced PNG (what the chart renderer writes): checks the
 * signature and every chunk's CRC, inflates the image data and undoes the row filters. Throws
 * on anything malformed, so a chart that "decodes" is a real, complete image.
 */
export function decodePng(png: Buffer): DecodedPng {
  if (png.subarray(0, 8).toString("hex") !== "89504e470d0a1a0a") throw new Error("not a PNG");
  let offset = 8;
  let header: { width: number; height: number; depth: number; color: number } | undefined;
  const data: Buffer[] = [];
  let ended = false;
  while (offset + 12 <= png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString("ascii", offset + 4, offset + 8);
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (body.length !== length) throw new Error(`truncated ${type} chunk`);
    const crc = png.readUInt32BE(offset + 8 + length);
    if (crc32(png.subarray(offset + 4, offset + 8 + length)) !== crc) {
      throw new Error(`bad CRC in ${type} chunk`);
    }
    if (type === "IHDR") {
      header = {
        width: body.readUInt32BE(0),
        height: body.readUInt32BE(4),
        depth: body[8],
        color: body[9],
      };
      if (body[12] !== 0) throw new Error("interlaced PNGs are not supported");
    } else if (type === "IDAT") data.push(body);
    else if (type === "IEND") {
      ended = true;
      break;
    }
    offset += 12 + length;
  }
  if (!header || !ended || data.length === 0) throw new Error("PNG without IHDR, IDAT or IEND");
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[header.color as 0 | 2 | 4 | 6];
  if (channels === undefined || header.depth !== 8) {
    throw new Error(`unsupported PNG format (color ${header.color}, depth ${header.depth})`);
  }
  const raw = inflateSync(Buffer.concat(data));
  const stride = header.width * channels;
  if (raw.length !== header.height * (stride + 1)) {
    throw new Error(`image data has ${raw.length} bytes, expected ${header.height * (stride + 1)}`);
  }
  const pixels = Buffer.alloc(header.height * stride);
  for (let y = 0; y < header.height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[out + x - channels] : 0;
      const b = y > 0 ? pixels[out - stride + x] : 0;
      const c = x >= channels && y > 0 ? pixels[out - stride + x - channels] : 0;
      let predictor: number;
      switch (filter) {
        case 0:
          predictor = 0;
          break;
        case 1:
          predictor = a;
          break;
        case 2:
          predictor = b;
          break;
        case 3:
          predictor = (a + b) >> 1;
          break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          throw new Error(`unknown PNG row filter ${filter} in row ${y}`);
      }
      pixels[out + x] = (line[x] + predictor) & 0xff;
    }
  }
  return { width: header.width, height: header.height, channels, pixels };
}

/** How many distinct colours an image uses (a blank chart has one or two). */
export function distinctColours(image: DecodedPng, limit = 1000): number {
  const seen = new Set<string>();
  for (let i = 0; i < image.pixels.length && seen.size < limit; i += image.channels) {
    seen.add(image.pixels.subarray(i, i + image.channels).toString("hex"));
  }
  return seen.size;
}

function asNumber(value: unknown, name: string): number {
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n)) {
    throw new ApiError(400, `Bad Request: ${name} is required`);
  }
  return n;
}

function parseJsonField<T>(value: unknown): T | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") {
    try {
      return JSON.parse(value) as T;
    } catch {
      throw new ApiError(400, "Bad Request: can't parse JSON field");
    }
  }
  return value as T;
}

export class TelegramEmulator {
  readonly token: string;
  readonly botUser: { id: number; is_bot: true; first_name: string; username: string };
  apiRoot = "";
  /** Every Bot API call the bot made, in order. */
  readonly calls: ApiCall[] = [];
  /** update ids of every non-empty getUpdates answer, in order (one array per batch). */
  readonly batches: number[][] = [];
  /** answerCallbackQuery calls, in order. */
  readonly callbackAnswers: CallbackAnswer[] = [];
  /** The command menu last published with setMyCommands (default scope). */
  commands: BotCommandSpec[] | undefined;
  /** The webhook set by the bot, if any. */
  webhook: { url: string; secretToken: string | undefined } | undefined;

  private server: Server | undefined;
  private readonly timeoutMs: number;
  /** The clock of message dates (a soak with a simulated clock sets it). */
  now: () => number = Date.now;
  private nextUpdateId = 1000;
  private nextMessageId = 1;
  private nextQueryId = 1;
  private nextFileId = 1;
  private readonly pending: Update[] = [];
  /** highest update_id the bot confirmed (by asking getUpdates with a greater offset) */
  private confirmedUpTo = 0;
  private waiter: Waiter | undefined;
  private readonly messages = new Map<number, EmulatedMessage[]>();
  private readonly files = new Map<string, UploadedFile>();
  private readonly openQueries = new Map<string, { userId: number }>();
  private readonly failures: { method: string; error: ApiError }[] = [];
  private readonly blockedChats = new Set<number>();
  private readonly listeners = new Set<() => void>();
  private readonly holds: Hold[] = [];
  private webhookOrigin: string | undefined;

  constructor(options: StartEmulatorOptions = {}) {
    this.token = options.token ?? DEFAULT_TEST_TOKEN;
    const botId = Number(this.token.split(":")[0]);
    this.botUser = {
      id: botId,
      is_bot: true,
      first_name: "CoachRL",
      username: options.botUsername ?? "coachrl_test_bot",
    };
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Starts listening on 127.0.0.1 (random port). */
  async listen(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ ok: false, error_code: 500, description: String(error) }));
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    const { port } = this.server.address() as AddressInfo;
    this.apiRoot = `http://127.0.0.1:${port}`;
    return this;
  }

  async close(): Promise<void> {
    if (this.waiter) {
      clearTimeout(this.waiter.timer);
      this.respond(this.waiter.res, []);
      this.waiter = undefined;
    }
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ---------------------------------------------------------------- the person's side

  /** Queues a text message from `userId` (private chat, chat id = user id). Returns the update. */
  sendText(
    userId: number,
    text: string,
    options: {
      firstName?: string;
      date?: number;
      username?: string;
      /** a message of this chat the text replies to (e.g. a force_reply question) */
      replyTo?: EmulatedMessage;
    } = {},
  ): Update {
    const message = this.storeUserMessage(userId, { text });
    const entities =
      text.startsWith("/") && /^\/\S+/.test(text)
        ? [{ type: "bot_command", offset: 0, length: /^\/\S+/.exec(text)![0].length }]
        : undefined;
    return this.enqueue({
      message: {
        message_id: message.message_id,
        date: options.date ?? message.date,
        chat: { id: userId, type: "private", first_name: options.firstName ?? `User${userId}` },
        from: this.userObject(userId, options),
        text,
        ...(entities ? { entities } : {}),
        ...(options.replyTo
          ? {
              reply_to_message: {
                message_id: options.replyTo.message_id,
                date: options.replyTo.date,
                chat: { id: userId, type: "private", first_name: `User${userId}` },
                from: options.replyTo.sender === "bot" ? this.botUser : this.userObject(userId, {}),
                ...(options.replyTo.text !== undefined ? { text: options.replyTo.text } : {}),
              },
            }
          : {}),
      },
    });
  }

  /** Queues a shared location from `userId`. */
  sendLocation(userId: number, latitude: number, longitude: number): Update {
    const message = this.storeUserMessage(userId, { text: `[location ${latitude},${longitude}]` });
    return this.enqueue({
      message: {
        message_id: message.message_id,
        date: message.date,
        chat: { id: userId, type: "private", first_name: `User${userId}` },
        from: this.userObject(userId, {}),
        location: { latitude, longitude },
      },
    });
  }

  /**
   * Presses an inline button of a bot message as `userId`. `button` is the button's text (exact,
   * or a RegExp) or its callback_data prefixed with "data:". Returns the callback_query update.
   */
  pressButton(userId: number, message: EmulatedMessage, button: string | RegExp): Update {
    const current = this.findMessage(message.chatId, message.message_id);
    if (!current || current.deleted) throw new Error(`message ${message.message_id} is gone`);
    const buttons = (current.keyboard ?? []).flat();
    const found = buttons.find((b) =>
      typeof button === "string"
        ? button.startsWith("data:")
          ? b.callback_data === button.slice(5)
          : b.text === button
        : button.test(b.text),
    );
    if (!found?.callback_data) {
      throw new Error(
        `no button ${String(button)} on message ${message.message_id}; buttons: ${buttons
          .map((b) => JSON.stringify(b.text))
          .join(", ")}`,
      );
    }
    return this.sendCallbackQuery(userId, current, found.callback_data);
  }

  /** Queues a callback query with arbitrary data (e.g. forged data) on a bot message. */
  sendCallbackQuery(userId: number, message: EmulatedMessage, data: string): Update {
    const id = String(this.nextQueryId++);
    this.openQueries.set(id, { userId });
    return this.enqueue({
      callback_query: {
        id,
        from: this.userObject(userId, {}),
        chat_instance: `ci${message.chatId}`,
        data,
        message: {
          message_id: message.message_id,
          date: message.date,
          chat: { id: message.chatId, type: "private", first_name: `User${message.chatId}` },
          from: this.botUser,
          text: message.text,
          ...(message.keyboard ? { reply_markup: { inline_keyboard: message.keyboard } } : {}),
        },
      },
    });
  }

  /** Queues a raw update (an update_id is assigned unless given: pass one to re-deliver). */
  enqueue(update: Record<string, unknown>): Update {
    const full = { update_id: this.nextUpdateId++, ...update } as Update;
    if (full.update_id >= this.nextUpdateId) this.nextUpdateId = full.update_id + 1;
    this.deliver(full);
    return full;
  }

  /** Delivers the very same update again (Telegram's at-least-once delivery). */
  redeliver(update: Update): void {
    this.deliver(structuredClone(update));
  }

  // ---------------------------------------------------------------- conversation helpers

  /** Sends `text` as `userId` and waits for `count` new bot messages in that chat. */
  async ask(
    userId: number,
    text: string,
    count = 1,
    options: { replyTo?: EmulatedMessage } = {},
  ): Promise<EmulatedMessage[]> {
    const before = this.botMessages(userId).length;
    const update = this.sendText(userId, text, options);
    const replies = await this.waitForBotMessages(userId, before + count);
    await this.waitForProcessed(update.update_id);
    return replies.slice(before);
  }

  /**
   * Presses a button as `userId`, waits until the update is processed and returns the callback
   * answer and any new bot messages.
   */
  async tap(
    userId: number,
    message: EmulatedMessage,
    button: string | RegExp,
    newMessages = 0,
  ): Promise<{ answer: CallbackAnswer | undefined; messages: EmulatedMessage[] }> {
    const before = this.botMessages(message.chatId).length;
    const update = this.pressButton(userId, message, button);
    const queryId = (update.callback_query as { id: string }).id;
    if (newMessages > 0) await this.waitForBotMessages(message.chatId, before + newMessages);
    await this.waitForProcessed(update.update_id);
    return {
      answer: this.callbackAnswers.find((a) => a.queryId === queryId),
      messages: this.botMessages(message.chatId).slice(before),
    };
  }

  /** All messages in a chat (person's and bot's), oldest first, including deleted ones. */
  chat(chatId: number): EmulatedMessage[] {
    return this.messages.get(chatId) ?? [];
  }

  /** The bot's messages in a chat, oldest first (deleted ones excluded). */
  botMessages(chatId: number): EmulatedMessage[] {
    return this.chat(chatId).filter((m) => m.sender === "bot" && !m.deleted);
  }

  /** The bot's last message in a chat (throws when there is none). */
  lastBotMessage(chatId: number): EmulatedMessage {
    const all = this.botMessages(chatId);
    const last = all[all.length - 1];
    if (!last) throw new Error(`the bot has not written to chat ${chatId}`);
    return last;
  }

  /** The current state of one message (after edits). */
  message(chatId: number, messageId: number): EmulatedMessage | undefined {
    return this.findMessage(chatId, messageId);
  }

  photos(chatId: number): EmulatedMessage[] {
    return this.botMessages(chatId).filter((m) => m.photo);
  }

  documents(chatId: number): EmulatedMessage[] {
    return this.botMessages(chatId).filter((m) => m.document);
  }

  /** Resolves with the chat's bot messages once there are at least `count` of them. */
  async waitForBotMessages(chatId: number, count: number, timeoutMs?: number) {
    await this.waitFor(
      () => this.botMessages(chatId).length >= count,
      `${count} bot message(s) in chat ${chatId} (have ${this.botMessages(chatId).length})`,
      timeoutMs,
    );
    return this.botMessages(chatId);
  }

  /** Resolves once the bot confirmed `updateId` (polling: asked for a later offset). */
  async waitForProcessed(updateId: number, timeoutMs?: number): Promise<void> {
    await this.waitFor(
      () => this.confirmedUpTo >= updateId,
      `the bot to confirm update ${updateId}`,
      timeoutMs,
    );
  }

  /** Resolves when `predicate` becomes true; re-checked after every API call and update. */
  waitFor(predicate: () => boolean, what = "condition", timeoutMs?: number): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs ?? this.timeoutMs);
      this.listeners.add(check);
    });
  }

  /** Makes the next call of `method` fail with the given error (e.g. 429 + retry_after). */
  failNext(
    method: string,
    error: { code: number; description: string; parameters?: Record<string, unknown> },
  ): void {
    this.failures.push({
      method,
      error: new ApiError(error.code, error.description, error.parameters),
    });
  }

  /**
   * The person blocks the bot: every send to their chat answers 403 "Forbidden: bot was blocked by
   * the user" (as Telegram does) until `unblock`. Updates from them still arrive.
   */
  block(userId: number): void {
    this.blockedChats.add(userId);
  }

  unblock(userId: number): void {
    this.blockedChats.delete(userId);
  }

  /**
   * Holds the answer to the next call of `method` until `release()` is called: Telegram being slow
   * to answer, so that the update that made the call stays in flight for as long as a test needs.
   */
  holdNext(method: string): HeldCall {
    let arrive!: (call: ApiCall) => void;
    let release!: () => void;
    let settle!: (connected: boolean) => void;
    const arrived = new Promise<ApiCall>((resolve) => {
      arrive = resolve;
    });
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const settled = new Promise<boolean>((resolve) => {
      settle = resolve;
    });
    this.holds.push({ method, arrive, released, settle });
    return {
      arrived,
      release() {
        release();
        return settled;
      },
    };
  }

  /**
   * Delivers webhook updates to `origin` (e.g. "http://127.0.0.1:8080") instead of the webhook
   * URL's own scheme, host and port, keeping its path: the TLS proxy in front of the app.
   * `undefined` restores delivery to the webhook URL itself.
   */
  forwardWebhookTo(origin: string | undefined): void {
    this.webhookOrigin = origin;
  }

  /** Calls of one method, in order. */
  callsOf(method: string): ApiCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  // ---------------------------------------------------------------- internals

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private userObject(userId: number, options: { firstName?: string; username?: string }) {
    return {
      id: userId,
      is_bot: false,
      first_name: options.firstName ?? `User${userId}`,
      ...(options.username ? { username: options.username } : {}),
      language_code: "en",
    };
  }

  private storeUserMessage(chatId: number, content: { text: string }): EmulatedMessage {
    const message: EmulatedMessage = {
      message_id: this.nextMessageId++,
      chatId,
      sender: "user",
      date: Math.floor(this.now() / 1000),
      text: content.text,
      edits: [],
      deleted: false,
      payload: {},
    };
    this.chatList(chatId).push(message);
    return message;
  }

  private chatList(chatId: number): EmulatedMessage[] {
    let list = this.messages.get(chatId);
    if (!list) {
      list = [];
      this.messages.set(chatId, list);
    }
    return list;
  }

  private findMessage(chatId: number, messageId: number): EmulatedMessage | undefined {
    return this.chat(chatId).find((m) => m.message_id === messageId);
  }

  private deliver(update: Update): void {
    if (this.webhook) {
      void this.postToWebhook(update);
      return;
    }
    this.pending.push(update);
    this.pending.sort((a, b) => a.update_id - b.update_id);
    this.wakeWaiter();
    this.notify();
  }

  /** Status codes the webhook answered with, in order (webhook mode). */
  readonly webhookResponses: { updateId: number; status: number }[] = [];

  private async postToWebhook(update: Update): Promise<void> {
    const webhook = this.webhook!;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (webhook.secretToken) headers["x-telegram-bot-api-secret-token"] = webhook.secretToken;
    let status = 0;
    try {
      const target = this.webhookOrigin
        ? new URL(
            `${new URL(webhook.url).pathname}${new URL(webhook.url).search}`,
            this.webhookOrigin,
          )
        : webhook.url;
      const res = await fetch(target, {
        method: "POST",
        headers,
        body: JSON.stringify(update),
      });
      await res.arrayBuffer();
      status = res.status;
    } catch {
      status = -1;
    }
    this.webhookResponses.push({ updateId: update.update_id, status });
    if (status === 200) this.confirmedUpTo = Math.max(this.confirmedUpTo, update.update_id);
    this.notify();
    const delivered = status >= 200 && status < 300;
    if (!delivered && this.webhookRetryDelayMs !== undefined && this.server) {
      setTimeout(() => {
        if (this.server && this.webhook) void this.postToWebhook(update);
      }, this.webhookRetryDelayMs).unref();
    }
  }

  /**
   * When set, a webhook delivery answered with anything but 2xx (or not answered: the app is
   * down) is posted again after this many ms, until it is accepted — as Telegram does.
   * Undefined (the default): each update is posted once.
   */
  webhookRetryDelayMs: number | undefined;

  private wakeScheduled = false;

  /**
   * Answers a waiting long poll on the next tick, so updates queued together (synchronously)
   * arrive in one getUpdates batch — which telegraf then handles concurrently.
   */
  private wakeWaiter(): void {
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      this.answerWaiter();
    });
  }

  private answerWaiter(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    const ready = this.pending.filter((u) => u.update_id >= waiter.offset);
    if (ready.length === 0) return;
    clearTimeout(waiter.timer);
    this.waiter = undefined;
    this.respondUpdates(waiter.res, ready.slice(0, waiter.limit));
  }

  private respondUpdates(res: ServerResponse, updates: Update[]): void {
    if (updates.length > 0 && !res.writableEnded && !res.destroyed) {
      this.batches.push(updates.map((u) => u.update_id));
    }
    this.respond(res, updates);
  }

  private respond(res: ServerResponse, result: unknown): void {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ ok: true, result }));
  }

  private async readPayload(req: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const payload: Record<string, unknown> = Object.fromEntries(url.searchParams);
    const type = req.headers["content-type"] ?? "";
    if (body.length === 0) return payload;
    if (type.startsWith("application/json")) {
      return { ...payload, ...(JSON.parse(body.toString("utf8")) as Record<string, unknown>) };
    }
    if (type.startsWith("application/x-www-form-urlencoded")) {
      return { ...payload, ...Object.fromEntries(new URLSearchParams(body.toString("utf8"))) };
    }
    if (type.startsWith("multipart/form-data")) {
      const form = await new Response(body, { headers: { "content-type": type } }).formData();
      for (const [key, value] of form.entries()) {
        if (typeof value === "string") {
          payload[key] = value;
        } else {
          payload[key] = {
            upload: true,
            bytes: Buffer.from(await value.arrayBuffer()),
            filename: value.name || undefined,
            mimeType: value.type || undefined,
          };
        }
      }
      return payload;
    }
    throw new ApiError(400, `Bad Request: unsupported content type ${type}`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.apiRoot);
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!match) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: false, error_code: 404, description: "Not Found" }));
      return;
    }
    if (match[1] !== this.token) {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: false, error_code: 401, description: "Unauthorized" }));
      return;
    }
    const method = match[2];
    let payload: Record<string, unknown>;
    try {
      payload = await this.readPayload(req, url);
    } catch (error) {
      this.respondJsonError(res, error);
      return;
    }
    const call: ApiCall = { method, payload, at: Date.now() };
    this.calls.push(call);
    const holdIndex = this.holds.findIndex((h) => h.method === method);
    const hold = holdIndex >= 0 ? this.holds.splice(holdIndex, 1)[0] : undefined;
    if (hold) {
      let disconnected = false;
      res.once("close", () => {
        if (!res.writableEnded) disconnected = true;
      });
      hold.arrive(call);
      this.notify();
      await hold.released;
      if (disconnected || res.destroyed) hold.settle(false);
      else {
        // answered below as usual (Telegram acts on a call even if nobody reads the answer)
        res.once("finish", () => hold.settle(true));
        res.once("close", () => hold.settle(res.writableFinished));
      }
    }
    if (method.startsWith("send") && this.blockedChats.has(Number(payload.chat_id))) {
      this.respondJsonError(res, new ApiError(403, "Forbidden: bot was blocked by the user"));
      this.notify();
      return;
    }
    const failureIndex = this.failures.findIndex((f) => f.method === method);
    if (failureIndex >= 0) {
      const [failure] = this.failures.splice(failureIndex, 1);
      this.respondJsonError(res, failure.error);
      this.notify();
      return;
    }
    try {
      if (method === "getUpdates") {
        this.getUpdates(payload, req, res);
        return;
      }
      const result = this.call(method, payload);
      this.respond(res, result);
    } catch (error) {
      this.respondJsonError(res, error);
    }
    this.notify();
  }

  private respondJsonError(res: ServerResponse, error: unknown): void {
    const apiError =
      error instanceof ApiError
        ? error
        : new ApiError(400, `Bad Request: ${error instanceof Error ? error.message : error}`);
    if (res.writableEnded || res.destroyed) return;
    // Telegram answers API errors with the error code as HTTP status.
    res.writeHead(apiError.code, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        ok: false,
        error_code: apiError.code,
        description: apiError.description,
        ...(apiError.parameters ? { parameters: apiError.parameters } : {}),
      }),
    );
  }

  private getUpdates(payload: Record<string, unknown>, req: IncomingMessage, res: ServerResponse) {
    if (this.webhook) {
      throw new ApiError(
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
      );
    }
    const offset = payload.offset === undefined ? 0 : asNumber(payload.offset, "offset");
    const limit = Math.min(
      100,
      Math.max(1, payload.limit === undefined ? 100 : Number(payload.limit)),
    );
    const timeout = payload.timeout === undefined ? 0 : Number(payload.timeout);
    if (offset > 0) {
      // Confirms every update below offset.
      this.confirmedUpTo = Math.max(this.confirmedUpTo, offset - 1);
      for (let i = this.pending.length - 1; i >= 0; i--) {
        if (this.pending[i].update_id < offset) this.pending.splice(i, 1);
      }
    }
    this.notify();
    const ready = this.pending.filter((u) => u.update_id >= offset).slice(0, limit);
    if (ready.length > 0 || timeout <= 0) {
      this.respondUpdates(res, ready);
      return;
    }
    if (this.waiter) {
      // A newer poll terminates the older one, as Telegram does.
      clearTimeout(this.waiter.timer);
      this.respondJsonError(
        this.waiter.res,
        new ApiError(409, "Conflict: terminated by other getUpdates request"),
      );
    }
    const waiter: Waiter = {
      res,
      offset,
      limit,
      timer: setTimeout(() => {
        if (this.waiter === waiter) this.waiter = undefined;
        this.respond(res, []);
      }, Math.min(timeout, 50) * 1000),
    };
    this.waiter = waiter;
    req.on("close", () => {
      if (this.waiter === waiter && !res.writableEnded) {
        clearTimeout(waiter.timer);
        this.waiter = undefined;
      }
    });
  }

  private keyboardOf(payload: Record<string, unknown>): InlineButton[][] | undefined {
    const markup = parseJsonField<{ inline_keyboard?: InlineButton[][] }>(payload.reply_markup);
    if (!markup?.inline_keyboard) return undefined;
    for (const row of markup.inline_keyboard) {
      if (!Array.isArray(row))
        throw new ApiError(400, "Bad Request: inline keyboard rows must be arrays");
      for (const button of row) {
        if (typeof button.text !== "string" || button.text === "") {
          throw new ApiError(400, "Bad Request: inline keyboard button text must be non-empty");
        }
        if (button.callback_data !== undefined) {
          const size = byteLength(button.callback_data);
          if (size < 1 || size > MAX_CALLBACK_DATA_BYTES) {
            throw new ApiError(400, "Bad Request: BUTTON_DATA_INVALID");
          }
        } else if (button.url === undefined) {
          throw new ApiError(400, "Bad Request: inline keyboard button needs callback_data or url");
        }
      }
    }
    return markup.inline_keyboard;
  }

  private chatIdOf(payload: Record<string, unknown>): number {
    const chatId = asNumber(payload.chat_id, "chat_id");
    return chatId;
  }

  private storeBotMessage(
    chatId: number,
    payload: Record<string, unknown>,
    content: Partial<EmulatedMessage>,
  ): EmulatedMessage {
    const message: EmulatedMessage = {
      message_id: this.nextMessageId++,
      chatId,
      sender: "bot",
      date: Math.floor(this.now() / 1000),
      edits: [],
      deleted: false,
      payload,
      keyboard: this.keyboardOf(payload),
      forceReply:
        parseJsonField<{ force_reply?: boolean }>(payload.reply_markup)?.force_reply === true,
      parseMode: typeof payload.parse_mode === "string" ? payload.parse_mode : undefined,
      ...content,
    };
    this.chatList(chatId).push(message);
    return message;
  }

  private toApiMessage(message: EmulatedMessage): Record<string, unknown> {
    const result: Record<string, unknown> = {
      message_id: message.message_id,
      date: message.date,
      chat: { id: message.chatId, type: "private", first_name: `User${message.chatId}` },
      from: this.botUser,
    };
    if (message.text !== undefined) result.text = message.text;
    if (message.caption !== undefined) result.caption = message.caption;
    if (message.keyboard) result.reply_markup = { inline_keyboard: message.keyboard };
    if (message.photo) {
      result.photo = [
        {
          file_id: message.photo.fileId,
          file_unique_id: `u${message.photo.fileId}`,
          width: message.photo.width ?? 0,
          height: message.photo.height ?? 0,
          file_size: message.photo.bytes?.length ?? 0,
        },
      ];
    }
    if (message.document) {
      result.document = {
        file_id: message.document.fileId,
        file_unique_id: `u${message.document.fileId}`,
        file_name: message.document.filename,
        mime_type: message.document.mimeType,
        file_size: message.document.bytes?.length ?? 0,
      };
    }
    return result;
  }

  private fileOf(value: unknown, field: string): UploadedFile {
    if (value && typeof value === "object" && (value as { upload?: boolean }).upload) {
      const upload = value as { bytes: Buffer; filename?: string; mimeType?: string };
      const file: UploadedFile = {
        fileId: `F${this.nextFileId++}_${randomBytes(3).toString("hex")}`,
        bytes: upload.bytes,
        filename: upload.filename,
        mimeType: upload.mimeType,
      };
      this.files.set(file.fileId, file);
      return file;
    }
    if (typeof value === "string" && value !== "") {
      const known = this.files.get(value);
      if (known) return known;
      if (/^https?:\/\//.test(value)) {
        return {
          fileId: `F${this.nextFileId++}`,
          bytes: undefined,
          filename: value,
          mimeType: undefined,
        };
      }
      throw new ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified");
    }
    throw new ApiError(400, `Bad Request: there is no ${field} in the request`);
  }

  private editTarget(payload: Record<string, unknown>): EmulatedMessage {
    const chatId = this.chatIdOf(payload);
    const messageId = asNumber(payload.message_id, "message_id");
    const message = this.findMessage(chatId, messageId);
    if (!message || message.deleted)
      throw new ApiError(400, "Bad Request: message to edit not found");
    if (message.sender !== "bot") {
      throw new ApiError(400, "Bad Request: message can't be edited");
    }
    return message;
  }

  private checkText(text: unknown, what = "message text"): string {
    if (typeof text !== "string" || text.trim() === "") {
      throw new ApiError(400, `Bad Request: ${what} is empty`);
    }
    if (text.length > MAX_MESSAGE_LENGTH)
      throw new ApiError(400, "Bad Request: message is too long");
    return text;
  }

  private call(method: string, payload: Record<string, unknown>): unknown {
    switch (method) {
      case "getMe":
        return { ...this.botUser, can_join_groups: false, supports_inline_queries: false };
      case "setWebhook": {
        const url = String(payload.url ?? "");
        if (url === "") {
          this.webhook = undefined;
          return true;
        }
        this.webhook = {
          url,
          secretToken: typeof payload.secret_token === "string" ? payload.secret_token : undefined,
        };
        return true;
      }
      case "deleteWebhook":
        this.webhook = undefined;
        if (payload.drop_pending_updates === true || payload.drop_pending_updates === "true") {
          this.pending.length = 0;
        }
        return true;
      case "getWebhookInfo":
        return {
          url: this.webhook?.url ?? "",
          has_custom_certificate: false,
          pending_update_count: this.pending.length,
        };
      case "sendMessage": {
        const chatId = this.chatIdOf(payload);
        const text = this.checkText(payload.text);
        return this.toApiMessage(this.storeBotMessage(chatId, payload, { text }));
      }
      case "sendPhoto": {
        const chatId = this.chatIdOf(payload);
        const file = this.fileOf(payload.photo, "photo");
        const size = file.bytes ? pngSize(file.bytes) : undefined;
        const caption = typeof payload.caption === "string" ? payload.caption : undefined;
        if (caption && caption.length > 1024) {
          throw new ApiError(400, "Bad Request: message caption is too long");
        }
        return this.toApiMessage(
          this.storeBotMessage(chatId, payload, {
            caption,
            photo: { ...file, width: size?.width, height: size?.height },
          }),
        );
      }
      case "sendDocument": {
        const chatId = this.chatIdOf(payload);
        const file = this.fileOf(payload.document, "document");
        const caption = typeof payload.caption === "string" ? payload.caption : undefined;
        if (caption && caption.length > 1024) {
          throw new ApiError(400, "Bad Request: message caption is too long");
        }
        return this.toApiMessage(
          this.storeBotMessage(chatId, payload, { caption, document: file }),
        );
      }
      case "editMessageText": {
        const message = this.editTarget(payload);
        const text = this.checkText(payload.text);
        const keyboard = this.keyboardOf(payload);
        if (
          text === message.text &&
          JSON.stringify(keyboard) === JSON.stringify(message.keyboard)
        ) {
          throw new ApiError(
            400,
            "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
          );
        }
        if (message.text !== undefined) message.edits.push(message.text);
        message.text = text;
        message.keyboard = keyboard;
        message.payload = payload;
        return this.toApiMessage(message);
      }
      case "editMessageCaption": {
        const message = this.editTarget(payload);
        const caption = typeof payload.caption === "string" ? payload.caption : undefined;
        message.caption = caption;
        message.keyboard = this.keyboardOf(payload);
        return this.toApiMessage(message);
      }
      case "editMessageReplyMarkup": {
        const message = this.editTarget(payload);
        const keyboard = this.keyboardOf(payload);
        if (JSON.stringify(keyboard) === JSON.stringify(message.keyboard)) {
          throw new ApiError(
            400,
            "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
          );
        }
        message.keyboard = keyboard;
        return this.toApiMessage(message);
      }
      case "deleteMessage": {
        const chatId = this.chatIdOf(payload);
        const message = this.findMessage(chatId, asNumber(payload.message_id, "message_id"));
        if (!message || message.deleted) {
          throw new ApiError(400, "Bad Request: message to delete not found");
        }
        message.deleted = true;
        return true;
      }
      case "answerCallbackQuery": {
        const queryId = String(payload.callback_query_id ?? "");
        if (!this.openQueries.has(queryId)) {
          throw new ApiError(
            400,
            "Bad Request: query is too old and response timeout expired or query ID is invalid",
          );
        }
        this.openQueries.delete(queryId);
        const text = typeof payload.text === "string" ? payload.text : undefined;
        if (text && text.length > 200) throw new ApiError(400, "Bad Request: MESSAGE_TOO_LONG");
        this.callbackAnswers.push({
          queryId,
          text,
          showAlert: payload.show_alert === true || payload.show_alert === "true",
        });
        return true;
      }
      case "sendChatAction":
        this.chatIdOf(payload);
        return true;
      case "setMyCommands": {
        const commands = parseJsonField<BotCommandSpec[]>(payload.commands);
        if (!Array.isArray(commands) || commands.length > 100) {
          throw new ApiError(400, "Bad Request: commands must be an array of at most 100 commands");
        }
        for (const c of commands) {
          if (typeof c.command !== "string" || !/^[a-z0-9_]{1,32}$/.test(c.command)) {
            throw new ApiError(400, "Bad Request: BOT_COMMAND_INVALID");
          }
          if (
            typeof c.description !== "string" ||
            c.description.length < 1 ||
            c.description.length > 256
          ) {
            throw new ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID");
          }
        }
        this.commands = commands;
        return true;
      }
      case "getMyCommands":
        return this.commands ?? [];
      case "deleteMyCommands":
        this.commands = undefined;
        return true;
      default:
        throw new ApiError(404, "Not Found: method not found");
    }
  }
}

/** Starts an emulator on 127.0.0.1 with a random port. */
export async function startEmulator(options: StartEmulatorOptions = {}): Promise<TelegramEmulator> {
  return new TelegramEmulator(options).listen();
}
