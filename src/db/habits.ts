// A person's habits: listing, creating, editing, archiving and restoring, and the conversion to
// the coach core's HabitSpec. Habits are never hard-deleted (entries reference them).
import {
  assignActorGroups,
  foldName,
  type HabitLifetime,
  type HabitSpec,
  habitStartDay,
  type LocalDate,
} from "../coach/index.js";
import type { Habit } from "../generated/prisma/client.js";
import type { Database } from "./client.js";
import { fromDbDate } from "./dates.js";

export function habitSpecOf(row: Habit): HabitSpec {
  return {
    id: String(row.id),
    name: row.name,
    aliases: [...row.aliases],
    kind: row.kind,
    unit: row.unit,
    target: row.target,
    daysPerWeek: row.daysPerWeek,
    levels: [...row.levels],
    exclusiveGroup: row.exclusiveGroup,
    actorGroup: row.actorGroup,
  };
}

export async function listHabits(
  db: Database,
  userId: number,
  options: { includeArchived?: boolean } = {},
): Promise<Habit[]> {
  return db.prisma.habit.findMany({
    where: { userId, ...(options.includeArchived ? {} : { archivedAt: null }) },
    orderBy: [{ sortOrder: "asc" }, { id: "asc" }],
  });
}

/** The habit named `name` (by name or alias, case- and accent-insensitively), archived too. */
export async function findHabitByName(
  db: Database,
  userId: number,
  name: string,
): Promise<Habit | undefined> {
  const key = foldName(name);
  const habits = await listHabits(db, userId, { includeArchived: true });
  const byName = habits.find((h) => h.nameKey === key);
  if (byName) return byName;
  return habits.find((h) => h.aliases.some((a) => foldName(a) === key));
}

/** What a person sets about a habit (the id and actor group are assigned, not chosen). */
export type HabitFields = Pick<
  HabitSpec,
  "name" | "aliases" | "kind" | "unit" | "target" | "daysPerWeek" | "levels" | "exclusiveGroup"
>;

export class HabitNameTakenError extends Error {
  constructor(readonly habitName: string) {
    super(`a habit called "${habitName}" already exists`);
    this.name = "HabitNameTakenError";
  }
}

function isUniqueViolation(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    ((error as { code?: string }).code === "P2002" ||
      String((error as { message?: string }).message).includes("Unique constraint"))
  );
}

/** Re-assigns actor groups of the active habits in sort order (stable: appends never move). */
export async function reassignActorGroups(db: Database, userId: number): Promise<void> {
  const active = await listHabits(db, userId);
  const grouped = assignActorGroups(active.map(habitSpecOf));
  for (let i = 0; i < active.length; i++) {
    if (active[i].actorGroup !== grouped[i].actorGroup) {
      await db.prisma.habit.update({
        where: { id: active[i].id },
        data: { actorGroup: grouped[i].actorGroup },
      });
    }
  }
}

export async function createHabit(
  db: Database,
  userId: number,
  fields: HabitFields,
): Promise<Habit> {
  const last = await db.prisma.habit.findFirst({
    where: { userId },
    orderBy: { sortOrder: "desc" },
    select: { sortOrder: true },
  });
  try {
    const habit = await db.prisma.habit.create({
      data: {
        userId,
        ...fields,
        nameKey: foldName(fields.name),
        sortOrder: (last?.sortOrder ?? -1) + 1,
      },
    });
    await reassignActorGroups(db, userId);
    return (await db.prisma.habit.findUnique({ where: { id: habit.id } })) ?? habit;
  } catch (error) {
    if (isUniqueViolation(error)) throw new HabitNameTakenError(fields.name);
    throw error;
  }
}

export async function updateHabit(
  db: Database,
  habitId: number,
  fields: Partial<HabitFields>,
): Promise<Habit> {
  try {
    return await db.prisma.habit.update({
      where: { id: habitId },
      data: { ...fields, ...(fields.name !== undefined ? { nameKey: foldName(fields.name) } : {}) },
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new HabitNameTakenError(fields.name ?? "");
    throw error;
  }
}

export async function setHabitArchived(
  db: Database,
  habit: Habit,
  archived: boolean,
  now: Date,
): Promise<Habit> {
  const updated = await db.prisma.habit.update({
    where: { id: habit.id },
    data: { archivedAt: archived ? now : null },
  });
  await reassignActorGroups(db, habit.userId);
  return (await db.prisma.habit.findUnique({ where: { id: habit.id } })) ?? updated;
}

/**
 * Each habit's lifetime (coach core) from its row and the person's entries: created and archived
 * instants become days with `dayIn` (the person's zone and day-start hour).
 */
export function habitLifetimesOf(
  rows: readonly Habit[],
  entries: readonly { habitId: number; day: Date; retractedAt?: Date | null }[],
  dayIn: (instant: Date) => LocalDate,
): HabitLifetime[] {
  const firstEntry = new Map<number, LocalDate>();
  for (const e of entries) {
    // an undone report never happened: it does not move the habit's start back
    if (e.retractedAt != null) continue;
    const day = fromDbDate(e.day);
    const prev = firstEntry.get(e.habitId);
    if (prev === undefined || day < prev) firstEntry.set(e.habitId, day);
  }
  return rows.map((row) => ({
    spec: habitSpecOf(row),
    startDay: habitStartDay(dayIn(row.createdAt), firstEntry.get(row.id)),
    endDay: row.archivedAt === null ? null : dayIn(row.archivedAt),
  }));
}

/** A habit by id, or null. */
export async function findHabitById(db: Database, habitId: number): Promise<Habit | null> {
  return db.prisma.habit.findUnique({ where: { id: habitId } });
}
