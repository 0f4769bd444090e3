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
// The clock: the app has no fake clock, so simulated days are real calendar days reported
// back-dated within the parser's back-fill window (7 days): day d of D is reported for
// today - ((D - 1 - d) mod 7) ("walk 20 yesterday", "2026-11-24 walk 20", "walk 20").
// Plans exist for the real today only: the last simulated day asks /plan and taps a plan button.
// A claim left by a killed instance is given up after UPDATE_LEASE_MS (2 min); the harness
// ages such claims right after the restart (as two minutes passing would do) instead of waiting.
//
// Faults (each with its wall-clock time in the summary): kill -9 of the app while an update is
// held mid-handling (restarted at once), every database connection reset and the database
// black-holed for `blackHoleMs`, a 429 storm and a 500 storm of sendMessage.
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { UPDATE_LEASE_MS } from "../../../src/app/updates.js";
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
  /** kill -9s of the app, spread over the run */
  kills?: number;
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
  plansAsked: number;
  plansMissing: number;
  plansDoubled: number;
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
 * database outage they cannot hide (pg-boss' maintenance, the plan-push tick, which runs again a
 * minute later). Anything else at error level — "update handler failed" above all: an update
 * answered with an apology and counted as handled — is unexpected.
 */
export const EXPECTED_FAULT_ERRORS: RegExp[] = [/^pg-boss error: /, /^plan push tick failed: /];

const WEBHOOK_SECRET = "soak_webhook_secret_0123456789abcdef";
const WEBHOOK_URL = "https://coach.example.com/telegram/hook";
const FIRST_PERSON = 710_000;
const BACKFILL_DAYS = 7;

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

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

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

  const reports: SentReport[] = [];
  const planAskers = new Set<number>();
  const planTaps = new Map<number, number>();
  let app: AppProcess | undefined;
  let played = false;
  try {
    app = await startAppProcess();
    const people = Array.from({ length: options.people }, (_, i) => FIRST_PERSON + i);
    const faultPerson = FIRST_PERSON + options.people;

    const onboard = async (person: number) => {
      await say(person, "/start");
      await say(person, "UTC");
      const planTime = emulator.lastBotMessage(person);
      await deliver(emulator.pressButton(person, planTime, "07:30"));
      await deliver(
        emulator.pressButton(person, emulator.lastBotMessage(person), "I'll add my own"),
      );
      await say(person, "/habits add walk 30min 5/week");
      await say(person, "/habits add read 20 pages daily");
    };
    await inParallel([...people, faultPerson], concurrency, onboard);
    progress(`onboarded ${people.length + 1} people after ${since()} ms`);

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
    const outageDay = Math.floor(options.days / 2);
    const stormDay = Math.floor((3 * options.days) / 4);

    /** A report of the person the faults use (so that it never races another person's /undo). */
    const faultReport = (day: string, back: number) =>
      report(faultPerson, [{ habit: "walk", amount: 1 + Math.floor(random() * 40), day }], back);

    const killMidUpdate = async (day: string, back: number) => {
      const held = emulator.holdNext("sendMessage");
      const sending = faultReport(day, back);
      await held.arrived;
      const at = since();
      await killHard(app!);
      await held.release();
      const killedAt = new Date();
      app = await startAppProcess();
      const restartMs = since() - at;
      await ageClaims(database.url, killedAt);
      faults.push({ kind: "kill -9 mid-update", atMs: at, recoveryMs: restartMs });
      progress(`kill -9 at ${at} ms, restarted after ${restartMs} ms`);
      await sending;
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

    /** `stormSize` failing sendMessage calls in a row; reports keep coming until all are used. */
    const storm = async (
      kind: string,
      error: { code: number; description: string; parameters?: Record<string, unknown> },
      day: string,
      back: number,
    ) => {
      const at = since();
      const before = emulator.callsOf("sendMessage").length;
      for (let i = 0; i < stormSize; i++) emulator.failNext("sendMessage", error);
      while (emulator.callsOf("sendMessage").length < before + stormSize) {
        await faultReport(day, back);
      }
      faults.push({
        kind,
        atMs: at,
        recoveryMs: since() - at,
        detail: `${stormSize} sends failed`,
      });
    };
    const storms = async (day: string, back: number) => {
      await storm(
        "Bot API 429 storm",
        {
          code: 429,
          description: "Too Many Requests: retry after 1",
          parameters: { retry_after: 1 },
        },
        day,
        back,
      );
      await storm(
        "Bot API 500 storm",
        { code: 500, description: "Internal Server Error" },
        day,
        back,
      );
    };

    const today = new Date();
    for (let d = 0; d < options.days; d++) {
      const back = (options.days - 1 - d) % BACKFILL_DAYS;
      const day = isoDay(new Date(today.getTime() - back * 86_400_000));
      const dayStarted = since();
      const faultTask = (async () => {
        await sleep(500); // let the day's traffic start
        if (d === stormDay) await storms(day, back);
        if (killDays.has(d)) await killMidUpdate(day, back);
        if (d === outageDay) await databaseOutage(day, back);
      })();
      await inParallel(people, concurrency, async (person) => {
        const count = 1 + Math.floor(random() * 2);
        for (let r = 0; r < count; r++) {
          const two = random() < 0.3;
          const items: ExpectedItem[] = [
            { habit: "walk", amount: 5 + Math.floor(random() * 40), day },
          ];
          if (two) items.push({ habit: "read", amount: 1 + Math.floor(random() * 30), day });
          const sent = await report(person, items, back);
          if (!two && random() < 0.1) {
            await say(person, "/undo");
            sent.undone = true;
          }
        }
        if (back === 0 && d === options.days - 1 && random() < 0.3) {
          await say(person, "/plan");
          planAskers.add(person);
          const plan = [...emulator.botMessages(person)]
            .reverse()
            .find((m) => (m.keyboard ?? []).flat().some((b) => b.text.startsWith("✓ ")));
          if (plan) {
            await deliver(emulator.pressButton(person, plan, /^✓ /));
            planTaps.set(person, (planTaps.get(person) ?? 0) + 1);
          }
        }
      });
      await faultTask;
      progress(`day ${d + 1}/${options.days} (${day}) done in ${since() - dayStarted} ms`);
    }
    // every duplicate delivered too (they are retried like any update)
    await waitUntil(
      () => sentIds.every((id) => isAccepted(id)),
      "every update to be accepted",
      deadlineMs,
    );
    app.child.kill("SIGTERM");
    await app.exited;
    played = true;
  } finally {
    polling = false;
    await healthPoller;
    if (app) await killHard(app);
    await emulator.close();
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
    const check = await checkDatabase(database.url, reports, planAskers, planTaps, story);
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

async function checkDatabase(
  url: string,
  reports: SentReport[],
  planAskers: Set<number>,
  planTaps: Map<number, number>,
  story: (report: SentReport) => string,
) {
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

    const plans = await client.query<{ person: string; day: string; plans: number }>(
      `SELECT u.telegram_id::text AS person, to_char(p.day, 'YYYY-MM-DD') AS day, count(*)::int AS plans
         FROM plans p JOIN users u ON u.id = p.user_id GROUP BY 1, 2`,
    );
    const withPlan = new Set(plans.rows.map((row) => Number(row.person)));
    const plansMissing = [...planAskers].filter((person) => !withPlan.has(person)).length;
    const plansDoubled = plans.rows.reduce((n, row) => n + Math.max(0, row.plans - 1), 0);
    return {
      lost,
      duplicated,
      wrongEntries,
      undoMismatches,
      plansAsked: planAskers.size,
      plansMissing,
      plansDoubled,
      planTapsMissing,
      planTapsDoubled,
      examples,
    };
  } finally {
    await client.end();
  }
}
