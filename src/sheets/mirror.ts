// The Google Sheets mirror, decoupled from every write path: a tick (every minute) that
//  1. scans: finds people with a linked sheet whose fingerprint (src/sheets/fingerprint.ts)
//     differs from the one their last successful sync recorded, and enqueues one
//     `sheets_mirror` outbox event per person (at most one pending per person);
//  2. works: claims due events (safe with several instances, src/db/outbox.ts), rewrites the
//     person's tabs from the database, and marks the event done with the fingerprint it
//     mirrored — or records the failure with exponential backoff, giving up after
//     maxAttempts (a given-up sync is tried again when the person's data or sheet changes).
// Without Google credentials the mirror is off: start logs it once and ticks do nothing.
import { hostname } from "node:os";
import schedule from "node-schedule";
import type { AppConfig } from "../config.js";
import type { Database } from "../db/client.js";
import {
  backoffDelayMs,
  claimDue,
  completeEvent,
  enqueueCoalesced,
  failEvent,
  latestEvents,
  pruneDone,
  retryNow,
} from "../db/outbox.js";
import type { OutboxEvent } from "../generated/prisma/client.js";
import type { Logger } from "../logger.js";
import { describeSheetsFailure } from "./errors.js";
import { type LinkedPerson, linkedPeople } from "./fingerprint.js";
import { googleSheetsApi, type SheetsApi } from "./google.js";
import { sheetTabs } from "./layout.js";
import { loadPersonSheetData } from "./load.js";
import { syncSheet } from "./sync.js";

export const SHEETS_MIRROR_KIND = "sheets_mirror" as const;

export interface SheetsMirrorTuning {
  /** failed attempts before an event is given up (default 10: about 4 hours of retries) */
  maxAttempts: number;
  /** delay after the first failure; doubles each time (default 30 s) */
  baseDelayMs: number;
  /** longest delay between attempts (default 1 h) */
  maxDelayMs: number;
  /** how long a claimed event stays invisible to other instances (default 5 min) */
  leaseMs: number;
  /** events claimed per query (default 10) */
  batchSize: number;
  /** at most this many syncs per tick per instance (default 50; Sheets allows 300 writes/min) */
  maxPerTick: number;
  /** done events older than this are pruned, keeping each person's latest (default 7 days) */
  keepDoneMs: number;
}

export const DEFAULT_TUNING: SheetsMirrorTuning = {
  maxAttempts: 10,
  baseDelayMs: 30_000,
  maxDelayMs: 3_600_000,
  leaseMs: 5 * 60_000,
  batchSize: 10,
  maxPerTick: 50,
  keepDoneMs: 7 * 24 * 3_600_000,
};

export interface SheetsMirrorOptions {
  db: Database;
  log: Logger;
  config: Pick<AppConfig, "google" | "sheetsApiRoot">;
  now?: () => Date;
  /** Don't schedule ticks (tests call tick() themselves). */
  manual?: boolean;
  /** Name in the logs (default: host name and pid). */
  instance?: string;
  /** The Sheets client (default: googleapis with the configured service account). */
  api?: SheetsApi;
  tuning?: Partial<SheetsMirrorTuning>;
  /**
   * Tells the person about a failure only they can fix (the sheet is not shared with the service
   * account, or it is gone), once per sync: on its first failed attempt. A failing notice is
   * logged and never affects the mirror.
   */
  notifyPerson?: (notice: SheetsNotice) => Promise<void>;
}

export interface SheetsNotice {
  userId: number;
  sheetId: string;
  cause: "not_shared" | "not_found";
  /** the same sentence that is stored as the event's last error */
  message: string;
}

export interface MirrorTickResult {
  /** false when the mirror is off (no Google credentials) */
  enabled: boolean;
  /** people with a linked sheet */
  linked: number;
  enqueued: number;
  /** events this instance claimed and worked on */
  processed: number;
  succeeded: number;
  failed: number;
  gaveUp: number;
}

export interface SheetsMirror {
  /** One scan + work pass at `now` (default options.now()). Ticks never overlap. */
  tick(now?: Date): Promise<MirrorTickResult>;
  /** Cancels the schedule and waits for a tick in progress. */
  stop(): Promise<void>;
}

interface MirrorPayload {
  sheetId?: unknown;
  fingerprint?: unknown;
}

const emptyResult = (enabled: boolean): MirrorTickResult => ({
  enabled,
  linked: 0,
  enqueued: 0,
  processed: 0,
  succeeded: 0,
  failed: 0,
  gaveUp: 0,
});

function payloadOf(event: OutboxEvent): MirrorPayload {
  const p = event.payload;
  return typeof p === "object" && p !== null && !Array.isArray(p) ? (p as MirrorPayload) : {};
}

export function startSheetsMirror(options: SheetsMirrorOptions): SheetsMirror {
  const { db, config } = options;
  const now = options.now ?? (() => new Date());
  const instance = options.instance ?? `${hostname()}:${process.pid}`;
  const log = options.log.child({ component: "sheets-mirror", instance });
  const google = config.google;
  if (google === undefined && options.api === undefined) {
    log.info(
      "Google Sheets mirror off: set GOOGLE_CLIENT_EMAIL and GOOGLE_PRIVATE_KEY to turn it on",
    );
    return { tick: async () => emptyResult(false), stop: async () => {} };
  }
  const tuning: SheetsMirrorTuning = { ...DEFAULT_TUNING, ...options.tuning };
  const serviceAccount = google?.clientEmail ?? "the service account";
  let apiPromise: Promise<SheetsApi> | null = options.api ? Promise.resolve(options.api) : null;
  const api = (): Promise<SheetsApi> => {
    apiPromise ??= googleSheetsApi({ credentials: google!, apiRoot: config.sheetsApiRoot });
    apiPromise.catch(() => {
      apiPromise = null;
    });
    return apiPromise;
  };
  let ticking: Promise<MirrorTickResult> | null = null;
  let stopped = false;
  let lastPrune = 0;
  const jobs: schedule.Job[] = [];

  async function scan(at: Date, result: MirrorTickResult): Promise<void> {
    const people = await linkedPeople(db, at);
    result.linked = people.length;
    if (people.length === 0) return;
    const latest = await latestEvents(
      db,
      SHEETS_MIRROR_KIND,
      people.map((p) => p.userId),
    );
    const covers = (event: OutboxEvent, person: LinkedPerson) => {
      const payload = payloadOf(event);
      return payload.sheetId === person.sheetId && payload.fingerprint === person.fingerprint;
    };
    for (const person of people) {
      const last = latest.get(person.userId);
      if (last !== undefined && last.doneAt === null) {
        // pending: it reads the data when it runs. A failing one is retried at once when the
        // person linked another sheet (the old one may have been the problem).
        if (last.attempts > 0 && payloadOf(last).sheetId !== person.sheetId) {
          await retryNow(
            db,
            last.id,
            { sheetId: person.sheetId, fingerprint: person.fingerprint },
            at,
          );
        }
        continue;
      }
      if (last !== undefined && covers(last, person)) continue;
      const event = await enqueueCoalesced(
        db,
        SHEETS_MIRROR_KIND,
        person.userId,
        { sheetId: person.sheetId, fingerprint: person.fingerprint },
        at,
        (latestEvent) => latestEvent.doneAt !== null && covers(latestEvent, person),
      );
      if (event !== null) result.enqueued++;
    }
  }

  async function work(event: OutboxEvent, at: Date, result: MirrorTickResult): Promise<void> {
    result.processed++;
    const userId = event.userId;
    // the fingerprint is taken before the data is read: a write in between makes the next scan
    // sync again rather than be missed
    const person = userId === null ? undefined : (await linkedPeople(db, at, userId))[0];
    const data = person === undefined ? null : await loadPersonSheetData(db, person.userId, at);
    if (person === undefined || data === null) {
      await completeEvent(db, event.id, at, { ...payloadOf(event), skipped: "no linked sheet" });
      log.info({ userId, eventId: String(event.id) }, "sheet mirror skipped: sheet unlinked");
      result.succeeded++;
      return;
    }
    const started = performance.now();
    try {
      const sync = await syncSheet(await api(), person.sheetId, sheetTabs(data));
      await completeEvent(db, event.id, at, {
        sheetId: person.sheetId,
        fingerprint: person.fingerprint,
        rows: sync.rows,
      });
      result.succeeded++;
      log.info(
        {
          userId,
          eventId: String(event.id),
          rows: sync.rows,
          addedTabs: sync.addedTabs,
          calls: sync.calls,
          ms: Math.round(performance.now() - started),
        },
        "sheet mirrored",
      );
    } catch (error) {
      // never log `error` itself: a Google error carries the request, bearer token included
      const failure = describeSheetsFailure(error, { sheetId: person.sheetId, serviceAccount });
      const delay = backoffDelayMs(event.attempts + 1, tuning.baseDelayMs, tuning.maxDelayMs);
      const outcome = await failEvent(db, event, failure.message, at, delay, tuning.maxAttempts);
      result.failed++;
      if (outcome.gaveUp) result.gaveUp++;
      if (
        options.notifyPerson &&
        userId !== null &&
        event.attempts === 0 &&
        (failure.cause === "not_shared" || failure.cause === "not_found")
      ) {
        const notice: SheetsNotice = {
          userId,
          sheetId: person.sheetId,
          cause: failure.cause,
          message: failure.message,
        };
        await options.notifyPerson(notice).catch((notifyError: unknown) => {
          log.warn({ userId, err: notifyError }, "could not tell the person about the sheet");
        });
      }
      log.warn(
        {
          userId,
          eventId: String(event.id),
          cause: failure.cause,
          status: failure.status,
          attempts: outcome.attempts,
          gaveUp: outcome.gaveUp,
          nextAttemptAt: outcome.nextAttemptAt?.toISOString(),
          reason: failure.message,
        },
        outcome.gaveUp ? "sheet mirror gave up" : "sheet mirror failed; will retry",
      );
    }
  }

  async function tickOnce(at: Date): Promise<MirrorTickResult> {
    const result = emptyResult(true);
    await scan(at, result);
    while (!stopped && result.processed < tuning.maxPerTick) {
      const limit = Math.min(tuning.batchSize, tuning.maxPerTick - result.processed);
      const events = await claimDue(db, SHEETS_MIRROR_KIND, at, limit, tuning.leaseMs);
      if (events.length === 0) break;
      for (const event of events) await work(event, at, result);
    }
    if (at.getTime() - lastPrune >= 3_600_000) {
      lastPrune = at.getTime();
      const pruned = await pruneDone(
        db,
        SHEETS_MIRROR_KIND,
        new Date(at.getTime() - tuning.keepDoneMs),
      );
      if (pruned > 0) log.debug({ pruned }, "old sheet mirror events pruned");
    }
    return result;
  }

  const mirror: SheetsMirror = {
    tick(at = now()) {
      const run = (ticking ?? Promise.resolve()).catch(() => {}).then(() => tickOnce(at));
      ticking = run;
      return run;
    },
    async stop() {
      stopped = true;
      for (const job of jobs) job.cancel();
      await Promise.allSettled([ticking].filter((p) => p !== null));
    },
  };

  if (!options.manual) {
    const onError = (error: unknown) => log.error({ err: error }, "sheet mirror tick failed");
    const job = schedule.scheduleJob("* * * * *", () => {
      mirror.tick().catch(onError);
    });
    if (job) jobs.push(job);
    mirror.tick().catch(onError);
    log.info({ serviceAccount, apiRoot: config.sheetsApiRoot }, "Google Sheets mirror started");
  }
  return mirror;
}
