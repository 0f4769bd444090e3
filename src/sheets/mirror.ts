// The Google Sheets mirror, decoupled from every write path: a tick (every minute) that
//  1. scans: finds people with a linked sheet whose fingerprint (src/sheets/fingerprint.ts)
//     differs from the one their last successful sync recorded, and enqueues one
//     `sheets_mirror` outbox event per person (at most one pending per person);
//  2. polls: asks Drive for the modifiedTime of sheets not asked for a while (edits on: every
//     editPollMs; edits off: every handEditCheckMs), within the Drive bucket, and enqueues a
//     sync for a sheet that changed since the mirror wrote it;
//  3. works: claims due events (safe with several instances, src/db/outbox.ts); for a sheet
//     edited by hand, reads the editable tabs back (edits on: src/sheets/read-back.ts, applied
//     by src/app/sheet-edits.ts, the person told in the chat) or marks every tab for rewriting
//     (edits off); then writes only what changed in one batchUpdate (src/sheets/sync.ts) and
//     marks the event done with the fingerprint it mirrored — or records the failure with
//     exponential backoff, giving up after maxAttempts (a given-up sync is tried again when the
//     person's data or sheet changes). Every Google call first takes a token from the bucket
//     shared by all instances (src/db/sheets-quota.ts); without one, or on a 429, the event
//     waits without counting as a failed attempt.
// Without Google credentials the mirror is off: start logs it once and ticks do nothing.
import { hostname } from "node:os";
import schedule from "node-schedule";
import { personById } from "../app/people.js";
import { applySheetEdits, type PlanReviser, type SheetEditOutcome } from "../app/sheet-edits.js";
import type { AppConfig } from "../config.js";
import type { Database } from "../db/client.js";
import {
  backoffDelayMs,
  claimDue,
  completeEvent,
  enqueueCoalesced,
  failEvent,
  latestEvents,
  postponeEvent,
  pruneDone,
  retryNow,
} from "../db/outbox.js";
import { saveSheetLink, sheetLinkOf, sheetsToCheck } from "../db/sheets.js";
import { blockBucket, takeToken } from "../db/sheets-quota.js";
import type { OutboxEvent } from "../generated/prisma/client.js";
import type { Logger } from "../logger.js";
import { describeSheetsFailure } from "./errors.js";
import { type LinkedPerson, linkedPeople } from "./fingerprint.js";
import { googleSheetsApi, type SheetsApi } from "./google.js";
import {
  type Cell,
  levelsText,
  type PersonSheetData,
  sheetTabs,
  TAB_TITLES,
  type TabTitle,
} from "./layout.js";
import { loadPersonSheetData } from "./load.js";
import { EDITABLE_TABS, readBack } from "./read-back.js";
import { type MirrorState, stateOf, syncSheet } from "./sync.js";

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
  /** at most this many syncs per tick per instance (default 50; the shared buckets limit the rate) */
  maxPerTick: number;
  /** done events older than this are pruned, keeping each person's latest (default 7 days) */
  keepDoneMs: number;
  /** Sheets read requests per minute for the whole service (default 60: Google's per-user quota) */
  readsPerMinute: number;
  /** Sheets write requests per minute for the whole service (default 60) */
  writesPerMinute: number;
  /** Drive files.get per minute for the whole service (default 600) */
  driveReadsPerMinute: number;
  /** how often a sheet with edits on is asked whether it changed (default 1 min) */
  editPollMs: number;
  /** how often a sheet with edits off is asked (hand edits are overwritten; default 6 h) */
  handEditCheckMs: number;
  /** longest wait after Google answered 429 (default 15 min) */
  maxThrottleDelayMs: number;
  /** how often due syncs are worked (default 10 s: the quota is spent over the minute) */
  workIntervalMs: number;
  /** how often the fingerprints are scanned and Drive is polled (default 1 min) */
  scanIntervalMs: number;
}

export const DEFAULT_TUNING: SheetsMirrorTuning = {
  maxAttempts: 10,
  baseDelayMs: 30_000,
  maxDelayMs: 3_600_000,
  leaseMs: 5 * 60_000,
  batchSize: 10,
  maxPerTick: 50,
  keepDoneMs: 7 * 24 * 3_600_000,
  readsPerMinute: 60,
  writesPerMinute: 60,
  driveReadsPerMinute: 600,
  editPollMs: 60_000,
  handEditCheckMs: 6 * 3_600_000,
  maxThrottleDelayMs: 15 * 60_000,
  workIntervalMs: 10_000,
  scanIntervalMs: 60_000,
};

/** Shared bucket names (sheets_quota rows). */
export const QUOTA_BUCKETS = {
  read: "sheets:read",
  write: "sheets:write",
  drive: "drive:read",
} as const;
type CallKind = keyof typeof QUOTA_BUCKETS;

/**
 * A bucket that never exceeds `perMinute` calls in any 60 seconds: a burst of ten seconds' worth
 * of the quota, refilled at the rest (burst + rate ≤ quota), so a tick every ten seconds can
 * spend what was refilled since the last one.
 */
export function bucketRule(perMinute: number): { ratePerMinute: number; capacity: number } {
  const capacity = Math.max(1, Math.ceil(perMinute / 6));
  return { capacity, ratePerMinute: Math.max(1, perMinute - capacity) };
}

/** No token in a shared bucket: the event waits `waitMs` (not a failed attempt). */
class QuotaWait extends Error {
  constructor(
    readonly kind: CallKind,
    readonly waitMs: number,
  ) {
    super(`quota bucket ${kind} empty for ${waitMs} ms`);
  }
}

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
  /**
   * Tells the person what was taken from their sheet (edits on), what was not and why: once per
   * read that found something new. A failing message is logged and never affects the mirror.
   */
  reportEdits?: (report: SheetEditsReport) => Promise<void>;
  /** Changes today's plan from the sheet (the plan-revision use case), when available. */
  revisePlan?: PlanReviser;
}

/** What a read of a person's sheet took and did not take. */
export interface SheetEditsReport {
  userId: number;
  /** every edit's outcome (taken, conflict, refused) except "unchanged" */
  outcomes: SheetEditOutcome[];
  /** cells left in the sheet with a note, not reported before */
  invalid: { where: string; value: Cell; note: string }[];
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
  /** events that waited for the quota (empty bucket or a 429) */
  throttled: number;
  /** sheets asked whether they changed (Drive), and found changed */
  checked: number;
  changed: number;
  /** Google calls made, by kind */
  calls: { read: number; write: number; drive: number };
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
  /** 429s in a row for this event (its wait doubles) */
  throttled?: unknown;
}

const emptyResult = (enabled: boolean): MirrorTickResult => ({
  enabled,
  linked: 0,
  enqueued: 0,
  processed: 0,
  succeeded: 0,
  failed: 0,
  gaveUp: 0,
  throttled: 0,
  checked: 0,
  changed: 0,
  calls: { read: 0, write: 0, drive: 0 },
});

function payloadOf(event: OutboxEvent): MirrorPayload {
  const p = event.payload;
  return typeof p === "object" && p !== null && !Array.isArray(p) ? (p as MirrorPayload) : {};
}

/** Today's planned amount per habit id, as the plan stands (its latest revision). */
function todaysPlanAmounts(data: PersonSheetData): MirrorState["plan"] {
  const today = data.plans.find((p) => p.day === data.today);
  if (today === undefined) return null;
  const latest = today.revisions.at(-1)?.items ?? today.items;
  return {
    day: today.day,
    amounts: Object.fromEntries(latest.map((i) => [String(i.habitId), i.amount])),
  };
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
  let lastScan = Number.NEGATIVE_INFINITY;
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

  /** Takes a token of the shared bucket for one call, or throws QuotaWait. */
  async function take(kind: CallKind, at: Date, result: MirrorTickResult): Promise<void> {
    const perMinute =
      kind === "read"
        ? tuning.readsPerMinute
        : kind === "write"
          ? tuning.writesPerMinute
          : tuning.driveReadsPerMinute;
    const outcome = await takeToken(db, QUOTA_BUCKETS[kind], at, bucketRule(perMinute));
    if (!outcome.granted) throw new QuotaWait(kind, outcome.waitMs);
    result.calls[kind]++;
  }

  /** Drive modifiedTime of the sheets not asked for a while; a changed one gets a sync. */
  async function poll(at: Date, result: MirrorTickResult): Promise<void> {
    const due = await sheetsToCheck(
      db,
      new Date(at.getTime() - tuning.editPollMs),
      new Date(at.getTime() - tuning.handEditCheckMs),
      tuning.maxPerTick,
    );
    for (const sheet of due) {
      if (stopped) return;
      let modifiedAt: Date;
      try {
        await take("drive", at, result);
        modifiedAt = await (await api()).modifiedTime(sheet.sheetId);
      } catch (error) {
        if (error instanceof QuotaWait) return;
        const failure = describeSheetsFailure(error, { sheetId: sheet.sheetId, serviceAccount });
        if (failure.cause === "throttled") {
          await blockBucket(db, QUOTA_BUCKETS.drive, new Date(at.getTime() + 60_000));
          return;
        }
        // the sync itself reports and retries problems with the sheet
        await saveSheetLink(db, sheet.userId, sheet.sheetId, { checkedAt: at });
        continue;
      }
      result.checked++;
      await saveSheetLink(db, sheet.userId, sheet.sheetId, { checkedAt: at });
      if (sheet.driveModifiedAt !== null && modifiedAt <= sheet.driveModifiedAt) continue;
      result.changed++;
      const [person] = await linkedPeople(db, at, sheet.userId);
      if (person === undefined) continue;
      const event = await enqueueCoalesced(
        db,
        SHEETS_MIRROR_KIND,
        sheet.userId,
        {
          sheetId: person.sheetId,
          fingerprint: person.fingerprint,
          edited: true,
        },
        at,
      );
      if (event !== null) result.enqueued++;
    }
  }

  /**
   * Reads the sheet back when it changed since the mirror wrote it: takes the person's edits
   * (edits on) or marks every tab for rewriting (edits off). Returns the tabs to rewrite.
   */
  async function takeEdits(
    person: LinkedPerson,
    state: MirrorState,
    link: Awaited<ReturnType<typeof sheetLinkOf>>,
    at: Date,
    result: MirrorTickResult,
  ): Promise<Set<TabTitle>> {
    const rewrite = new Set<TabTitle>();
    if (link === null || link.sheetId !== person.sheetId || link.writtenAt === null) return rewrite;
    await take("drive", at, result);
    const modifiedAt = await (await api()).modifiedTime(person.sheetId);
    await saveSheetLink(db, person.userId, person.sheetId, { checkedAt: at });
    if (link.driveModifiedAt !== null && modifiedAt <= link.driveModifiedAt) return rewrite;
    if (!link.editsEnabled) {
      for (const title of TAB_TITLES) rewrite.add(title);
      return rewrite;
    }
    await take("read", at, result);
    const values = await (await api()).readTabs(person.sheetId, [...EDITABLE_TABS]);
    const data = await loadPersonSheetData(db, person.userId, at);
    const user = await personById({ db }, person.userId);
    if (data === null || user === null) return rewrite;
    const found = readBack({
      userId: person.userId,
      data,
      planIds: Object.fromEntries(data.plans.map((p) => [p.day, p.id])),
      currentPlan: todaysPlanAmounts(data)?.amounts,
      state,
      values,
    });
    const outcomes = await applySheetEdits({ db, now: () => at }, user, found.edits, {
      writtenAt: link.writtenAt,
      ...(options.revisePlan ? { revisePlan: options.revisePlan } : {}),
    });
    // edits refused by the use cases stay in the sheet with a note, like invalid cells
    for (const o of outcomes) {
      if (o.kind !== "refused") continue;
      for (const ref of o.edit.cells) {
        found.held.cells.push({ ...ref, note: o.reason });
        found.reported.push(`${ref.tab}|${ref.row}|${ref.col}|${String(ref.value)}`);
      }
    }
    const reportedBefore = new Set(state.reported);
    const shown = outcomes.filter(
      (o) =>
        o.kind !== "unchanged" &&
        !(
          o.kind === "refused" &&
          o.edit.cells.every((ref) =>
            reportedBefore.has(`${ref.tab}|${ref.row}|${ref.col}|${String(ref.value)}`),
          )
        ),
    );
    state.held = found.held;
    state.reported = found.reported;
    // what was read is kept even when the write below fails: a re-read finds the same edits
    // taken (idempotent) and reports nothing twice
    await saveSheetLink(db, person.userId, person.sheetId, {
      state: state as unknown as object,
      readAt: at,
    });
    for (const title of EDITABLE_TABS) rewrite.add(title);
    log.info(
      {
        userId: person.userId,
        edits: found.edits.length,
        taken: outcomes.filter((o) => /^(entry|habit|plan)-/.test(o.kind)).length,
        conflicts: outcomes.filter((o) => o.kind === "conflict").length,
        held: found.held.cells.length + found.held.rows.length,
      },
      "sheet edits read",
    );
    if (options.reportEdits && (shown.length > 0 || found.newlyHeld.length > 0)) {
      await options
        .reportEdits({ userId: person.userId, outcomes: shown, invalid: found.newlyHeld })
        .catch((error: unknown) => {
          log.warn(
            { userId: person.userId, err: error },
            "could not tell the person about sheet edits",
          );
        });
    }
    return rewrite;
  }

  async function work(event: OutboxEvent, at: Date, result: MirrorTickResult): Promise<void> {
    result.processed++;
    const userId = event.userId;
    // the fingerprint is taken before the data is read: a write in between makes the next scan
    // sync again rather than be missed
    let person = userId === null ? undefined : (await linkedPeople(db, at, userId))[0];
    if (person === undefined || (await personById({ db }, person.userId)) === null) {
      await completeEvent(db, event.id, at, { ...payloadOf(event), skipped: "no linked sheet" });
      log.info({ userId, eventId: String(event.id) }, "sheet mirror skipped: sheet unlinked");
      result.succeeded++;
      return;
    }
    const started = performance.now();
    const sheetId = person.sheetId;
    try {
      const link = await sheetLinkOf(db, person.userId);
      const state = link !== null && link.sheetId === sheetId ? stateOf(link.state) : stateOf(null);
      // with edits off the sheet is a copy: nothing typed there is kept, not even with a note
      if (link === null || !link.editsEnabled) {
        state.held = { cells: [], rows: [] };
        state.reported = [];
      }
      const rewrite = await takeEdits(person, state, link, at, result);
      // edits taken from the sheet changed the data: mirror it as it is now
      person = (await linkedPeople(db, at, person.userId))[0] ?? person;
      const data = await loadPersonSheetData(db, person.userId, at);
      if (data === null) throw new Error("the person was deleted during the sync");
      const sync = await syncSheet(await api(), sheetId, sheetTabs(data, state.held), state, {
        rewrite,
        beforeCall: (kind) => take(kind, at, result),
      });
      const written: MirrorState = {
        ...sync.state,
        habits: Object.fromEntries(
          data.habits.map((h) => [
            String(h.id),
            {
              target: h.spec.target,
              daysPerWeek: h.spec.daysPerWeek,
              levels: levelsText(h.spec.levels),
            },
          ]),
        ),
        plan: todaysPlanAmounts(data),
      };
      let driveModifiedAt: Date | undefined;
      if (sync.writes > 0) {
        // the sheet's modifiedTime after our own write: a later one is someone's edit
        const token = await take("drive", at, result).then(
          () => true,
          () => false,
        );
        if (token)
          driveModifiedAt = await (await api()).modifiedTime(sheetId).catch(() => undefined);
      }
      await saveSheetLink(db, person.userId, sheetId, {
        state: written as unknown as object,
        ...(sync.writes > 0 ? { writtenAt: at } : {}),
        ...(driveModifiedAt !== undefined ? { driveModifiedAt } : {}),
        ...(link === null || link.sheetId !== sheetId || link.checkedAt === null
          ? { checkedAt: at }
          : {}),
      });
      await completeEvent(db, event.id, at, {
        sheetId,
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
          writtenTabs: sync.writtenTabs,
          calls: sync.calls,
          ms: Math.round(performance.now() - started),
        },
        sync.writes > 0 ? "sheet mirrored" : "sheet mirror: nothing to write",
      );
    } catch (error) {
      if (error instanceof QuotaWait) {
        // no token: wait for the bucket, not a failed attempt
        await postponeEvent(db, event.id, new Date(at.getTime() + error.waitMs));
        result.throttled++;
        throw error;
      }
      // never log `error` itself: a Google error carries the request, bearer token included
      const failure = describeSheetsFailure(error, { sheetId, serviceAccount });
      if (failure.cause === "throttled") {
        // Google's quota: everyone pauses a minute; this event waits longer each time in a row
        const throttled = Number(payloadOf(event).throttled ?? 0) + 1;
        const delay = backoffDelayMs(throttled, 60_000, tuning.maxThrottleDelayMs);
        for (const bucket of Object.values(QUOTA_BUCKETS)) {
          await blockBucket(db, bucket, new Date(at.getTime() + 60_000));
        }
        await postponeEvent(db, event.id, new Date(at.getTime() + delay), {
          ...payloadOf(event),
          throttled,
        });
        result.throttled++;
        log.warn(
          { userId, eventId: String(event.id), throttled, delayMs: delay },
          "sheet mirror throttled by Google (429); waiting",
        );
        throw new QuotaWait("write", delay);
      }
      if (failure.cause === "invalid") {
        // the sheet is not what the mirror thought (a tab or the chart deleted by hand): forget
        // what was written, so the retry looks the tabs up again and writes them in full
        await saveSheetLink(db, person.userId, sheetId, {
          state: stateOf(null) as unknown as object,
        });
      }
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
          sheetId,
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
    // looking for changes every minute is enough; work is done every tick (the buckets refill
    // within a minute, so the quota is spread over it)
    if (at.getTime() - lastScan >= tuning.scanIntervalMs || at.getTime() < lastScan) {
      lastScan = at.getTime();
      await scan(at, result);
      await poll(at, result);
    }
    let quotaLeft = true;
    while (!stopped && quotaLeft && result.processed < tuning.maxPerTick) {
      const limit = Math.min(tuning.batchSize, tuning.maxPerTick - result.processed);
      const events = await claimDue(db, SHEETS_MIRROR_KIND, at, limit, tuning.leaseMs);
      if (events.length === 0) break;
      for (const event of events) {
        if (!quotaLeft) {
          // claimed but not started: back to the queue at once
          await postponeEvent(db, event.id, at);
          continue;
        }
        try {
          await work(event, at, result);
        } catch (error) {
          if (!(error instanceof QuotaWait)) throw error;
          quotaLeft = false;
        }
      }
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
    const job = schedule.scheduleJob(
      `*/${Math.max(1, Math.round(tuning.workIntervalMs / 1000))} * * * * *`,
      () => {
        mirror.tick().catch(onError);
      },
    );
    if (job) jobs.push(job);
    mirror.tick().catch(onError);
    log.info({ serviceAccount, apiRoot: config.sheetsApiRoot }, "Google Sheets mirror started");
  }
  return mirror;
}
