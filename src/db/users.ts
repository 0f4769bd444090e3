// People: registration (idempotent, race-safe), lookup and settings.
import { Prisma, type User } from "../generated/prisma/client.js";
import type { Database } from "./client.js";

export interface Registration {
  telegramId: bigint;
  chatId: bigint;
  displayName: string;
  timezone: string;
  isAdmin: boolean;
}

export async function findUserByTelegramId(db: Database, telegramId: bigint): Promise<User | null> {
  return db.prisma.user.findUnique({ where: { telegramId } });
}

/**
 * People who finished onboarding, have at least one active habit and have not blocked the bot:
 * who gets a morning plan.
 */
export async function onboardedPeopleWithActiveHabits(db: Database): Promise<User[]> {
  return db.prisma.user.findMany({
    where: {
      onboardedAt: { not: null },
      blockedAt: null,
      habits: { some: { archivedAt: null } },
    },
  });
}

/** Records that Telegram refuses messages to the person (blocked the bot, deactivated). */
export async function markUserBlocked(db: Database, userId: number, at: Date): Promise<void> {
  await db.prisma.user.updateMany({
    where: { id: userId, blockedAt: null },
    data: { blockedAt: at },
  });
}

/** Clears the blocked mark (the person wrote to the bot again). */
export async function clearUserBlocked(db: Database, userId: number): Promise<void> {
  await db.prisma.user.updateMany({
    where: { id: userId, blockedAt: { not: null } },
    data: { blockedAt: null },
  });
}

/**
 * Registers a person or refreshes their chat id, name and admin flag; never resets their
 * settings. Safe when two updates from a new person arrive at once (one insert wins, the other
 * updates).
 */
export async function registerUser(
  db: Database,
  registration: Registration,
): Promise<{ user: User; created: boolean }> {
  const existing = await findUserByTelegramId(db, registration.telegramId);
  if (existing) {
    const changed =
      existing.chatId !== registration.chatId ||
      existing.displayName !== registration.displayName ||
      existing.isAdmin !== registration.isAdmin;
    if (!changed) return { user: existing, created: false };
    const user = await db.prisma.user.update({
      where: { id: existing.id },
      data: {
        chatId: registration.chatId,
        displayName: registration.displayName,
        isAdmin: registration.isAdmin,
      },
    });
    return { user, created: false };
  }
  const inserted = await db.prisma.$executeRaw`
    INSERT INTO users (telegram_id, chat_id, display_name, timezone, is_admin, updated_at)
    VALUES (${registration.telegramId}, ${registration.chatId}, ${registration.displayName},
            ${registration.timezone}, ${registration.isAdmin}, now())
    ON CONFLICT (telegram_id) DO NOTHING`;
  const user = await db.prisma.user.findUniqueOrThrow({
    where: { telegramId: registration.telegramId },
  });
  return { user, created: inserted === 1 };
}

export interface SettingsChange {
  timezone?: string;
  planTime?: string;
  dayStartHour?: number;
  sheetId?: string | null;
  ingestTokenHash?: string | null;
  onboardedAt?: Date;
  timezoneChosenAt?: Date;
  planTimeChosenAt?: Date;
}

export async function updateUserSettings(
  db: Database,
  userId: number,
  change: SettingsChange,
): Promise<User> {
  return db.prisma.user.update({ where: { id: userId }, data: change });
}

/** Stores the question the bot waits for a typed answer to (null: none). */
export async function setOpenQuestion(
  db: Database,
  userId: number,
  question: Record<string, unknown> | null,
  at: Date,
): Promise<void> {
  await db.prisma.user.update({
    where: { id: userId },
    data: question
      ? { openQuestion: question as object, openQuestionAt: at }
      : { openQuestion: Prisma.DbNull, openQuestionAt: null },
  });
}
