// Admin alerts for the nightly retrain. Every instance that runs schedules checks, once a minute,
// the nights queued in the last 36 hours (JobRun("nightly-retrain", night)) with one grouped
// count of each night's runs:
//   - when all of a night's jobs have ended (succeeded, failed or cancelled), admins get ONE
//     report: people trained, activated, kept the old policy, failed with the top error, CPU
//     time in total and per person, and anyone whose active policy now scores worse than the
//     heuristic on their fitted behaviour;
//   - a failing night alerts at once, before it ends: no run started or ended for an hour while
//     jobs still wait or run, or more than 10 % of the night's jobs failed.
// Each message is claimed before it is sent — JobRun("nightly-report", night) and
// JobRun("nightly-failed", night) — so it goes out exactly once across instances; a send that
// fails is recorded as the claim's error and not retried (the next night reports again).
import { type ClaimedOutcome, claimedKeys, runOnce } from "../../db/jobs.js";
import {
  adminChatIds,
  type NightRun,
  nightRunCounts,
  nightRuns,
  occurrencesSince,
} from "../../db/training-report.js";
import type { AppDeps } from "../deps.js";
import { NIGHTLY_RETRAIN_JOB } from "./nightly.js";
import type { RetrainOutcome } from "./retrain.js";
import type { CpuClock } from "./retrain-job.js";

export const NIGHTLY_REPORT_JOB = "nightly-report";
export const NIGHTLY_FAILED_JOB = "nightly-failed";
/** A night with jobs left and no run started or ended for this long is failing. */
export const STALLED_AFTER_MS = 3_600_000;
/** A night where more than this share of the jobs failed is failing. */
export const FAILED_SHARE_ALERT = 0.1;
/** Nights older than this are no longer watched. */
const WATCH_NIGHTS_MS = 36 * 3_600_000;
/** How often an instance checks (each check: one query for the nights, one count per night). */
export const NIGHT_CHECK_INTERVAL_MS = 60_000;

export interface NightReport {
  night: string;
  /** jobs of the night */
  jobs: number;
  /** runs that produced a policy */
  trained: number;
  /** of which activated (beat the heuristic and the active policy) */
  activated: number;
  /** of which not activated: the person keeps their old policy (or the heuristic) */
  keptOld: number;
  failed: number;
  /** skipped: the person was deleted, had no habits left, or an admin cancelled */
  cancelled: number;
  /** the most frequent error among the failed runs, with how many failed with it */
  topError: { message: string; count: number } | null;
  cpu: {
    totalSeconds: number;
    /** mean over the runs that measured it */
    meanSeconds: number | null;
    most: { displayName: string; seconds: number } | null;
    /** runs that measured their CPU time */
    measured: number;
    clock: CpuClock | null;
  };
  /** people whose policy in use scores below the heuristic on their own (fitted) behaviour */
  worseThanHeuristic: { userId: number; displayName: string; active: number; heuristic: number }[];
}

export type NightAlert =
  | { kind: "report"; report: NightReport }
  | {
      kind: "failed-night";
      night: string;
      reason: "stalled" | "failures";
      jobs: number;
      failed: number;
      /** jobs still waiting or running */
      left: number;
      minutesWithoutProgress: number;
    };

/** The stored outcome of a run (what runRetrainJob recorded as its summary), if any. */
interface RunSummary extends Partial<RetrainOutcome> {
  evaluation?: {
    heuristic?: { meanReward: number };
    active?: { meanReward: number } | null;
  };
}

/** The report of a night from its ended runs. */
export function nightReport(night: string, runs: NightRun[]): NightReport {
  const errors = new Map<string, number>();
  const worse: NightReport["worseThanHeuristic"] = [];
  let trained = 0;
  let activated = 0;
  let failed = 0;
  let cancelled = 0;
  let cpuTotal = 0;
  let measured = 0;
  let clock: CpuClock | null = null;
  let most: NightReport["cpu"]["most"] = null;
  for (const run of runs) {
    const name = run.displayName ?? `user ${run.userId}`;
    if (run.status === "failed") {
      failed++;
      const message = (run.error ?? "unknown error").slice(0, 300);
      errors.set(message, (errors.get(message) ?? 0) + 1);
      continue;
    }
    if (run.status === "cancelled") {
      cancelled++;
      continue;
    }
    if (run.status !== "succeeded") continue;
    trained++;
    const summary = (run.summary ?? {}) as RunSummary;
    if (summary.activated === true) activated++;
    const cost = summary.cost;
    if (cost && Number.isFinite(cost.cpuSeconds)) {
      measured++;
      cpuTotal += cost.cpuSeconds;
      clock ??= cost.clock;
      if (most === null || cost.cpuSeconds > most.seconds)
        most = { displayName: name, seconds: cost.cpuSeconds };
    }
    // not activated: the active policy (when one was evaluated) keeps planning
    const active = summary.evaluation?.active;
    const heuristic = summary.evaluation?.heuristic;
    if (summary.activated !== true && active && heuristic) {
      if (active.meanReward < heuristic.meanReward && run.userId !== null) {
        worse.push({
          userId: run.userId,
          displayName: name,
          active: active.meanReward,
          heuristic: heuristic.meanReward,
        });
      }
    }
  }
  let topError: NightReport["topError"] = null;
  for (const [message, count] of errors) {
    if (topError === null || count > topError.count) topError = { message, count };
  }
  return {
    night,
    jobs: runs.length,
    trained,
    activated,
    keptOld: trained - activated,
    failed,
    cancelled,
    topError,
    cpu: {
      totalSeconds: cpuTotal,
      meanSeconds: measured === 0 ? null : cpuTotal / measured,
      most,
      measured,
      clock,
    },
    worseThanHeuristic: worse,
  };
}

/** Sends an alert to the admins' chats (the bot's Telegram client; src/bot/training-alerts.ts). */
export type NightAlertSender = (alert: NightAlert) => Promise<void>;

/** Where an alert goes: ADMIN_TELEGRAM_IDS (private chats) and people registered as admins. */
export async function adminChats(deps: Pick<AppDeps, "db" | "config">): Promise<bigint[]> {
  const chats = new Set<bigint>(deps.config.adminTelegramIds);
  for (const chat of await adminChatIds(deps.db)) chats.add(chat);
  return [...chats];
}

/**
 * One check of the watched nights: sends each alert that is due and not yet claimed by any
 * instance; returns the alerts this caller sent.
 */
export async function checkNightlyAlerts(
  deps: Pick<AppDeps, "db" | "now" | "log">,
  send: NightAlertSender,
  instance: string,
): Promise<NightAlert[]> {
  const now = deps.now();
  const nights = (
    await occurrencesSince(deps.db, NIGHTLY_RETRAIN_JOB, new Date(now.getTime() - WATCH_NIGHTS_MS))
  ).filter((n) => n.finishedAt !== null); // still being queued: not yet countable
  if (nights.length === 0) return [];
  const keys = nights.map((n) => n.key);
  const reported = await claimedKeys(deps.db, NIGHTLY_REPORT_JOB, keys);
  const alerted = await claimedKeys(deps.db, NIGHTLY_FAILED_JOB, keys);
  const sent: NightAlert[] = [];
  const claimAndSend = async (job: string, key: string, alert: () => Promise<NightAlert>) => {
    const outcome: ClaimedOutcome<NightAlert> = await runOnce(
      deps.db,
      job,
      key,
      instance,
      async () => {
        const value = await alert();
        await send(value);
        return value;
      },
    ).catch((error: unknown) => {
      deps.log.error({ err: error, night: key, job }, "nightly alert could not be sent");
      return { ran: false } as const;
    });
    if (outcome.ran) sent.push(outcome.value);
  };
  for (const night of nights) {
    if (reported.has(night.key)) continue;
    const counts = await nightRunCounts(deps.db, night.key, night.startedAt);
    const n = (s: keyof typeof counts.byStatus) => counts.byStatus[s] ?? 0;
    const left = n("queued") + n("running");
    const jobs = left + n("succeeded") + n("failed") + n("cancelled");
    if (jobs === 0) continue; // nobody to train that night
    if (left === 0) {
      await claimAndSend(NIGHTLY_REPORT_JOB, night.key, async () => ({
        kind: "report",
        report: nightReport(night.key, await nightRuns(deps.db, night.key, night.startedAt)),
      }));
      continue;
    }
    if (alerted.has(night.key)) continue;
    const lastProgress = Math.max(
      night.finishedAt!.getTime(),
      counts.lastProgressAt?.getTime() ?? 0,
    );
    const quietMs = now.getTime() - lastProgress;
    const failing = n("failed") > FAILED_SHARE_ALERT * jobs;
    if (quietMs >= STALLED_AFTER_MS || failing) {
      await claimAndSend(NIGHTLY_FAILED_JOB, night.key, async () => ({
        kind: "failed-night",
        night: night.key,
        reason: failing ? "failures" : "stalled",
        jobs,
        failed: n("failed"),
        left,
        minutesWithoutProgress: Math.floor(quietMs / 60_000),
      }));
    }
  }
  return sent;
}

/** Checks now and every NIGHT_CHECK_INTERVAL_MS in this instance; stop() ends it. */
export function startNightlyAlerts(
  deps: Pick<AppDeps, "db" | "now" | "log">,
  send: NightAlertSender,
  instance: string,
  everyMs = NIGHT_CHECK_INTERVAL_MS,
): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const check = () => {
    running = checkNightlyAlerts(deps, send, instance).catch((error: unknown) =>
      deps.log.warn({ err: error }, "could not check the nightly retrain for alerts"),
    );
  };
  // at once too: an instance started after a night ended reports it without waiting
  check();
  const timer = setInterval(check, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
