// POST /ingest/weight: a person's own tools (a scale's export, a phone automation, an Apple
// Health export) deliver body weights with `Authorization: Bearer <ingest token>`.
//   401  missing or unknown token (nothing is read or stored)
//   413  body over INGEST_MAX_BYTES (refused while reading, never buffered whole), or more than
//        INGEST_MAX_SAMPLES samples (nothing stored)
//   400  nothing storable, with the problems (a zip bomb is refused here, within milliseconds)
//   422  the upload could not be read (its reader ran out of memory or time)
//   429  too many requests for this token, or too many failed ones from this address
//   200  {stored, duplicates, problems}
// The body is parsed in a worker thread (`uploads`, see src/app/weight-upload-reader.ts), so a
// large upload never delays the webhook or /healthz. The token is never logged: only the person's id is, and the Authorization header is never
// passed to the logger.
import type { IncomingMessage, ServerResponse } from "node:http";
import { personByIngestToken } from "../app/people.js";
import { importWeights, type WeightImportOutcome } from "../app/weight.js";
import { UploadNotReadError, type WeightUploadReader } from "../app/weight-upload-reader.js";
import type { AppConfig } from "../config.js";
import type { Database } from "../db/client.js";
import { type HttpServer, sendJson } from "../http/server.js";
import type { Logger } from "../logger.js";
import { UploadTooLargeError } from "./upload.js";
import { DEFAULT_MAX_SAMPLES, TooManySamplesError } from "./weight.js";

export const INGEST_WEIGHT_PATH = "/ingest/weight";

export interface IngestRouteDeps {
  db: Database;
  log: Logger;
  config: Pick<AppConfig, "ingestMaxBytes"> & Partial<Pick<AppConfig, "ingestMaxSamples">>;
  now?: () => Date;
  /** Where bodies are parsed: the app passes a worker thread; default in-process. */
  uploads?: WeightUploadReader;
  /**
   * Failed authentications per client address per minute before further *failed* attempts get
   * 429 (default 20). A valid token is never blocked by its address: behind a TLS proxy every
   * automation shares the proxy's address.
   */
  maxFailedAuthPerMinute?: number;
  /** Requests per ingest token per minute, counted after authentication (default 60). */
  maxRequestsPerTokenPerMinute?: number;
}

/** The token of an "Authorization: Bearer <token>" header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const m = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header ?? "");
  return m === null ? null : m[1];
}

/** Answers before the body was read: the connection closes after the answer, the rest is dropped. */
function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.setHeader("connection", "close");
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  sendJson(res, status, body);
  if (!req.complete) {
    // drain what the client still sends (so it can read the answer), but not forever
    const timer = setTimeout(() => req.destroy(), 5_000);
    timer.unref();
    req.once("close", () => clearTimeout(timer));
    req.resume();
  }
}

/** A small fixed-window counter per key (a client address, a person), one minute wide. */
function perMinuteCounter(limit: number, now: () => Date) {
  const windows = new Map<string | number, { start: number; count: number }>();
  const current = (key: string | number) => {
    const t = now().getTime();
    let w = windows.get(key);
    if (w === undefined || t - w.start >= 60_000) {
      if (windows.size > 10_000) windows.clear();
      w = { start: t, count: 0 };
      windows.set(key, w);
    }
    return w;
  };
  return {
    exhausted: (key: string | number) => current(key).count >= limit,
    count: (key: string | number) => {
      current(key).count += 1;
    },
  };
}

export function registerIngestRoutes(
  http: Pick<HttpServer, "route" | "metrics">,
  deps: IngestRouteDeps,
): void {
  const { db, log, config } = deps;
  const counted = (outcome: "ok" | "rejected") =>
    http.metrics.increment(outcome === "ok" ? "ingest_requests_ok" : "ingest_requests_rejected");
  const now = deps.now ?? (() => new Date());
  const failedAuth = perMinuteCounter(deps.maxFailedAuthPerMinute ?? 20, now);
  const perToken = perMinuteCounter(deps.maxRequestsPerTokenPerMinute ?? 60, now);
  /** A failed authentication: 401, or 429 once this address failed too often this minute. */
  const refuseAuth = (
    req: IncomingMessage,
    res: ServerResponse,
    address: string,
    body: { error: string },
    challenge: string,
  ) => {
    if (failedAuth.exhausted(address)) {
      refuse(
        req,
        res,
        429,
        { error: "Too many requests with a wrong ingest token; try again in a minute." },
        { "retry-after": "60" },
      );
      return;
    }
    failedAuth.count(address);
    refuse(req, res, 401, body, { "www-authenticate": challenge });
  };

  http.route("POST", INGEST_WEIGHT_PATH, async (req, res) => {
    res.once("finish", () => counted(res.statusCode === 200 ? "ok" : "rejected"));
    const address = req.socket.remoteAddress ?? "unknown";
    const token = bearerToken(req.headers.authorization);
    if (token === null) {
      log.warn({ path: INGEST_WEIGHT_PATH }, "ingest refused: missing token");
      refuseAuth(
        req,
        res,
        address,
        {
          error:
            "Missing ingest token: send the header 'Authorization: Bearer <token>' with the token from /settings token in the chat.",
        },
        'Bearer realm="coachrl"',
      );
      return;
    }
    const user = await personByIngestToken(deps, token);
    if (user === null) {
      log.warn({ path: INGEST_WEIGHT_PATH }, "ingest refused: unknown token");
      refuseAuth(
        req,
        res,
        address,
        {
          error:
            "This ingest token is not valid (mistyped, or replaced by a newer one). Create a new one with /settings token in the chat.",
        },
        'Bearer realm="coachrl", error="invalid_token"',
      );
      return;
    }
    if (perToken.exhausted(user.id)) {
      log.warn({ userId: user.id }, "ingest refused: too many requests for this token");
      refuse(
        req,
        res,
        429,
        { error: "Too many uploads with this token in the last minute; try again in a minute." },
        { "retry-after": "60" },
      );
      return;
    }
    perToken.count(user.id);
    const limit = config.ingestMaxBytes;
    const tooLarge = () =>
      refuse(req, res, 413, { error: new UploadTooLargeError(limit).message, limit });
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > limit) {
      log.warn({ userId: user.id, declared, limit }, "ingest refused: body too large");
      tooLarge();
      return;
    }
    let outcome: WeightImportOutcome;
    try {
      const reader = { db, now, ...(deps.uploads ? { uploads: deps.uploads } : {}) };
      outcome = await importWeights(reader, user, req.iterator({ destroyOnReturn: false }), {
        source: "ingest",
        ...(req.headers["content-type"] === undefined
          ? {}
          : { contentType: req.headers["content-type"] }),
        maxBytes: limit,
        // an export.xml inflates ~10–25× from its zip; the reader refuses more than 60× early
        maxUnzippedBytes: Math.min(limit * 60, 4 * 1024 ** 3),
        maxSamples: config.ingestMaxSamples ?? DEFAULT_MAX_SAMPLES,
      });
    } catch (error) {
      if (error instanceof UploadTooLargeError) {
        log.warn({ userId: user.id, limit }, "ingest refused: body too large");
        tooLarge();
        return;
      }
      if (error instanceof TooManySamplesError) {
        log.warn({ userId: user.id, limit: error.limit }, "ingest refused: too many samples");
        refuse(req, res, 413, { error: error.message, maxSamples: error.limit });
        return;
      }
      if (error instanceof UploadNotReadError) {
        log.warn({ userId: user.id, reason: error.message }, "ingest refused: upload not read");
        refuse(req, res, 422, { error: error.message });
        return;
      }
      throw error;
    }
    const { problems, format, bytes } = outcome;
    if (outcome.kind === "nothing") {
      log.info(
        { userId: user.id, format, bytes, problems: problems.length },
        "ingest: nothing to store",
      );
      // the reader may have stopped early (a zip bomb): the rest of the body is not wanted
      refuse(req, res, 400, {
        error: "Nothing could be stored; see problems.",
        stored: 0,
        duplicates: 0,
        problems,
      });
      return;
    }
    log.info(
      {
        userId: user.id,
        format,
        bytes,
        stored: outcome.stored,
        duplicates: outcome.duplicates,
        problems: problems.length,
      },
      "weights ingested",
    );
    sendJson(res, 200, { stored: outcome.stored, duplicates: outcome.duplicates, problems });
  });
}
