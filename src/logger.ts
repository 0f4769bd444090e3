// pino everywhere: JSON in production, pretty in a terminal. Two layers keep secrets out of logs:
// path redaction for known fields (tokens, authorization headers, message payloads), and a
// final scrub of every written line for the configured secret values themselves (so a token
// embedded in an error message or URL is masked too).
import { Writable } from "node:stream";
import pino, { type DestinationStream, type Logger } from "pino";
import pretty from "pino-pretty";

export type { Logger } from "pino";

export const REDACTED = "[redacted]";

/** Field paths whose values never reach a log line. */
export const REDACT_PATHS = [
  "token",
  "*.token",
  "password",
  "*.password",
  "secret",
  "*.secret",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "*.headers.cookie",
  'headers["x-telegram-bot-api-secret-token"]',
  '*.headers["x-telegram-bot-api-secret-token"]',
  "ingestToken",
  "*.ingestToken",
  "privateKey",
  "*.privateKey",
  // message payloads: what people write is theirs, not the log's
  "text",
  "*.text",
  "*.message.text",
  "*.update.message.text",
  "*.payload.text",
  "caption",
  "*.caption",
  // telegraf's TelegramError carries the failed call's arguments (message text, files) in `on`
  "on.payload",
  "*.on.payload",
];

function escapeForJson(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

/** Returns a function that replaces every occurrence of each secret (raw or JSON-escaped). */
export function secretScrubber(secrets: readonly string[]): (line: string) => string {
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    needles.add(secret);
    needles.add(escapeForJson(secret));
    needles.add(encodeURIComponent(secret));
  }
  const ordered = [...needles].sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return (line) => line;
  return (line) => {
    let out = line;
    for (const needle of ordered) {
      if (out.includes(needle)) out = out.split(needle).join(REDACTED);
    }
    return out;
  };
}

export interface LoggerOptions {
  level: string;
  pretty: boolean;
  secrets: readonly string[];
  /** Where lines go (default: stdout). Tests pass a collector. */
  destination?: DestinationStream;
  name?: string;
}

/** How a logger's lines are written out to the end (see endLog), by logger. */
const endings = new WeakMap<Logger, (timeoutMs: number) => Promise<void>>();

/**
 * Writes out every line `log` has taken, in order, and then stops its output: what a process
 * awaits last before process.exit. The stdout destination writes asynchronously; at exit it
 * writes what it still holds synchronously, while a write already under way (a full pipe:
 * retried later) is dropped or lands after it — seen: "shutting down" logged after "stopped
 * cleanly", lines lost (test/foundation/logger-exit.test.ts). Resolves after `timeoutMs` at
 * the latest, so a blocked stdout cannot hold a stopping process; a no-op for other
 * destinations (a terminal's pretty output, a test's collector, a caller's own stream).
 */
export function endLog(log: Logger, timeoutMs = 2_000): Promise<void> {
  return endings.get(log)?.(timeoutMs) ?? Promise.resolve();
}

export function createLogger(options: LoggerOptions): Logger {
  const scrub = secretScrubber(options.secrets);
  const stdout =
    options.destination || options.pretty ? null : pino.destination({ fd: 1, sync: false });
  const target: DestinationStream =
    options.destination ??
    stdout ??
    pretty({ colorize: true, translateTime: "SYS:HH:MM:ss", ignore: "pid,hostname" });
  let closed = false;
  const scrubbed = new Writable({
    write(chunk, _encoding, callback) {
      // after endLog the stdout destination is closed: a straggler line is dropped, not thrown
      if (closed) return callback();
      target.write(scrub(chunk.toString()));
      callback();
    },
  });
  const log = pino(
    {
      level: options.level,
      name: options.name ?? "coachrl",
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
      base: { pid: process.pid },
    },
    scrubbed,
  );
  if (stdout) {
    let ended: Promise<void> | null = null;
    endings.set(log, (timeoutMs) => {
      ended ??= new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        timer.unref();
        // end() lets a write under way finish, writes the rest after it, then closes (fd 1 stays open)
        stdout.once("close", () => {
          closed = true;
          clearTimeout(timer);
          resolve();
        });
        stdout.end();
      });
      return ended;
    });
  }
  return log;
}
