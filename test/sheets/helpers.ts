// Shared set-up for the Sheets mirror tests: a test key pair and service account, the fake
// Sheets server, a log collector, and people with habits, entries, a plan and a measurement,
// written through the app's own src/db functions.
import { generateKeyPairSync } from "node:crypto";
import { Writable } from "node:stream";
import { type AppConfig, parseConfig } from "../../src/config.js";
import type { Database } from "../../src/db/client.js";
import { insertEntries } from "../../src/db/entries.js";
import { createHabit } from "../../src/db/habits.js";
import { ensureMetric, recordSample } from "../../src/db/metrics.js";
import { storePlanOnce } from "../../src/db/plans.js";
import { registerUser, updateUserSettings } from "../../src/db/users.js";
import type { Habit, User } from "../../src/generated/prisma/client.js";
import { createLogger, type Logger } from "../../src/logger.js";

export const SERVICE_ACCOUNT = "coachrl-mirror@coachrl-test.iam.gserviceaccount.com";

export function testKeyPair(): { privateKey: string; publicKey: string } {
  return generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
}

/** The app's configuration as parsed from the environment (the key escaped as in a .env file). */
export function mirrorConfig(privateKey: string, apiRoot: string): AppConfig {
  return parseConfig({
    GOOGLE_CLIENT_EMAIL: SERVICE_ACCOUNT,
    GOOGLE_PRIVATE_KEY: privateKey.replace(/\n/g, "\\n"),
    SHEETS_API_ROOT: apiRoot,
    LOG_FORMAT: "json",
  });
}

/** A logger that keeps every line, with no secret scrubbing (so a leak would show). */
export function collectingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  const log = createLogger({ level: "debug", pretty: false, secrets: [], destination });
  return { log, lines };
}

let nextTelegramId = 5_000n;

export interface Person {
  user: User;
  run: Habit;
  odd: Habit;
}

/** A person in UTC (day starts at midnight) with a linked sheet and two habits. */
export async function createPerson(db: Database, sheetId: string): Promise<Person> {
  const telegramId = nextTelegramId++;
  const { user } = await registerUser(db, {
    telegramId,
    chatId: telegramId,
    displayName: `Person ${telegramId}`,
    timezone: "UTC",
    isAdmin: false,
  });
  const updated = await updateUserSettings(db, user.id, { sheetId, dayStartHour: 0 });
  const run = await createHabit(db, user.id, {
    name: "run",
    aliases: [],
    kind: "duration",
    unit: "min",
    target: 30,
    daysPerWeek: 7,
    levels: [0, 15, 30, 45],
    exclusiveGroup: null,
  });
  // a name a spreadsheet would run as a formula
  const odd = await createHabit(db, user.id, {
    name: '=HYPERLINK("http://evil.example","x")',
    aliases: [],
    kind: "count",
    unit: "+reps",
    target: 20,
    daysPerWeek: 7,
    levels: [0, 10, 20],
    exclusiveGroup: null,
  });
  return { user: updated, run, odd };
}

let nextKey = 0;

export async function addEntry(
  db: Database,
  person: Person,
  habit: Habit,
  day: string,
  amount: number,
): Promise<bigint> {
  const { entries } = await insertEntries(db, person.user.id, [
    { habitId: habit.id, day, amount, source: "chat", idempotencyKey: `test:${nextKey++}` },
  ]);
  return entries[0].id;
}

export async function addPlanAndWeight(
  db: Database,
  person: Person,
  day: string,
  measuredAt: Date,
): Promise<void> {
  await storePlanOnce(db, person.user.id, day, {
    items: [
      { habitId: person.run.id, level: 2, amount: 30 },
      { habitId: person.odd.id, level: 1, amount: 10 },
    ],
    logProb: null,
    producedBy: "heuristic",
    modelId: null,
  });
  const { metric } = await ensureMetric(db, person.user.id, "weight", "kg");
  await recordSample(db, {
    userId: person.user.id,
    metricId: metric.id,
    value: 72.4,
    measuredAt,
    source: "chat",
  });
}

export function utcDay(instant: Date, offsetDays = 0): string {
  return new Date(instant.getTime() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}
