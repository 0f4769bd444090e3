// The soak with faults: simulated people live with the real app process (webhook mode, real
// Postgres behind a TCP proxy the harness controls, the Bot API emulator as Telegram) while the
// harness injects faults, then checks the database against its own record of what was sent.
//
//   const summary = await runSoak({ people: 50, days: 7, serverUrl });
//   summary.lost === 0 && summary.duplicated === 0
//
// Telegram's side: every update is POSTed to the webhook and re-posted after `retryDelayMs` until
// it is answered 2xx (the emulator's webhookRetryDelayMs); `duplicateRate` of the updates are
// delivered a second time as well. Each person acts in order (the next message once the previous
// one was accepted), people act concurrently.
//
// The clock: the app runs on a simulated clock (SIMULATED_CLOCK_FILE, src/app/clock.ts) the
// harness moves. Each simulated day it jumps to 02:31 UTC (the nightly retrain fires for the night
// when RETRAIN_CRON says so) and then to 07:31 (every person's 07:30 plan is pushed); when pushes
// failed it moves on a few minutes at a time, as the morning passing would, until every plan
// arrived. People then report for that day ("walk 20", "walk 20 yesterday"…), tap the pushed
// plan's button, undo, and upload body weights to POST /ingest/weight with their token.
// A claim left by a killed instance is given up after UPDATE_LEASE_MS (2 min); the harness
// ages such claims right after the restart (as two minutes passing would do) instead of waiting.
// A retrain job left by a killed instance is retried once its time limit (RETRAIN_JOB_TIMEOUT,
// short here) has passed.
//
// Faults (each with its wall-clock time in the summary): kill -9 of the app while an update is
// held mid-handling and while a retrain is running (restarted at once), every database connection
// reset and the database black-holed for `blackHoleMs`, a 429 storm and a 500 storm of
// sendMessage during a morning's plan pushes.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { cronOccurrences } from "../../../src/app/scheduling/cron.js";
import { UPDATE_LEASE_MS } from "../../../src/app/updates.js";
import { openPostgres } from "../../../src/db/client.js";
import { sheetTabs } from "../../../src/sheets/layout.js";
import { loadPersonSheetData } from "../../../src/sheets/load.js";
import { FakeSheets } from "../../sheets/fake-sheets.js";
import { SERVICE_ACCOUNT, testKeyPair } from "../../sheets/helpers.js";
import { type AppProcess, freePort, killHard, startApp } from "../app-process.js";
import { createEmptyPostgresDatabase } from "../database.js";
import { startTcpProxy } from "../tcp-proxy.js";
import { startEmulator, type Update } from "../telegram-emulator.js";

export interface SoakOptions {
  /** Postgres server URL; the soak creates and drops its own database there. */
  serverUrl: string;
  people: number;
  days: number;
  /** how long the database is black-holed (the issue: 30 s) */
  blackHoleMs?: number;
  /** kill -9s of the app mid-update, spread over the run */
  kills?: number;
  /** kill -9s of the app while a nightly retrain is running */
  trainingKills?: number;
  /** RETRAIN_CRON of the app (UTC; default every night at 02:30) */
  nightlyCron?: string;
  /** trainings at a time in the app (its COACHRL_WORKERS; default 1) */
  trainingWorkers?: number;
  /** share of the people who upload their body weight each day */
  weightShare?: number;
  /** the first simulated day (YYYY-MM-DD) */
  firstDay?: string;
  /** share of the people who link a Google Sheet (the mirror writes to a local fake) */
  sheetShare?: number;
  /** simulated minutes the fake Sheets API answers 503 to everything, on one morning */
  sheetsOutageMinutes?: number;
  /** share of updates delivered twice */
  duplicateRate?: number;
  /** Telegram's delay before re-posting an update the webhook did not accept */
  retryDelayMs?: number;
  /** people acting at the same moment */
  concurrency?: number;
  /** failed sends per Bot API storm */
  stormSize?: number;
  seed?: number;
  /** how long any one wait may take before the soak fails (a loaded machine is slow) */
  deadlineMs?: number;
  /** progress lines (stderr in the script) */
  progress?: (line: string) => void;
}

export interface FaultRecord {
  kind: string;
  /** ms since the soak started */
  atMs: number;
  /** ms from the end of the fault to the app working again (health 200 / process started) */
  recoveryMs?: number;
  detail?: string;
}

export interface SoakSummary {
  people: number;
  days: number;
  updatesSent: number;
  duplicatesDelivered: number;
  webhookRetries: number;
  reportsExpected: number;
  entriesExpected: number;
  lost: number;
  duplicated: number;
  wrongEntries: number;
  undoMismatches: number;
  /** person-days that should have a pushed plan */
  plansExpected: number;
  plansMissing: number;
  plansDoubled: number;
  weightsSent: number;
  sheetsLinked: number;
  /** cells (or missing tabs) where a linked sheet differs from what the database says */
  mirrorDiffs: number;
  weightsLost: number;
  weightsDuplicated: number;
  /** nightly retrains queued (person × night) and how they ended */
  nightlyRuns: {
    nights: number;
    expected: number;
    succeeded: number;
    missing: number;
    notSucceeded: number;
    doubled: number;
  };
  planTapsMissing: number;
  planTapsDoubled: number;
  /** up to 10 of the differences found, for the reader */
  examples: string[];
  faults: FaultRecord[];
  healthz: { outageSeen: boolean; recoverySeen: boolean; checks: number };
  /** kill -9 → restarted; restore → /healthz 200; restore → every earlier update handled */
  recoveryMs: { restart: number[]; database: number[]; updatesAfterOutage: number[] };
  appErrors: { expected: Record<string, number>; unexpected: Record<string, number> };
  wallMs: number;
  loadAverage: number[];
}

/**
 * Error lines (pino level ≥ 50) the faults are expected to cause: background loops that report a
 * database outage they cannot hide (pg-boss' maintenance, the plan-push and evening check-in
 * ticks and the Sheets mirror's tick, which run again shortly). Anything else at error level — "update handler
 * failed" above all: an update answered with an apology and counted as handled — is unexpected.
 */
export const EXPECTED_FAULT_ERRORS: RegExp[] = [
  /^pg-boss error: /,
  /^plan push tick failed: /,
  /^sheet mirror tick failed: /,
  /^evening check-in tick failed: /,
];

const WEBHOOK_SECRET = "soak_webhook_secret_0123456789abcdef";
const WEBHOOK_URL = "https://coach.example.com/telegram/hook";
const FIRST_PERSON = 710_000;
/** A plan message: the morning push ("Good morning! Plan for …") or an answer to /plan. */
const PLAN_MESSAGE = /^(Good morning! )?Plan for /;

interface ExpectedItem {
  habit: "walk" | "read";
  amount: number;
  day: string;
}
interface SentReport {
  person: number;
  updateId: number;
  text: string;
  items: ExpectedItem[];
  undone: boolean;
}

interface SentWeight {
  person: number;
  measuredAt: string;
  kg: number;
}

/** YYYY-MM-DD plus `days`. */
function addDaysIso(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** A small seeded generator (mulberry32): the same seed plays the same soak. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A report's text for `items`, in one of the phrasings people use (parser test cases). */
function phrase(items: ExpectedItem[], back: number, pick: number): string {
  const [first, second] = items;
  const one = (item: ExpectedItem, variant: number) =>
    item.habit === "walk"
      ? [`walk ${item.amount}`, `walked ${item.amount} min`, `walkk ${item.amount}`][variant % 3]
      : [`read ${item.amount} pages`, `read ${item.amount}p`, `raed ${item.amount} pages`][
          variant % 3
        ];
  const body = second ? `${one(first, pick)}, ${one(second, pick + 1)}` : one(first, pick);
  if (back === 0) return [body, `/done ${body}`, `${body} today`][pick % 3];
  if (back === 1) return pick % 2 === 0 ? `yesterday: ${body}` : `${body} yesterday`;
  return pick % 2 === 0 ? `${first.day} ${body}` : `${body} on ${first.day}`;
}

export async function runSoak(options: SoakOptions): Promise<SoakSummary> {
  const started = Date.now();
  const since = () => Date.now() - started;
  const random = generator(options.seed ?? 20261130);
  const deadlineMs = options.deadlineMs ?? 600_000;
  const duplicateRate = options.duplicateRate ?? 0.05;
  const concurrency = options.concurrency ?? 8;
  const stormSize = options.stormSize ?? 20;
  const weightShare = options.weightShare ?? 0.2;
  const nightlyCron = options.nightlyCron ?? "30 2 * * *";
  const progress = options.progress ?? (() => {});

  const database = await createEmptyPostgresDatabase(options.serverUrl);
  const server = new URL(options.serverUrl);
  const proxy = await startTcpProxy({
    host: server.hostname,
    port: Number(server.port || 5432),
  });
  const emulator = await startEmulator({ timeoutMs: deadlineMs });
  emulator.webhookRetryDelayMs = options.retryDelayMs ?? 300;
  const dataDir = mkdtempSync(join(tmpdir(), "coachrl-soak-"));

  // the simulated clock: an instant and the real moment it was set; the app and the emulator's
  // message dates follow it
  const clockFile = join(dataDir, "clock");
  const firstDay = options.firstDay ?? "2027-01-04";
  let clockBase = Date.parse(`${addDaysIso(firstDay, -1)}T20:00:00Z`);
  let clockSetAt = Date.now();
  const simulatedNow = () => clockBase + (Date.now() - clockSetAt);
  const writeClock = () => {
    writeFileSync(`${clockFile}.tmp`, new Date(clockBase).toISOString());
    renameSync(`${clockFile}.tmp`, clockFile);
  };
  writeClock();
  emulator.now = simulatedNow;

  // Google Sheets: a local fake speaking the Sheets v4 wire format, verifying the service
  // account's signed tokens
  const keys = testKeyPair();
  const sheets = await new FakeSheets({
    serviceAccount: SERVICE_ACCOUNT,
    publicKey: keys.publicKey,
  }).start();
  const sheetShare = options.sheetShare ?? 0.2;
  const sheetsOutageMinutes = options.sheetsOutageMinutes ?? 60;
  const linkedSheets = new Map<number, string>();

  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  emulator.forwardWebhookTo(origin);
  const env = {
    TELEGRAM_BOT_TOKEN: emulator.token,
    TELEGRAM_API_ROOT: emulator.apiRoot,
    WEBHOOK_URL,
    WEBHOOK_SECRET,
    HTTP_HOST: "127.0.0.1",
    HTTP_PORT: String(port),
    LOG_LEVEL: "info",
    DATABASE_URL: proxy.rewrite(database.url),
    DATA_DIR: dataDir,
    SIMULATED_CLOCK_FILE: clockFile,
    GOOGLE_CLIENT_EMAIL: SERVICE_ACCOUNT,
    GOOGLE_PRIVATE_KEY: keys.privateKey.replace(/\n/g, "\\n"),
    SHEETS_API_ROOT: sheets.url,
    // a small nightly retrain (the soak is about what survives faults, not about learning)
    RETRAIN_CRON: nightlyCron,
    RETRAIN_STEPS: "1000",
    RETRAIN_EVAL_EPISODES: "4",
    RETRAIN_EVAL_DAYS: "14",
    RETRAIN_NUM_ENVS: "4",
    // a retrain left by a killed instance is retried after this; retries span a database outage
    RETRAIN_JOB_TIMEOUT: "30",
    RETRAIN_RETRY_DELAY: "15",
    COACHRL_WORKERS: String(options.trainingWorkers ?? 1),
  };
  const apps: AppProcess[] = [];
  const startAppProcess = async () => {
    const app = startApp(env);
    apps.push(app);
    await app.waitForLog("bot started (webhook)", deadlineMs);
    return app;
  };

  const faults: FaultRecord[] = [];
  const health: { at: number; status: number }[] = [];
  let polling = true;
  const healthPoller = (async () => {
    while (polling) {
      let status = -1;
      try {
        const res = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(3_000) });
        await res.arrayBuffer();
        status = res.status;
      } catch {
        status = -1;
      }
      health.push({ at: Date.now(), status });
      await sleep(250);
    }
  })();

  // accepted update ids, read incrementally from the emulator's record of webhook answers
  const accepted = new Set<number>();
  let scanned = 0;
  const isAccepted = (updateId: number) => {
    const all = emulator.webhookResponses;
    for (; scanned < all.length; scanned++) {
      const r = all[scanned];
      if (r.status >= 200 && r.status < 300) accepted.add(r.updateId);
    }
    return accepted.has(updateId);
  };
  const sentIds: number[] = [];
  let duplicatesDelivered = 0;
  const deliver = async (update: Update) => {
    sentIds.push(update.update_id);
    if (random() < duplicateRate) {
      duplicatesDelivered++;
      emulator.redeliver(update);
    }
    await emulator.waitFor(
      () => isAccepted(update.update_id),
      `update ${update.update_id} to be accepted`,
      deadlineMs,
    );
  };
  const say = async (person: number, text: string) => {
    const update = emulator.sendText(person, text);
    await deliver(update);
    return update;
  };

  /** POSTs a body weight as an automation would: until it is answered 2xx (5xx and no answer are retried). */
  const tokens = new Map<number, string>();
  const weights: SentWeight[] = [];
  const uploadWeight = async (person: number, measuredAt: string, kg: number) => {
    const body = JSON.stringify({ weight: kg, unit: "kg", measuredAt });
    const deadline = Date.now() + deadlineMs;
    const post = async () => {
      for (;;) {
        try {
          const res = await fetch(`${origin}/ingest/weight`, {
            method: "POST",
            headers: {
              authorization: `Bearer ${tokens.get(person)}`,
              "content-type": "application/json",
            },
            body,
            signal: AbortSignal.timeout(10_000),
          });
          const text = await res.text();
          if (res.ok) return;
          if (res.status < 500 && res.status !== 429) {
            throw new Error(`soak: weight upload refused (${res.status}): ${text.slice(0, 200)}`);
          }
        } catch (error) {
          if (error instanceof Error && error.message.startsWith("soak:")) throw error;
        }
        if (Date.now() > deadline) throw new Error("soak: timed out uploading a weight");
        await sleep(300);
      }
    };
    await post();
    weights.push({ person, measuredAt, kg });
    if (random() < duplicateRate) await post(); // the automation sends it again
  };

  const reports: SentReport[] = [];
  const planTaps = new Map<number, number>();
  /** pushed plan messages seen per person after each day (the harness asks no /plan) */
  const planMessages = (person: number) =>
    emulator.botMessages(person).filter((m) => PLAN_MESSAGE.test(m.text ?? "")).length;
  let plansMissingDelivered = 0;
  let plansDoubledDelivered = 0;
  const nights: string[] = [];
  let app: AppProcess | undefined;
  let played = false;
  let mirror: { diffs: number; examples: string[] } = { diffs: 0, examples: [] };
  const people = Array.from({ length: options.people }, (_, i) => FIRST_PERSON + i);
  const faultPerson = FIRST_PERSON + options.people;
  const everyone = [...people, faultPerson];
  const daysPlayed: string[] = [];
  try {
    app = await startAppProcess();

    /** Moves the simulated clock to `iso` (the app notices within its file poll). */
    const jumpTo = async (iso: string) => {
      clockBase = Date.parse(iso);
      clockSetAt = Date.now();
      writeClock();
      const target = new Date(clockBase).toISOString();
      await waitUntil(
        () =>
          app!
            .logLines()
            .some((line) => line.msg === "simulated clock moved" && line.to === target),
        `the app's clock to reach ${target}`,
        deadlineMs,
      );
    };

    const onboard = async (person: number) => {
      await say(person, "/start");
      await say(person, "UTC");
      // the plan time: a tap on its button where the question offers one, else typed
      const hasButton = (text: string) =>
        (emulator.lastBotMessage(person).keyboard ?? []).flat().some((b) => b.text === text);
      if (hasButton("07:30")) {
        await deliver(emulator.pressButton(person, emulator.lastBotMessage(person), "07:30"));
      } else {
        await say(person, "07:30");
      }
      if (hasButton("I'll add my own")) {
        await deliver(
          emulator.pressButton(person, emulator.lastBotMessage(person), "I'll add my own"),
        );
      }
      await say(person, "/habits add walk 30min 5/week");
      await say(person, "/habits add read 20 pages daily");
      if (person !== faultPerson && random() < sheetShare) {
        const sheetId = `soak-sheet-${person}-0123456789`;
        sheets.create(sheetId);
        await say(person, `/settings sheet https://docs.google.com/spreadsheets/d/${sheetId}/edit`);
        linkedSheets.set(person, sheetId);
      }
      if (person !== faultPerson && random() < weightShare * 2) {
        await say(person, "/settings token");
        // accepted is not answered: an update is acknowledged early when its reply waits for the
        // bot's global send window (src/bot/update-ack.ts), so wait for the reply itself
        const shownToken = () =>
          /crl_[A-Za-z0-9_-]+/.exec(emulator.lastBotMessage(person).text ?? "");
        await emulator
          .waitFor(() => shownToken() !== null, "the ingest token", deadlineMs)
          .catch(() => {});
        const token = shownToken();
        if (!token) {
          const chat = emulator
            .chat(person)
            .map((m) => `${m.sender}: ${(m.text ?? "").slice(0, 80)}`)
            .join("\n");
          throw new Error(`soak: no ingest token shown to ${person}; the chat:\n${chat}`);
        }
        tokens.set(person, token[0]);
      }
    };
    await inParallel(everyone, concurrency, onboard);
    progress(
      `onboarded ${everyone.length} people (${tokens.size} with an ingest token, ${linkedSheets.size} with a sheet) after ${since()} ms`,
    );

    const report = async (person: number, items: ExpectedItem[], back: number) => {
      const text = phrase(items, back, Math.floor(random() * 6));
      const update = await say(person, text);
      const sent: SentReport = { person, updateId: update.update_id, text, items, undone: false };
      reports.push(sent);
      return sent;
    };

    const kills = options.kills ?? 1;
    const killDays = new Set(
      Array.from({ length: kills }, (_, k) => Math.floor(((k + 1) * options.days) / (kills + 2))),
    );
    // kills mid-training on nights the retrain fires, spread over them
    const nightDays = Array.from({ length: options.days }, (_, d) => d).filter(
      (d) =>
        cronOccurrences(
          nightlyCron,
          new Date(`${addDaysIso(firstDay, d - 1)}T20:00:00Z`),
          new Date(`${addDaysIso(firstDay, d)}T02:31:00Z`),
        ).length > 0,
    );
    const trainingKills = Math.min(options.trainingKills ?? 1, nightDays.length);
    const trainingKillDays = new Set(
      Array.from(
        { length: trainingKills },
        (_, k) => nightDays[Math.floor(((k + 1) * nightDays.length) / (trainingKills + 1))],
      ),
    );
    const outageDay = Math.floor(options.days / 2);
    const sheetsOutageDay = Math.floor(options.days / 3);
    const stormDay = Math.floor((3 * options.days) / 4);

    /** A report of the person the faults use (so that it never races another person's /undo). */
    const faultReport = (day: string, back: number) =>
      report(faultPerson, [{ habit: "walk", amount: 1 + Math.floor(random() * 40), day }], back);

    const restartAfterKill = async (kind: string, at: number) => {
      const killedAt = new Date();
      app = await startAppProcess();
      const restartMs = since() - at;
      await ageClaims(database.url, killedAt);
      faults.push({ kind, atMs: at, recoveryMs: restartMs });
      progress(`${kind} at ${at} ms, restarted after ${restartMs} ms`);
    };

    const killMidUpdate = async (day: string, back: number) => {
      const held = emulator.holdNext("sendMessage");
      const sending = faultReport(day, back);
      await held.arrived;
      const at = since();
      await killHard(app!);
      await held.release();
      await restartAfterKill("kill -9 mid-update", at);
      await sending;
    };

    /** Waits until a nightly retrain is running, then kills the app (its job is retried later). */
    const killMidTraining = async () => {
      await waitUntilAsync(
        async () => (await trainingRunsRunning(database.url)) > 0,
        "a nightly retrain to be running",
        deadlineMs,
      );
      const at = since();
      await killHard(app!);
      await restartAfterKill("kill -9 mid-training", at);
    };

    const databaseOutage = async (day: string, back: number) => {
      const at = since();
      proxy.resetAll();
      proxy.blackHole();
      faults.push({ kind: "database connections reset", atMs: at });
      // a report that arrives during the outage (besides whatever the people send)
      const during = faultReport(day, back);
      await sleep(options.blackHoleMs ?? 30_000); // the fault's length, not a pass condition
      const restoredAt = Date.now();
      proxy.restore();
      await during;
      await waitUntil(
        () => health.some((h) => h.at > restoredAt && h.status === 200),
        "/healthz to answer 200 after the outage",
        deadlineMs,
      );
      const recoveryMs = health.find((h) => h.at > restoredAt && h.status === 200)!.at - restoredAt;
      faults.push({
        kind: "database black-holed",
        atMs: at,
        recoveryMs,
        detail: `${options.blackHoleMs ?? 30_000} ms`,
      });
      // Updates whose claim could not be released during the outage wait for the claim's lease
      // (2 minutes): how long until everything sent before the restore was handled.
      const sentBefore = [...sentIds];
      await waitUntil(
        () => sentBefore.every((id) => isAccepted(id)),
        "every update sent before the restore to be handled",
        deadlineMs,
      );
      faults.push({
        kind: "updates of the outage handled",
        atMs: since(),
        recoveryMs: Date.now() - restoredAt,
      });
      progress(`database black-holed at ${at} ms, healthy ${recoveryMs} ms after restore`);
    };

    /**
     * The morning: jumps to 07:31 and waits until every person got the day's plan; pushes that
     * failed are retried by the app after a backoff, so the clock moves on 5 minutes whenever
     * nothing arrived for a while (as the morning would), up to the cut-off.
     */
    const morning = async (day: string, d: number, storm: boolean) => {
      const before = new Map(everyone.map((p) => [p, planMessages(p)]));
      const missing = () => everyone.filter((p) => planMessages(p) <= before.get(p)!);
      const at = since();
      if (storm) {
        for (let i = 0; i < stormSize; i++) {
          emulator.failNext("sendMessage", {
            code: 429,
            description: "Too Many Requests: retry after 1",
            parameters: { retry_after: 1 },
          });
        }
        for (let i = 0; i < stormSize; i++) {
          emulator.failNext("sendMessage", { code: 500, description: "Internal Server Error" });
        }
      }
      await jumpTo(`${day}T07:31:00Z`);
      let minutes = 31;
      const deadline = Date.now() + deadlineMs;
      while (missing().length > 0) {
        const count = missing().length;
        const stalled = Date.now() + 3_000;
        while (Date.now() < stalled && missing().length === count) await sleep(100);
        if (missing().length === count && missing().length > 0) {
          minutes += 5;
          if (minutes > 5 * 60 || Date.now() > deadline) break; // past the cut-off: counted missing
          await jumpTo(
            `${day}T${String(7 + Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}:00Z`,
          );
        }
      }
      for (const person of everyone) {
        const delivered = planMessages(person) - before.get(person)!;
        if (delivered === 0) plansMissingDelivered++;
        if (delivered > 1) plansDoubledDelivered += delivered - 1;
      }
      if (storm) {
        faults.push({
          kind: "Bot API 429 storm",
          atMs: at,
          recoveryMs: since() - at,
          detail: `${stormSize} plan pushes failed with 429`,
        });
        faults.push({
          kind: "Bot API 500 storm",
          atMs: at,
          recoveryMs: since() - at,
          detail: `${stormSize} plan pushes failed with 500`,
        });
      }
      progress(
        `day ${d + 1}: plans pushed by ${String(7 + Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")} (${missing().length} missing)`,
      );
    };

    for (let d = 0; d < options.days; d++) {
      const day = addDaysIso(firstDay, d);
      const dayStarted = since();
      // the night before the day: the nightly retrain fires when RETRAIN_CRON says so
      const nightStart = Date.parse(`${addDaysIso(day, -1)}T20:00:00Z`);
      const fired = cronOccurrences(
        nightlyCron,
        new Date(nightStart),
        new Date(`${day}T02:31:00Z`),
      );
      await jumpTo(`${day}T02:31:00Z`);
      for (const night of fired) {
        const key = `${night.toISOString().slice(0, 16)}Z`;
        nights.push(key);
        await waitUntil(
          () =>
            apps.some((a) =>
              a.logLines().some((l) => l.msg === "nightly retrain queued" && l.key === key),
            ),
          `the nightly retrain of ${key} to be queued`,
          deadlineMs,
        );
      }
      if (fired.length > 0 && trainingKillDays.has(d)) await killMidTraining();
      if (d === sheetsOutageDay && sheetsOutageMinutes > 0) sheets.failNext(1_000_000, 503);
      await morning(day, d, d === stormDay);
      daysPlayed.push(day);
      const faultTask = (async () => {
        await sleep(500); // let the day's traffic start
        if (killDays.has(d)) await killMidUpdate(day, 0);
        if (d === outageDay) await databaseOutage(day, 0);
      })();
      await inParallel(people, concurrency, async (person) => {
        // a tap on the morning's plan before anything else is logged today: it logs the
        // planned amount (a tap logs what is still missing of the plan)
        if (random() < 0.3) {
          const plan = [...emulator.botMessages(person)]
            .reverse()
            .find((m) => PLAN_MESSAGE.test(m.text ?? ""));
          const button = plan && (plan.keyboard ?? []).flat().find((b) => b.text.startsWith("✓ "));
          if (plan && button) {
            await deliver(emulator.pressButton(person, plan, button.text));
            planTaps.set(person, (planTaps.get(person) ?? 0) + 1);
          }
        }
        const count = 1 + Math.floor(random() * 2);
        for (let r = 0; r < count; r++) {
          const back = d > 0 && random() < 0.2 ? 1 : 0;
          const reportDay = addDaysIso(day, -back);
          const two = random() < 0.3;
          const items: ExpectedItem[] = [
            { habit: "walk", amount: 5 + Math.floor(random() * 40), day: reportDay },
          ];
          if (two)
            items.push({ habit: "read", amount: 1 + Math.floor(random() * 30), day: reportDay });
          const sent = await report(person, items, back);
          if (!two && random() < 0.1) {
            await say(person, "/undo");
            sent.undone = true;
          }
        }
        if (tokens.has(person) && random() < 0.5) {
          const minute = 10 + Math.floor(random() * 40);
          await uploadWeight(
            person,
            `${day}T06:${minute}:00Z`,
            60 + Math.round(random() * 300) / 10,
          );
        }
      });
      await faultTask;
      if (d === sheetsOutageDay && sheetsOutageMinutes > 0) {
        // the outage lasts until its end in simulated time, then the API answers again
        const at = since();
        const end = Date.parse(`${day}T07:31:00Z`) + sheetsOutageMinutes * 60_000;
        if (simulatedNow() < end) await jumpTo(new Date(end).toISOString());
        sheets.failNext(0);
        faults.push({
          kind: "Google Sheets outage",
          atMs: at,
          detail: `every Sheets and Drive call answered 503 for ${sheetsOutageMinutes} simulated minutes`,
        });
        progress(`Sheets outage of ${sheetsOutageMinutes} simulated minutes ended at ${at} ms`);
      }
      progress(`day ${d + 1}/${options.days} (${day}) done in ${since() - dayStarted} ms`);
    }
    // every duplicate delivered too (they are retried like any update)
    await waitUntil(
      () => sentIds.every((id) => isAccepted(id)),
      "every update to be accepted",
      deadlineMs,
    );
    // the nights finish: no retrain waits or runs any more (as long as runs keep finishing; the
    // deadline counts from the last one that did)
    let unfinished = await trainingRunsUnfinished(database.url);
    let progressAt = Date.now();
    while (unfinished > 0) {
      if (Date.now() - progressAt > deadlineMs) {
        throw new Error(
          `soak: ${unfinished} nightly retrains made no progress for ${deadlineMs} ms`,
        );
      }
      await sleep(1_000);
      const now = await trainingRunsUnfinished(database.url);
      if (now < unfinished) progressAt = Date.now();
      unfinished = now;
    }
    // the mirror catches up: every linked sheet equals what the database says (or the deadline)
    const mirrorStarted = Date.now();
    mirror = await mirrorDifferences(database.url, sheets, linkedSheets, new Date(simulatedNow()));
    while (mirror.diffs > 0 && Date.now() - mirrorStarted < Math.min(deadlineMs, 300_000)) {
      await sleep(2_000);
      mirror = await mirrorDifferences(
        database.url,
        sheets,
        linkedSheets,
        new Date(simulatedNow()),
      );
    }
    progress(`mirror: ${mirror.diffs} differences after ${Date.now() - mirrorStarted} ms`);
    app.child.kill("SIGTERM");
    const stopped = await Promise.race([
      app.exited.then(() => true),
      sleep(deadlineMs).then(() => false),
    ]);
    if (!stopped) throw new Error(`soak: the app did not stop within ${deadlineMs} ms of SIGTERM`);
    played = true;
  } finally {
    polling = false;
    await healthPoller;
    if (app) await killHard(app);
    await emulator.close();
    await sheets.close();
    if (!played) {
      await proxy.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }

  try {
    // what happened to a report, for the examples of a difference
    const story = (report: SentReport) => {
      const statuses = emulator.webhookResponses
        .filter((r) => r.updateId === report.updateId)
        .map((r) => r.status);
      const chat = emulator.chat(report.person);
      const sentAt = chat.findIndex((m) => m.sender === "user" && m.text === report.text);
      const replies = chat
        .slice(sentAt + 1, sentAt + 3)
        .map((m) => `${m.sender}: ${(m.text ?? "").slice(0, 60)}`);
      return `"${report.text}" from ${report.person}, webhook ${statuses.join(",")}; then ${replies.join(" | ")}`;
    };
    const check = await checkDatabase(database.url, {
      reports,
      planTaps,
      story,
      people: everyone,
      days: daysPlayed,
      weights,
      nights,
    });
    const outage = faults.find((f) => f.kind === "database black-holed");
    const outageStart = outage ? started + outage.atMs : undefined;
    const errors = {
      expected: {} as Record<string, number>,
      unexpected: {} as Record<string, number>,
    };
    for (const line of apps.flatMap((a) => a.logLines())) {
      if (typeof line.level !== "number" || line.level < 50) continue;
      const msg = `${String(line.msg)}${line.err ? `: ${String((line.err as { message?: string }).message ?? "")}` : ""}`;
      const bucket = EXPECTED_FAULT_ERRORS.some((re) => re.test(msg))
        ? errors.expected
        : errors.unexpected;
      bucket[msg] = (bucket[msg] ?? 0) + 1;
    }
    const responses = emulator.webhookResponses;
    return {
      people: options.people,
      days: options.days,
      updatesSent: sentIds.length - duplicatesDelivered,
      duplicatesDelivered,
      webhookRetries: responses.filter((r) => r.status < 200 || r.status >= 300).length,
      reportsExpected: reports.length,
      entriesExpected: reports.reduce((n, r) => n + r.items.length, 0),
      ...check,
      plansMissing: check.plansMissing + plansMissingDelivered,
      plansDoubled: check.plansDoubled + plansDoubledDelivered,
      weightsSent: weights.length,
      sheetsLinked: linkedSheets.size,
      mirrorDiffs: mirror.diffs,
      examples: [...check.examples, ...mirror.examples].slice(0, 10),
      faults,
      healthz: {
        outageSeen:
          outageStart !== undefined && health.some((h) => h.at >= outageStart && h.status !== 200),
        recoverySeen:
          outageStart !== undefined && health.some((h) => h.at >= outageStart && h.status === 200),
        checks: health.length,
      },
      recoveryMs: {
        restart: faults.filter((f) => f.kind.startsWith("kill")).map((f) => f.recoveryMs ?? -1),
        database: faults
          .filter((f) => f.kind === "database black-holed")
          .map((f) => f.recoveryMs ?? -1),
        updatesAfterOutage: faults
          .filter((f) => f.kind === "updates of the outage handled")
          .map((f) => f.recoveryMs ?? -1),
      },
      appErrors: errors,
      wallMs: since(),
      loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    };
  } finally {
    await proxy.close();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Runs `work` for every item with at most `limit` at a time; the first failure fails all. */
async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

async function waitUntil(predicate: () => boolean, what: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`soak: timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Claims an instance killed before `before` still holds: made stale, as the lease running out. */
async function ageClaims(url: string, before: Date): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      `UPDATE processed_updates
          SET claimed_at = claimed_at - interval '${UPDATE_LEASE_MS + 1000} milliseconds'
        WHERE done_at IS NULL AND claimed_at < $1`,
      [before],
    );
  } finally {
    await client.end();
  }
}

/** Retrain runs waiting or running (a killed instance's run stays "running" until retried). */
async function trainingRunsUnfinished(url: string): Promise<number> {
  return countRows(
    url,
    `SELECT count(*)::int AS n FROM training_runs WHERE status IN ('queued', 'running')`,
  );
}

async function trainingRunsRunning(url: string): Promise<number> {
  return countRows(url, `SELECT count(*)::int AS n FROM training_runs WHERE status = 'running'`);
}

/**
 * Compares every linked sheet with the tabs the database gives (the mirror's own layout of
 * loadPersonSheetData as of `now`): each cell of each tab, header included, and nothing below.
 */
async function mirrorDifferences(
  url: string,
  sheets: FakeSheets,
  linked: Map<number, string>,
  now: Date,
): Promise<{ diffs: number; examples: string[] }> {
  const db = openPostgres({ url, poolSize: 2, acquireTimeoutMs: 10_000 });
  let diffs = 0;
  const examples: string[] = [];
  const differ = (text: string) => {
    diffs++;
    if (examples.length < 5) examples.push(text);
  };
  try {
    for (const [telegramId, sheetId] of linked) {
      const user = await db.prisma.user.findUnique({ where: { telegramId: BigInt(telegramId) } });
      const data = user ? await loadPersonSheetData(db, user.id, now) : null;
      if (!data) {
        differ(`person ${telegramId} is gone`);
        continue;
      }
      for (const tab of sheetTabs(data)) {
        const shown = sheets.rows(sheetId, tab.title);
        if (!shown) {
          differ(`${telegramId}: no tab ${tab.title}`);
          continue;
        }
        const expected = [tab.columns.map((c) => c.header), ...tab.rows];
        if (shown.length > expected.length) {
          differ(`${telegramId} ${tab.title}: ${shown.length - expected.length} rows too many`);
        }
        for (const [r, row] of expected.entries()) {
          for (const [c, value] of row.entries()) {
            const stored = sheets.cell(sheetId, tab.title, r, c);
            const want = value ?? "";
            const same =
              typeof want === "number" && typeof stored === "number"
                ? Math.abs(want - stored) <= 1e-9 * Math.max(1, Math.abs(want))
                : stored === want;
            if (!same) {
              differ(
                `${telegramId} ${tab.title} row ${r + 1} col ${c + 1}: sheet ${JSON.stringify(stored)}, database ${JSON.stringify(want)}`,
              );
            }
          }
        }
      }
    }
  } finally {
    await db.close();
  }
  return { diffs, examples };
}

async function countRows(url: string, sql: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ n: number }>(sql)).rows[0].n;
  } finally {
    await client.end();
  }
}

async function waitUntilAsync(predicate: () => Promise<boolean>, what: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`soak: timed out waiting for ${what}`);
    await sleep(200);
  }
}

async function checkDatabase(
  url: string,
  played: {
    reports: SentReport[];
    planTaps: Map<number, number>;
    story: (report: SentReport) => string;
    /** everyone onboarded, who gets a plan each day */
    people: number[];
    /** the simulated days played */
    days: string[];
    weights: SentWeight[];
    /** the nights the retrain fired (nightly keys) */
    nights: string[];
  },
) {
  const { reports, planTaps, story } = played;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const entries = await client.query<{
      key: string;
      person: string;
      habit: string;
      day: string;
      amount: number;
      retracted: boolean;
    }>(
      `SELECT e.idempotency_key AS key, u.telegram_id::text AS person, h.name AS habit,
              to_char(e.day, 'YYYY-MM-DD') AS day, e.amount, e.retracted_at IS NOT NULL AS retracted
         FROM habit_entries e JOIN users u ON u.id = e.user_id JOIN habits h ON h.id = e.habit_id`,
    );
    const byKey = new Map(entries.rows.map((row) => [row.key, row]));
    const expectedKeys = new Set<string>();
    let lost = 0;
    let wrongEntries = 0;
    let undoMismatches = 0;
    const examples: string[] = [];
    const example = (text: string) => {
      if (examples.length < 10) examples.push(text);
    };
    for (const report of reports) {
      report.items.forEach((item, position) => {
        const key = `tg:${report.updateId}:${position}`;
        expectedKeys.add(key);
        const row = byKey.get(key);
        if (!row) {
          lost++;
          example(`lost ${key} (${JSON.stringify(item)}): ${story(report)}`);
          return;
        }
        if (
          Number(row.person) !== report.person ||
          row.habit !== item.habit ||
          row.day !== item.day ||
          row.amount !== item.amount
        ) {
          wrongEntries++;
          example(`${key}: expected ${JSON.stringify(item)}, stored ${JSON.stringify(row)}`);
        }
        if (row.retracted !== report.undone) {
          undoMismatches++;
          example(`${key}: expected ${report.undone ? "" : "not "}retracted`);
        }
      });
    }
    const chatEntries = entries.rows.filter((row) => row.key.startsWith("tg:"));
    const duplicated = chatEntries.filter((row) => !expectedKeys.has(row.key)).length;

    const planEntries = new Map<number, number>();
    for (const row of entries.rows) {
      if (row.key.startsWith("plan:") && !row.retracted) {
        planEntries.set(Number(row.person), (planEntries.get(Number(row.person)) ?? 0) + 1);
      }
    }
    let planTapsMissing = 0;
    let planTapsDoubled = 0;
    for (const person of new Set([...planTaps.keys(), ...planEntries.keys()])) {
      const diff = (planEntries.get(person) ?? 0) - (planTaps.get(person) ?? 0);
      if (diff < 0) planTapsMissing -= diff;
      else planTapsDoubled += diff;
    }

    // one plan per person-day: a row for every day played, never two (the unique key), and the
    // pushed messages are counted by the caller
    const plans = await client.query<{ person: string; day: string; plans: number }>(
      `SELECT u.telegram_id::text AS person, to_char(p.day, 'YYYY-MM-DD') AS day, count(*)::int AS plans
         FROM plans p JOIN users u ON u.id = p.user_id GROUP BY 1, 2`,
    );
    const planRows = new Map(plans.rows.map((row) => [`${row.person}:${row.day}`, row.plans]));
    let plansMissing = 0;
    let plansDoubled = 0;
    for (const person of played.people) {
      for (const day of played.days) {
        const rows = planRows.get(`${person}:${day}`) ?? 0;
        if (rows === 0) {
          plansMissing++;
          example(`no plan stored for ${person} on ${day}`);
        }
        plansDoubled += Math.max(0, rows - 1);
      }
    }

    // every weight uploaded (answered 2xx) stored once, at its instant and value
    const samples = await client.query<{ person: string; at: string; value: number; n: number }>(
      `SELECT u.telegram_id::text AS person, to_char(s.measured_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS at,
              min(s.value) AS value, count(*)::int AS n
         FROM metric_samples s JOIN users u ON u.id = s.user_id GROUP BY 1, 2`,
    );
    const byInstant = new Map(samples.rows.map((row) => [`${row.person}:${row.at}`, row]));
    let weightsLost = 0;
    let weightsDuplicated = 0;
    const sentInstants = new Set<string>();
    for (const weight of played.weights) {
      const key = `${weight.person}:${weight.measuredAt}`;
      sentInstants.add(key);
      const row = byInstant.get(key);
      if (!row || Math.abs(row.value - weight.kg) > 1e-9) {
        weightsLost++;
        example(`weight ${key} ${weight.kg} kg: stored ${row ? row.value : "nothing"}`);
      }
    }
    for (const row of samples.rows) {
      weightsDuplicated += Math.max(0, row.n - 1);
      if (!sentInstants.has(`${row.person}:${row.at}`)) weightsDuplicated++;
    }

    // the nights: one retrain per person with habits per night fired, each succeeded
    const runs = await client.query<{ key: string; status: string }>(
      `SELECT job_key AS key, status::text AS status FROM training_runs WHERE trigger = 'nightly'`,
    );
    const runsByKey = new Map<string, string[]>();
    for (const run of runs.rows) {
      runsByKey.set(run.key, [...(runsByKey.get(run.key) ?? []), run.status]);
    }
    const userIds = await client.query<{ id: number }>(
      `SELECT DISTINCT user_id AS id FROM habits WHERE archived_at IS NULL`,
    );
    const nightlyRuns = {
      nights: played.nights.length,
      expected: 0,
      succeeded: 0,
      missing: 0,
      notSucceeded: 0,
      doubled: 0,
    };
    for (const night of played.nights) {
      for (const { id } of userIds.rows) {
        nightlyRuns.expected++;
        const statuses = runsByKey.get(`nightly:${id}:${night}`) ?? [];
        if (statuses.length === 0) {
          nightlyRuns.missing++;
          example(`no nightly retrain of person #${id} for ${night}`);
        }
        nightlyRuns.doubled += Math.max(0, statuses.length - 1);
        for (const status of statuses) {
          if (status === "succeeded") nightlyRuns.succeeded++;
          else {
            nightlyRuns.notSucceeded++;
            example(`nightly retrain of person #${id} for ${night}: ${status}`);
          }
        }
      }
    }
    return {
      lost,
      duplicated,
      wrongEntries,
      undoMismatches,
      plansExpected: played.people.length * played.days.length,
      plansMissing,
      plansDoubled,
      planTapsMissing,
      planTapsDoubled,
      weightsLost,
      weightsDuplicated,
      nightlyRuns,
      examples,
    };
  } finally {
    await client.end();
  }
}
