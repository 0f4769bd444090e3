import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, REDACTED } from "../../src/logger.js";

function collector() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, stream };
}

const TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345678";
const KEY = "-----BEGIN PRIVATE KEY-----\nMIIEabc\n-----END PRIVATE KEY-----";

describe("logger", () => {
  it("keeps secrets out of every line, wherever they appear", async () => {
    const { lines, stream } = collector();
    const log = createLogger({
      level: "info",
      pretty: false,
      secrets: [TOKEN, KEY, "dbpass"],
      destination: stream,
    });
    log.info({ url: `https://api.telegram.org/bot${TOKEN}/getMe` }, "calling telegram");
    log.error(
      { err: new Error(`401 from https://api.telegram.org/bot${TOKEN}/sendMessage`) },
      "failed",
    );
    log.warn({ config: { privateKey: KEY } }, "google");
    log.info({ db: "postgresql://app:dbpass@db/coachrl" }, "connecting");
    log.info(
      {
        req: {
          headers: {
            authorization: "Bearer abc.def",
            "x-telegram-bot-api-secret-token": "hook-secret-1234",
          },
        },
      },
      "request",
    );
    log.info({ update: { message: { text: "my private diary" } } }, "update");
    await new Promise((r) => setImmediate(r));
    const output = lines.join("");
    expect(lines.length).toBe(6);
    expect(output).not.toContain("ABCdefGHIjklMNOpqrSTUvwxYZ012345678");
    expect(output).not.toContain("MIIEabc");
    expect(output).not.toContain("dbpass");
    expect(output).not.toContain("abc.def");
    expect(output).not.toContain("hook-secret-1234");
    expect(output).not.toContain("my private diary");
    expect(output.split(REDACTED).length - 1).toBeGreaterThanOrEqual(6);
    // the rest of the message survives
    expect(output).toContain("calling telegram");
    expect(output).toContain("api.telegram.org/bot");
  });

  it("drops the payload of a failed Telegram call but keeps the method and description", async () => {
    const { lines, stream } = collector();
    const log = createLogger({ level: "info", pretty: false, secrets: [], destination: stream });
    const err = Object.assign(new Error("400: Bad Request: chat not found"), {
      on: { method: "sendMessage", payload: { chat_id: 5, text: "you ran 30 min, my secret" } },
    });
    log.error({ err }, "telegram call failed");
    await new Promise((r) => setImmediate(r));
    const line = JSON.parse(lines[0]!);
    expect(lines[0]).not.toContain("my secret");
    expect(line.err.on).toEqual({ method: "sendMessage", payload: REDACTED });
    expect(line.err.message).toContain("chat not found");
  });

  it("child loggers carry their ids", async () => {
    const { lines, stream } = collector();
    const log = createLogger({ level: "info", pretty: false, secrets: [], destination: stream });
    log.child({ updateId: 77 }).info("handled");
    await new Promise((r) => setImmediate(r));
    expect(JSON.parse(lines[0]!)).toMatchObject({ updateId: 77, msg: "handled" });
  });
});
