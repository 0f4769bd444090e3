// People: registering, onboarding (time zone, plan time, starter habits), settings, the ingest
// token, and the person's own data (export, deletion). The Telegram adapter asks and words.

import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { LocalDate } from "../coach/index.js";
import { withoutControlCharacters } from "../coach/text.js";
import { type DeletedCounts, deletePerson } from "../db/account.js";
import { exportPerson, type PersonExport } from "../db/export.js";
import { listHabits } from "../db/habits.js";
import { findUserByIngestTokenHash } from "../db/ingest.js";
import { findPersonById } from "../db/operations.js";
import {
  clearUserBlocked,
  findUserByTelegramId,
  markUserBlocked,
  registerUser,
  updateUserSettings,
} from "../db/users.js";
import type { Habit, User } from "../generated/prisma/client.js";
import { todayOf } from "./coach-state.js";
import type { AppDeps } from "./deps.js";
import { addHabit, type HabitDefinition } from "./habits.js";

export type { DeletedCounts };

/** The registered person behind a Telegram account, or null before /start. */
export async function personByTelegramId(
  deps: Pick<AppDeps, "db">,
  telegramId: bigint,
): Promise<User | null> {
  return findUserByTelegramId(deps.db, telegramId);
}

/** The person an ingest token belongs to, or null (unknown, mistyped or replaced token). */
export async function personByIngestToken(
  deps: Pick<AppDeps, "db">,
  token: string,
): Promise<User | null> {
  if (!INGEST_TOKEN_SHAPE.test(token)) return null;
  const hash = hashIngestToken(token);
  const person = await findUserByIngestTokenHash(deps.db, hash);
  if (person?.ingestTokenHash == null) return null;
  // compared again in constant time (the index lookup is not)
  const a = Buffer.from(person.ingestTokenHash, "utf8");
  const b = Buffer.from(hash, "utf8");
  return a.length === b.length && timingSafeEqual(a, b) ? person : null;
}

/** A registered person by id, or null (deleted meanwhile). */
export async function personById(deps: Pick<AppDeps, "db">, id: number): Promise<User | null> {
  return findPersonById(deps.db, id);
}

/**
 * Registers a person (in the default time zone; admin when the configuration says so) or
 * refreshes their chat id and name; never resets their settings.
 */
export async function registerPerson(
  deps: Pick<AppDeps, "db" | "config">,
  who: { telegramId: bigint; chatId: bigint; displayName: string },
): Promise<{ person: User; created: boolean }> {
  const { user, created } = await registerUser(deps.db, {
    ...who,
    // Telegram names are whatever people typed, control characters included: store them clean
    displayName: withoutControlCharacters(who.displayName).trim() || `User ${who.telegramId}`,
    timezone: deps.config.tzDefault,
    isAdmin: deps.config.adminTelegramIds.has(who.telegramId),
  });
  return { person: user, created };
}

/**
 * Telegram refuses messages to the person (they blocked the bot or deleted their account): no
 * more morning plans until they write again (personIsBack).
 */
export async function markPersonUnreachable(
  deps: Pick<AppDeps, "db" | "now">,
  personId: number,
): Promise<void> {
  await markUserBlocked(deps.db, personId, deps.now());
}

/** The person sent the bot something: they are reachable again (clears markPersonUnreachable). */
export async function personIsBack(deps: Pick<AppDeps, "db">, person: User): Promise<User> {
  if (person.blockedAt === null) return person;
  await clearUserBlocked(deps.db, person.id);
  return { ...person, blockedAt: null };
}

/** What a person chooses about themselves. */
export interface PersonSettings {
  timezone?: string;
  planTime?: string;
  dayStartHour?: number;
  /** the linked Google Sheet; null unlinks it */
  sheetId?: string | null;
}

/**
 * Stores the person's choices (a chosen time zone or plan time is an onboarding step done);
 * returns the person as they are now.
 */
export async function changeSettings(
  deps: Pick<AppDeps, "db" | "now">,
  person: User,
  settings: PersonSettings,
): Promise<User> {
  const now = deps.now();
  return updateUserSettings(deps.db, person.id, {
    ...settings,
    ...(settings.timezone !== undefined ? { timezoneChosenAt: now } : {}),
    ...(settings.planTime !== undefined ? { planTimeChosenAt: now } : {}),
  });
}

/** Where a person who is not onboarded yet stands: the next thing to ask them. */
export type OnboardingStep = "timezone" | "plan-time" | "habits" | "done";

/** The next onboarding question for a person, from what they already chose. */
export function onboardingStep(person: User): OnboardingStep {
  if (person.onboardedAt) return "done";
  if (!person.timezoneChosenAt) return "timezone";
  if (!person.planTimeChosenAt) return "plan-time";
  return "habits";
}

/**
 * Someone with a chosen time zone and at least one active habit is onboarded, however they got
 * there (the buttons, `/habits add …` before the last step, a plan time typed after the habit);
 * the plan time is the one they chose or the default. Returns the person as they are now and
 * whether this call onboarded them.
 */
export async function completeOnboarding(
  deps: Pick<AppDeps, "db" | "now">,
  person: User,
): Promise<{ person: User; onboarded: boolean }> {
  if (person.onboardedAt || !person.timezoneChosenAt) return { person, onboarded: false };
  if ((await listHabits(deps.db, person.id)).length === 0) return { person, onboarded: false };
  const updated = await updateUserSettings(deps.db, person.id, { onboardedAt: deps.now() });
  return { person: updated, onboarded: true };
}

/** The habits offered at the end of onboarding. */
export const STARTER_HABITS = [
  { name: "walk", kind: "duration", unit: "min", target: 20, daysPerWeek: 5 },
  { name: "read", kind: "count", unit: "pages", target: 10, daysPerWeek: 7 },
  { name: "stretch", kind: "check", unit: "", target: 1, daysPerWeek: 5 },
] as const satisfies readonly HabitDefinition[];

/**
 * The last onboarding step: the starter habits (those that fit next to the person's own) or
 * none, then the person counts as onboarded. Returns the person and their active habits.
 */
export async function finishOnboarding(
  deps: Pick<AppDeps, "db" | "now">,
  person: User,
  choice: "starter" | "own",
): Promise<{ person: User; habits: Habit[] }> {
  if (choice === "starter") {
    for (const starter of STARTER_HABITS) await addHabit(deps, person, starter);
  }
  const updated = person.onboardedAt
    ? person
    : await updateUserSettings(deps.db, person.id, { onboardedAt: deps.now() });
  return { person: updated, habits: await listHabits(deps.db, person.id) };
}

/** Ingest tokens as /settings token makes them: "crl_" + 43 base64url characters. */
const INGEST_TOKEN_SHAPE = /^crl_[A-Za-z0-9_-]{20,100}$/;

/** A fresh ingest token and the hash that is stored. */
export function newIngestToken(): { token: string; hash: string } {
  const token = `crl_${randomBytes(32).toString("base64url")}`;
  return { token, hash: hashIngestToken(token) };
}

/** Only this hash of a token is stored and looked up: the database never sees the token. */
function hashIngestToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/**
 * Gives the person a new ingest token, which `show` shows them this once. Only its hash is
 * stored, and only after `show` succeeded: the previous token stops working once the person has
 * the new one, and keeps working when they could not be shown it (`show` threw).
 */
export async function issueIngestToken(
  deps: Pick<AppDeps, "db">,
  person: User,
  show: (token: string) => Promise<void>,
): Promise<void> {
  const { token, hash } = newIngestToken();
  await show(token);
  await updateUserSettings(deps.db, person.id, { ingestTokenHash: hash });
}

/** Everything stored about the person as a ZIP of CSV files, dated with their today; null when they are gone. */
export async function exportPersonData(
  deps: Pick<AppDeps, "db" | "now">,
  person: User,
): Promise<(PersonExport & { day: LocalDate }) | null> {
  const now = deps.now();
  const result = await exportPerson(deps.db, person.id, now);
  if (result === null) return null;
  return { ...result, day: todayOf(person, now) };
}

/** Deletes every row stored about the person; what was deleted, counted by kind. */
export async function deletePersonData(
  deps: Pick<AppDeps, "db">,
  person: User,
): Promise<DeletedCounts> {
  return deletePerson(deps.db, person.id);
}
