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

export function createLogger(options: LoggerOptions): Logger {
  const scrub = secretScrubber(options.secrets);
  const target: DestinationStream =
    options.destination ??
    (options.pretty
      ? pretty({ colorize: true, translateTime: "SYS:HH:MM:ss", ignore: "pid,hostname" })
      : pino.destination({ fd: 1, sync: false }));
  const scrubbed = new Writable({
    write(chunk, _encoding, callback) {
      target.write(scrub(chunk.toString()));
      callback();
    },
  });
  return pino(
    {
      level: options.level,
      name: options.name ?? "coachrl",
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
      base: { pid: process.pid },
    },
    scrubbed,
  );
}
