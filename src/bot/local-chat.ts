// Local chat mode: the same bot, in the terminal. A small in-process Bot API serves the bot's
// calls (printing messages, numbering buttons, saving photos and documents as files) and the
// person's typed lines become updates, handled one at a time by bot.handleUpdate.
//
//   you> /start                      → a message update
//   you> 2                           → presses button [2] of the latest message with buttons
//   you> /location 52.52 13.40       → shares a location
//   you> /quit (or Ctrl-D)           → ends the chat
import {
  createWriteStream,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { userInfo } from "node:os";
import { basename, join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import type { Telegraf } from "telegraf";
import type { CoachContext } from "./context.js";
import { handleWithRetries } from "./delivery.js";

export const LOCAL_USER_ID = 1;
export const LOCAL_BOT_USER = {
  id: 1_000_000,
  is_bot: true as const,
  first_name: "CoachRL",
  username: "coachrl_local_bot",
  can_join_groups: false,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
};

interface Button {
  text: string;
  callback_data?: string;
  url?: string;
}

interface Choice {
  messageId: number;
  text: string;
  data: string;
}

function keyboardOf(payload: Record<string, unknown>): Button[][] {
  let markup = payload.reply_markup as { inline_keyboard?: Button[][] } | string | undefined;
  if (typeof markup === "string") {
    try {
      markup = JSON.parse(markup) as { inline_keyboard?: Button[][] };
    } catch {
      return [];
    }
  }
  return markup?.inline_keyboard ?? [];
}

function forceReplyOf(payload: Record<string, unknown>): boolean {
  let markup = payload.reply_markup as { force_reply?: boolean } | string | undefined;
  if (typeof markup === "string") {
    try {
      markup = JSON.parse(markup) as { force_reply?: boolean };
    } catch {
      return false;
    }
  }
  return markup?.force_reply === true;
}

async function bytesOf(input: unknown): Promise<{ bytes: Buffer; filename?: string } | undefined> {
  if (typeof input === "string") {
    return undefined; // a file_id or URL: nothing local to save
  }
  if (input === null || typeof input !== "object") return undefined;
  const file = input as { source?: unknown; filename?: string };
  const source = file.source;
  if (Buffer.isBuffer(source)) return { bytes: source, filename: file.filename };
  if (source instanceof Uint8Array) return { bytes: Buffer.from(source), filename: file.filename };
  if (typeof source === "string") {
    return { bytes: readFileSync(source), filename: file.filename ?? basename(source) };
  }
  if (source && typeof (source as Readable)[Symbol.asyncIterator] === "function") {
    const chunks: Buffer[] = [];
    for await (const chunk of source as Readable) chunks.push(Buffer.from(chunk as Buffer));
    return { bytes: Buffer.concat(chunks), filename: file.filename };
  }
  return undefined;
}

export interface LocalBotApiOptions {
  output: Writable;
  /** where photos and documents are saved */
  filesDir: string;
  chatId?: number;
  /**
   * Where the latest buttons are kept between runs (e.g. DATA_DIR/local-chat.json), so that
   * typing "1" after a restart still presses the button it showed; unset: nothing is kept.
   */
  stateFile?: string;
  /** the person's first name (default: the name of the computer's user account) */
  firstName?: string;
}

/** The computer's user name as a first name ("ada" → "Ada"); "there" when there is none. */
export function localFirstName(): string {
  let name = "";
  try {
    name = userInfo().username;
  } catch {
    // no user database entry (e.g. a container's numeric user): no name
  }
  name = name.replace(/[^\p{L}\p{N}._-]/gu, "").slice(0, 40);
  return name === "" || name === "root" ? "there" : name[0].toUpperCase() + name.slice(1);
}

interface SavedState {
  nextMessageId: number;
  choices: Choice[];
  texts: Record<string, string>;
}

/** An in-process Bot API for one terminal chat. */
export class LocalBotApi {
  private nextMessageId = 1;
  private nextQueryId = 1;
  /** buttons of the latest message that had any, numbered from 1 */
  choices: Choice[] = [];
  /** a question asked with force_reply: the next typed text answers it */
  private forceReply: { messageId: number; text: string } | undefined;
  /** texts of the bot's messages by id (a pressed button's message carries its text) */
  private readonly texts = new Map<number, string>();
  private readonly output: Writable;
  private readonly filesDir: string;
  readonly chatId: number;
  readonly firstName: string;

  constructor(options: LocalBotApiOptions) {
    this.firstName = options.firstName ?? localFirstName();
    this.output = options.output;
    this.filesDir = options.filesDir;
    this.chatId = options.chatId ?? LOCAL_USER_ID;
    this.stateFile = options.stateFile;
    this.restore();
  }

  private readonly stateFile: string | undefined;

  /** Loads the buttons an earlier run left on screen (a missing or broken file is ignored). */
  private restore(): void {
    if (this.stateFile === undefined) return;
    try {
      const saved = JSON.parse(readFileSync(this.stateFile, "utf8")) as SavedState;
      if (!Number.isInteger(saved.nextMessageId) || !Array.isArray(saved.choices)) return;
      this.nextMessageId = saved.nextMessageId;
      this.choices = saved.choices.filter(
        (c) =>
          Number.isInteger(c.messageId) && typeof c.text === "string" && typeof c.data === "string",
      );
      for (const [id, text] of Object.entries(saved.texts ?? {})) this.texts.set(Number(id), text);
    } catch {
      // first run, or an unreadable file: start without buttons
    }
  }

  private save(): void {
    if (this.stateFile === undefined) return;
    const ids = new Set(this.choices.map((c) => c.messageId));
    const texts = Object.fromEntries([...this.texts].filter(([id]) => ids.has(id)));
    const state: SavedState = { nextMessageId: this.nextMessageId, choices: this.choices, texts };
    try {
      writeFileSync(this.stateFile, JSON.stringify(state));
    } catch {
      // keeping buttons across runs is a convenience, never a reason to fail
    }
  }

  /** One line naming the buttons restored from the previous run, or undefined. */
  restoredChoices(): string | undefined {
    if (this.choices.length === 0) return undefined;
    const list = this.choices.map((c, i) => `[${i + 1}] ${c.text}`).join("  ");
    return `(buttons from last time still work: ${list})`;
  }

  private print(text: string): void {
    this.output.write(`${text}\n`);
  }

  private printMessage(
    prefix: string,
    text: string,
    messageId: number,
    keyboard: Button[][],
  ): void {
    this.texts.set(messageId, text);
    const lines = text.split("\n");
    this.print(`${prefix} ${lines[0]}`);
    for (const line of lines.slice(1)) this.print(`       ${line}`);
    const buttons = keyboard.flat().filter((b) => b.callback_data !== undefined);
    if (buttons.length > 0) {
      this.choices = buttons.map((b) => ({ messageId, text: b.text, data: b.callback_data! }));
      for (const [i, b] of buttons.entries()) this.print(`       [${i + 1}] ${b.text}`);
    } else if (this.choices.some((c) => c.messageId === messageId)) {
      this.choices = [];
    }
    for (const b of keyboard.flat().filter((b) => b.url))
      this.print(`       (link: ${b.text} → ${b.url})`);
    this.save();
  }

  private message(extra: Record<string, unknown>): Record<string, unknown> {
    return {
      message_id: this.nextMessageId++,
      date: Math.floor(Date.now() / 1000),
      chat: { id: this.chatId, type: "private", first_name: this.firstName },
      from: LOCAL_BOT_USER,
      ...extra,
    };
  }

  private async saveFile(kind: "photo" | "document", input: unknown, fallbackName: string) {
    const file = await bytesOf(input);
    if (!file) return undefined;
    mkdirSync(this.filesDir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    const name = `${stamp}-${(file.filename ?? fallbackName).replace(/[^\w.-]+/g, "_")}`;
    const path = join(this.filesDir, name);
    writeFileSync(path, file.bytes);
    return { path, size: file.bytes.length, kind };
  }

  /** Serves one Bot API call (the ApiTransport of local chat mode). */
  readonly handle = async (method: string, payload: Record<string, unknown>): Promise<unknown> => {
    switch (method) {
      case "getMe":
        return LOCAL_BOT_USER;
      case "setMyCommands":
      case "deleteMyCommands":
      case "deleteWebhook":
      case "setWebhook":
      case "sendChatAction":
        return true;
      case "getMyCommands":
        return [];
      case "sendMessage": {
        const message = this.message({ text: payload.text });
        const messageId = message.message_id as number;
        this.printMessage("coach>", String(payload.text ?? ""), messageId, keyboardOf(payload));
        if (forceReplyOf(payload)) {
          this.forceReply = { messageId, text: String(payload.text ?? "") };
          this.choices = [];
          this.print("       (your next message answers this)");
        }
        return message;
      }
      case "editMessageText": {
        const messageId = Number(payload.message_id);
        this.printMessage(
          "coach (updated)>",
          String(payload.text ?? ""),
          messageId,
          keyboardOf(payload),
        );
        return this.message({ message_id: messageId, text: payload.text });
      }
      case "editMessageReplyMarkup": {
        const messageId = Number(payload.message_id);
        const keyboard = keyboardOf(payload);
        const buttons = keyboard.flat().filter((b) => b.callback_data !== undefined);
        if (buttons.length > 0) {
          this.choices = buttons.map((b) => ({ messageId, text: b.text, data: b.callback_data! }));
          this.print("coach> (buttons updated)");
          for (const [i, b] of buttons.entries()) this.print(`       [${i + 1}] ${b.text}`);
        } else if (this.choices.some((c) => c.messageId === messageId)) {
          this.choices = [];
        }
        return true;
      }
      case "editMessageCaption":
        if (typeof payload.caption === "string") this.print(`coach (updated)> ${payload.caption}`);
        return true;
      case "deleteMessage":
        return true;
      case "answerCallbackQuery":
        if (typeof payload.text === "string" && payload.text !== "")
          this.print(`coach> (${payload.text})`);
        return true;
      case "sendPhoto":
      case "sendDocument": {
        const kind = method === "sendPhoto" ? "photo" : "document";
        const saved = await this.saveFile(
          kind,
          payload[kind],
          kind === "photo" ? "chart.png" : "file",
        );
        const caption = typeof payload.caption === "string" ? ` ${payload.caption}` : "";
        const where = saved ? `saved to ${saved.path}` : "not saved (no file content)";
        this.printMessage(
          `coach> [${kind} ${where}]`,
          caption.trim(),
          this.nextMessageId,
          keyboardOf(payload),
        );
        return this.message(
          kind === "photo"
            ? { photo: [{ file_id: saved?.path ?? "", width: 0, height: 0 }] }
            : {
                document: {
                  file_id: saved?.path ?? "",
                  file_name: saved ? basename(saved.path) : "",
                },
              },
        );
      }
      default:
        this.print(`(local chat mode does not support ${method}; ignored)`);
        return true;
    }
  };

  /** The update for one typed line, or undefined for nothing to send. */
  updateFor(line: string, updateId: number): Record<string, unknown> | undefined {
    const text = line.trim();
    if (text === "") return undefined;
    const from = {
      id: LOCAL_USER_ID,
      is_bot: false,
      first_name: this.firstName,
      language_code: "en",
    };
    const chat = { id: this.chatId, type: "private", first_name: this.firstName };
    const date = Math.floor(Date.now() / 1000);
    // A number picks a button; one with no button of that number is an answer to the question
    // ("7" at the plan-time question is 07:00).
    const choice = /^\d{1,2}$/.test(text) ? this.choices[Number(text) - 1] : undefined;
    if (choice) {
      this.print(`       → ${choice.text}`);
      return {
        update_id: updateId,
        callback_query: {
          id: String(this.nextQueryId++),
          from,
          chat_instance: "local",
          data: choice.data,
          message: {
            message_id: choice.messageId,
            date,
            chat,
            from: LOCAL_BOT_USER,
            text: this.texts.get(choice.messageId) ?? "",
          },
        },
      };
    }
    const question = this.forceReply;
    this.forceReply = undefined;
    const location = /^\/location\s+(-?\d+(?:\.\d+)?)[ ,]+(-?\d+(?:\.\d+)?)$/i.exec(text);
    if (location) {
      return {
        update_id: updateId,
        message: {
          message_id: this.nextMessageId++,
          date,
          chat,
          from,
          location: { latitude: Number(location[1]), longitude: Number(location[2]) },
        },
      };
    }
    const command = /^\/\S+/.exec(text);
    return {
      update_id: updateId,
      message: {
        message_id: this.nextMessageId++,
        date,
        chat,
        from,
        text,
        ...(command
          ? { entities: [{ type: "bot_command", offset: 0, length: command[0].length }] }
          : {}),
        ...(question && !command
          ? {
              reply_to_message: {
                message_id: question.messageId,
                date,
                chat,
                from: LOCAL_BOT_USER,
                text: question.text,
              },
            }
          : {}),
      },
    };
  }
}

/** Names of the files local chat mode saves: "2026-11-22T09-00-00-000Z-stats-30d.png". */
const SAVED_FILE = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z-/;

/**
 * Deletes the charts and exports local chat mode saved in `dir` (the person deleted their data:
 * nothing about them stays on disk either); returns how many files it deleted.
 */
export function deleteSavedFiles(dir: string): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0; // nothing was ever saved
  }
  let deleted = 0;
  for (const name of names) {
    if (!SAVED_FILE.test(name)) continue;
    rmSync(join(dir, name), { force: true });
    deleted++;
  }
  return deleted;
}

export interface LocalChatOptions {
  input: Readable;
  output: Writable;
  api: LocalBotApi;
  /** first update id; must grow across runs (ProcessedUpdate remembers ids): default Date.now() */
  firstUpdateId?: number;
  /** print a "you>" prompt (when input is a terminal) */
  prompt?: boolean;
}

export const LOCAL_CHAT_BANNER = [
  "CoachRL — local chat mode (no TELEGRAM_BOT_TOKEN set). Same bot, same handlers, your terminal.",
  "Type /start to begin. Numbers pick buttons; /location <lat> <lon> shares a location; /quit or Ctrl-D ends.",
].join("\n");

/** Reads lines until EOF or /quit, handling each as an update of the person in this terminal. */
export async function runLocalChat(
  bot: Telegraf<CoachContext>,
  options: LocalChatOptions,
): Promise<void> {
  const { input, output, api } = options;
  bot.botInfo = LOCAL_BOT_USER;
  let updateId = options.firstUpdateId ?? Date.now();
  output.write(`${LOCAL_CHAT_BANNER}\n`);
  const restored = api.restoredChoices();
  if (restored) output.write(`${restored}\n`);
  const lines = createInterface({ input, terminal: false, crlfDelay: Number.POSITIVE_INFINITY });
  const prompt = () => {
    if (options.prompt) output.write("you> ");
  };
  prompt();
  for await (const line of lines) {
    if (/^\/(quit|exit)$/i.test(line.trim())) break;
    const update = api.updateFor(line, updateId);
    if (update) {
      updateId++;
      // a transient failure is retried in-process, as in long polling (./delivery.ts)
      await handleWithRetries(
        (u) => bot.handleUpdate(u),
        // biome-ignore lint/suspicious/noExplicitAny: a hand-built update is a valid Update
        update as any,
        {
          log: bot.context.deps!.log,
          ...(bot.context.deps?.sleep ? { sleep: bot.context.deps.sleep } : {}),
        },
      );
    }
    prompt();
  }
  lines.close();
  output.write("Bye! Your data is kept for next time.\n");
}

/** A log destination for local chat mode (a file, so logs don't interleave with the chat). */
export function localLogFile(dir: string): Writable {
  mkdirSync(dir, { recursive: true });
  return createWriteStream(join(dir, "coachrl.log"), { flags: "a" });
}
