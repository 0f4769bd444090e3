// Use cases for the people who run the bot: whom an admin's /retrain means, and the state of
// the service (/status). The Telegram adapter parses and formats; this gathers the facts.

import { lastJobRun } from "../db/jobs.js";
import {
  countPeople,
  type OutboxHealth,
  outboxHealth,
  peopleNamed,
  peopleWithActiveHabits,
  pingDatabase,
} from "../db/operations.js";
import { type SheetsMirrorHealth, sheetsMirrorHealth } from "../db/sheets.js";
import { type BucketUsage, bucketUsage } from "../db/sheets-quota.js";
import { activationsSince, lastTrainingRun, runCountsSince } from "../db/training.js";
import { peopleWithOpenRuns } from "../db/training-queue.js";
import { findUserByTelegramId } from "../db/users.js";
import type { JobRun, TrainingRun, User } from "../generated/prisma/client.js";
import type { AppDeps } from "./deps.js";
import { type PlanFanOut, planFanOut } from "./plan-fan-out.js";
import { NIGHTLY_RETRAIN_JOB } from "./training/nightly.js";
import { type QueueCounts, queueCounts } from "./training/queue.js";

/** Whom a /retrain is for. */
export type RetrainTarget =
  | { kind: "me" }
  | { kind: "all" }
  | { kind: "telegramId"; telegramId: bigint }
  | { kind: "name"; name: string };

/** The people a target means, or the message explaining why there are none. */
export async function retrainTargets(
  deps: Pick<AppDeps, "db">,
  target: RetrainTarget,
  self: User | undefined,
): Promise<{ ok: true; people: User[] } | { ok: false; message: string }> {
  const { db } = deps;
  if (target.kind === "me") {
    if (self === undefined)
      return { ok: false, message: "Send /start first so that I know your habits." };
    return { ok: true, people: [self] };
  }
  if (target.kind === "all") {
    const people = await peopleWithActiveHabits(db);
    if (people.length === 0)
      return { ok: false, message: "Nobody has active habits yet; nothing to train." };
    return { ok: true, people };
  }
  if (target.kind === "telegramId") {
    const person = await findUserByTelegramId(db, target.telegramId);
    if (person === null)
      return { ok: false, message: `No registered person has Telegram id ${target.telegramId}.` };
    return { ok: true, people: [person] };
  }
  const matches = await peopleNamed(db, target.name);
  if (matches.length === 0)
    return {
      ok: false,
      message: `No registered person is called "${target.name}". Use their Telegram id.`,
    };
  if (matches.length > 1) {
    return {
      ok: false,
      message: `Several people are called "${target.name}": ${matches.map((m) => m.telegramId).join(", ")}. Use a Telegram id.`,
    };
  }
  return { ok: true, people: matches };
}

/** Those of `people` whose retrain is already queued or running. */
export async function alreadyTraining(deps: Pick<AppDeps, "db">, people: User[]): Promise<User[]> {
  const open = await peopleWithOpenRuns(
    deps.db,
    people.map((p) => p.id),
  );
  return people.filter((p) => open.has(p.id));
}

/**
 * Queues an admin's retrains (before the night's jobs), skipping people already queued or in
 * training (runId null).
 */
export async function queueRetrains(
  deps: Pick<AppDeps, "db" | "training">,
  people: User[],
  options: { requestedBy: bigint | null; steps?: number; numEnvs?: number },
): Promise<{ person: User; runId: number | null }[]> {
  const busy = new Set((await alreadyTraining(deps, people)).map((p) => p.id));
  const queued: { person: User; runId: number | null }[] = [];
  for (const person of people) {
    if (busy.has(person.id)) {
      queued.push({ person, runId: null });
      continue;
    }
    const result = await deps.training.enqueue({
      userId: person.id,
      trigger: "admin",
      requestedBy: options.requestedBy,
      steps: options.steps,
      numEnvs: options.numEnvs,
    });
    queued.push({ person, runId: result.runId });
  }
  return queued;
}

/** Window in which given-up outbox events are still reported. */
export const GAVE_UP_WINDOW_MS = 24 * 3_600_000;

export type ServiceStatus =
  | { database: "unreachable"; kind: string; error: string }
  | {
      database: "reachable";
      kind: string;
      pingMs: number;
      people: { all: number; withHabits: number };
      /** the training queue: its kind and numbers */
      training: QueueCounts & { kind: AppDeps["training"]["kind"] };
      retrainCron: string;
      nightly: null | {
        run: JobRun;
        runs: Partial<Record<string, number>>;
        activated: number;
      };
      lastRun: TrainingRun | null;
      outbox: OutboxHealth;
      /** the Google Sheets mirror: backlog and calls per minute of each shared quota bucket */
      sheets: SheetsMirrorHealth & { buckets: BucketUsage[] };
      /** the morning plans: the busiest minute and how long sending it takes */
      fanOut: PlanFanOut;
    };

/** Everything /status reports, gathered from the database and the retrain queue. */
export async function serviceStatus(deps: AppDeps): Promise<ServiceStatus> {
  const { db } = deps;
  let pingMs: number;
  try {
    pingMs = await pingDatabase(db);
  } catch (error) {
    return {
      database: "unreachable",
      kind: db.kind,
      error: error instanceof Error ? error.message.split("\n")[0] : String(error),
    };
  }
  const now = deps.now();
  const [people, nightlyRun, lastRun, outbox, queue, sheets, buckets, fanOut] = await Promise.all([
    countPeople(db),
    lastJobRun(db, NIGHTLY_RETRAIN_JOB),
    lastTrainingRun(db),
    outboxHealth(db, new Date(now.getTime() - GAVE_UP_WINDOW_MS)),
    queueCounts(deps),
    sheetsMirrorHealth(db, now),
    bucketUsage(db, now),
    planFanOut(deps),
  ]);
  const nightly =
    nightlyRun === null
      ? null
      : {
          run: nightlyRun,
          runs: await runCountsSince(db, "nightly", nightlyRun.startedAt),
          activated: await activationsSince(db, "nightly", nightlyRun.startedAt),
        };
  return {
    database: "reachable",
    kind: db.kind,
    pingMs,
    people,
    training: { kind: deps.training.kind, ...queue },
    retrainCron: deps.config.retrainCron,
    nightly,
    lastRun,
    outbox,
    sheets: { ...sheets, buckets },
    fanOut,
  };
}
