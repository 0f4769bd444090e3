// The append-only entry log: inserting reports idempotently, reading a window of days, the
// most recent entries, and retracting (undo). Entries are never updated otherwise.
import type { HabitEntryLike, LocalDate } from "../coach/index.js";
import type { EntrySource, HabitEntry } from "../generated/prisma/client.js";
import type { Database } from "./client.js";
import { fromDbDate, toDbDate } from "./dates.js";

export interface NewEntry {
  habitId: number;
  day: LocalDate;
  amount: number;
  source: EntrySource;
  /** unique per report item, e.g. "tg:<update_id>:<position>" */
  idempotencyKey: string;
  note?: string;
}

/**
 * Inserts entries, skipping any whose idempotency key is already stored (a re-delivered update).
 * Returns the entries as stored for these keys (new or previously stored), in input order.
 */
export async function insertEntries(
  db: Database,
  userId: number,
  entries: NewEntry[],
): Promise<{ entries: HabitEntry[]; inserted: number }> {
  if (entries.length === 0) return { entries: [], inserted: 0 };
  // One statement: the insert (skipping stored keys, as createMany's skipDuplicates) returns the
  // new rows, and the rows stored before for the other keys are read in the same round trip (a
  // statement does not see its own inserts, so the two parts never overlap). The columns are
  // HabitEntry's, named as Prisma names them.
  const rows = await db.prisma.$queryRaw<(HabitEntry & { isNew: boolean })[]>`
    WITH input AS (
      SELECT * FROM unnest(
        ${entries.map((e) => e.habitId)}::int[],
        ${entries.map((e) => e.day)}::date[],
        ${entries.map((e) => e.amount)}::float8[],
        ${entries.map((e) => e.source)}::text[],
        ${entries.map((e) => e.idempotencyKey)}::text[],
        ${entries.map((e) => e.note ?? null)}::text[]
      ) AS t(habit_id, day, amount, source, idempotency_key, note)
    ), inserted AS (
      INSERT INTO habit_entries (user_id, habit_id, day, amount, source, idempotency_key, note)
      SELECT ${userId}, habit_id, day, amount, source::"EntrySource", idempotency_key, note
      FROM input
      ON CONFLICT DO NOTHING
      RETURNING *
    ), stored AS (
      SELECT *, true AS is_new FROM inserted
      UNION ALL
      SELECT *, false AS is_new FROM habit_entries
      WHERE idempotency_key IN (SELECT idempotency_key FROM input)
        AND idempotency_key NOT IN (SELECT idempotency_key FROM inserted)
    )
    SELECT id, user_id AS "userId", habit_id AS "habitId", day, amount, source::text AS source,
      idempotency_key AS "idempotencyKey", note, created_at AS "createdAt",
      retracted_at AS "retractedAt", retraction_key AS "retractionKey", is_new AS "isNew"
    FROM stored`;
  const byKey = new Map(rows.map(({ isNew: _, ...entry }) => [entry.idempotencyKey, entry]));
  return {
    entries: entries.map((e) => byKey.get(e.idempotencyKey)).filter((e) => e !== undefined),
    inserted: rows.filter((r) => r.isNew).length,
  };
}

/** Non-retracted and retracted entries of a person between two days (inclusive). */
export async function listEntries(
  db: Database,
  userId: number,
  from: LocalDate,
  to: LocalDate,
): Promise<HabitEntry[]> {
  return db.prisma.habitEntry.findMany({
    where: { userId, day: { gte: toDbDate(from), lte: toDbDate(to) } },
    orderBy: { id: "asc" },
  });
}

export function entryLikeOf(entry: HabitEntry): HabitEntryLike {
  return {
    habitId: String(entry.habitId),
    day: fromDbDate(entry.day),
    amount: entry.amount,
    retracted: entry.retractedAt !== null,
  };
}

/** The person's most recent entries that are not retracted, newest first. */
export async function recentEntries(
  db: Database,
  userId: number,
  limit: number,
): Promise<(HabitEntry & { habit: { name: string; unit: string; kind: string } })[]> {
  return db.prisma.habitEntry.findMany({
    where: { userId, retractedAt: null },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: limit,
    include: { habit: { select: { name: true, unit: true, kind: true } } },
  });
}

/**
 * Retracts one entry of the person; false when it does not exist, belongs to someone else or
 * was already retracted (so two undos of the same entry retract it once).
 */
export async function retractEntry(
  db: Database,
  userId: number,
  entryId: bigint,
  now: Date,
  /** the /undo's idempotency key (undoKey), recorded on the entry it retracted */
  retractionKey?: string,
): Promise<boolean> {
  const result = await db.prisma.habitEntry.updateMany({
    where: { id: entryId, userId, retractedAt: null },
    data: { retractedAt: now, retractionKey: retractionKey ?? null },
  });
  return result.count === 1;
}

/** The entry an /undo with this key already retracted (with its habit), or null. */
export async function entryRetractedBy(db: Database, userId: number, retractionKey: string) {
  return db.prisma.habitEntry.findFirst({
    where: { userId, retractionKey },
    include: { habit: { select: { name: true, unit: true, kind: true } } },
  });
}

/** Every entry (retracted too) of one habit on one day, oldest first. */
export async function entriesOfHabitOnDay(
  db: Database,
  userId: number,
  habitId: number,
  day: LocalDate,
): Promise<HabitEntry[]> {
  return db.prisma.habitEntry.findMany({
    where: { userId, habitId, day: toDbDate(day) },
    orderBy: { id: "asc" },
  });
}

/** One entry with its habit's name, unit and kind (for saying what was undone). */
export async function findEntryWithHabit(db: Database, entryId: bigint) {
  return db.prisma.habitEntry.findUnique({
    where: { id: entryId },
    include: { habit: { select: { name: true, unit: true, kind: true } } },
  });
}
