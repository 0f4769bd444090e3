// What the Google Sheets mirror reads to notice a change (src/sheets/fingerprint.ts): per person
// with a linked sheet, counts, highest ids and latest change instants of everything their sheet
// shows, in one query over all of them; and its record per sheet (sheet_links): what it wrote,
// when it last asked Drive whether the sheet changed, and whether edits flow back.
import { Prisma, type SheetLink } from "../generated/prisma/client.js";
import type { Database } from "./client.js";

/** A linked sheet with change markers: equal markers mean the stored data did not change. */
export interface LinkedSheetMarkers {
  userId: number;
  sheetId: string;
  timezone: string;
  dayStartHour: number;
  /** count:max id:retracted count:latest retraction (undo sets retracted_at) */
  entries: string;
  /** count:max id:latest update (renames and archiving bump updated_at) */
  habits: string;
  /** count:max id */
  plans: string;
  metrics: string;
  samples: string;
  /** count:max id:latest start:latest finish (the Coach tab) */
  runs: string;
  /** count:max id of plan revisions */
  revisions: string;
}

/** Every person with a linked sheet (or just `userId`, when given and linked), by id. */
export async function linkedSheetMarkers(
  db: Database,
  userId?: number,
): Promise<LinkedSheetMarkers[]> {
  const only = userId ?? null;
  const rows = await db.prisma.$queryRaw<LinkedSheetMarkers[]>`
    SELECT u.id AS "userId", u.sheet_id AS "sheetId", u.timezone, u.day_start_hour AS "dayStartHour",
      (SELECT concat_ws(':', count(*), max(id), count(retracted_at),
                        extract(epoch FROM max(retracted_at)))
         FROM habit_entries WHERE user_id = u.id) AS entries,
      (SELECT concat_ws(':', count(*), max(id), extract(epoch FROM max(updated_at)))
         FROM habits WHERE user_id = u.id) AS habits,
      (SELECT concat_ws(':', count(*), max(id)) FROM plans WHERE user_id = u.id) AS plans,
      (SELECT concat_ws(':', count(*), max(id)) FROM metrics WHERE user_id = u.id) AS metrics,
      (SELECT concat_ws(':', count(*), max(id)) FROM metric_samples WHERE user_id = u.id) AS samples,
      (SELECT concat_ws(':', count(*), max(id), extract(epoch FROM max(started_at)),
                        extract(epoch FROM max(finished_at)))
         FROM training_runs WHERE user_id = u.id) AS runs,
      (SELECT concat_ws(':', count(*), max(id)) FROM plan_revisions WHERE user_id = u.id) AS revisions
    FROM users u
    WHERE u.sheet_id IS NOT NULL AND (${only}::int IS NULL OR u.id = ${only}::int)
    ORDER BY u.id`;
  return rows.map((r) => ({ ...r, userId: Number(r.userId) }));
}

/** The mirror's record of a person's sheet, or null. */
export async function sheetLinkOf(db: Database, userId: number): Promise<SheetLink | null> {
  return db.prisma.sheetLink.findUnique({ where: { userId } });
}

export interface SheetLinkChange {
  state?: object;
  writtenAt?: Date | null;
  driveModifiedAt?: Date | null;
  checkedAt?: Date | null;
  readAt?: Date | null;
}

/**
 * Records what the mirror did for the person's sheet `sheetId`. A record of another (earlier)
 * sheet is replaced: nothing known about the old sheet applies to the new one, except whether
 * edits flow back.
 */
export async function saveSheetLink(
  db: Database,
  userId: number,
  sheetId: string,
  change: SheetLinkChange,
): Promise<void> {
  const existing = await sheetLinkOf(db, userId);
  if (existing === null) {
    await db.prisma.sheetLink.createMany({
      data: [{ userId, sheetId, ...change }],
      skipDuplicates: true,
    });
    // a concurrent create won: fall through to the update
  }
  const sameSheet = existing === null || existing.sheetId === sheetId;
  await db.prisma.sheetLink.update({
    where: { userId },
    data: sameSheet
      ? { sheetId, ...change }
      : {
          sheetId,
          state: change.state ?? Prisma.DbNull,
          writtenAt: change.writtenAt ?? null,
          driveModifiedAt: change.driveModifiedAt ?? null,
          checkedAt: change.checkedAt ?? null,
          readAt: change.readAt ?? null,
        },
  });
}

/** Turns taking edits from the sheet on or off (the record is created when missing). */
export async function setSheetEditsEnabled(
  db: Database,
  userId: number,
  sheetId: string,
  enabled: boolean,
): Promise<void> {
  await db.prisma.sheetLink.upsert({
    where: { userId },
    create: { userId, sheetId, editsEnabled: enabled },
    update: { editsEnabled: enabled },
  });
}

/** A linked sheet whose Drive modifiedTime is due to be asked. */
export interface SheetToCheck {
  userId: number;
  sheetId: string;
  editsEnabled: boolean;
  driveModifiedAt: Date | null;
}

/**
 * Linked sheets that were written and whose modifiedTime was not asked since `editsBefore`
 * (edits on) or `othersBefore` (edits off: hand edits are overwritten), longest unasked first.
 */
export async function sheetsToCheck(
  db: Database,
  editsBefore: Date,
  othersBefore: Date,
  limit: number,
): Promise<SheetToCheck[]> {
  const rows = await db.prisma.$queryRaw<SheetToCheck[]>`
    SELECT l.user_id AS "userId", l.sheet_id AS "sheetId", l.edits_enabled AS "editsEnabled",
           l.drive_modified_at AS "driveModifiedAt"
    FROM sheet_links l JOIN users u ON u.id = l.user_id AND u.sheet_id = l.sheet_id
    WHERE l.written_at IS NOT NULL
      AND (l.checked_at IS NULL
           OR l.checked_at <= CASE WHEN l.edits_enabled THEN ${editsBefore}::timestamptz
                                  ELSE ${othersBefore}::timestamptz END)
    ORDER BY l.edits_enabled DESC, l.checked_at NULLS FIRST, l.user_id
    LIMIT ${limit}`;
  return rows.map((r) => ({ ...r, userId: Number(r.userId) }));
}

/** The mirror at a glance, for /status and GET /metrics. */
export interface SheetsMirrorHealth {
  linked: number;
  editsEnabled: number;
  /** sheets_mirror events not done, and of those the ones due now */
  backlog: number;
  due: number;
}

export async function sheetsMirrorHealth(db: Database, now: Date): Promise<SheetsMirrorHealth> {
  const [linked, editsEnabled, backlog, due] = await Promise.all([
    db.prisma.user.count({ where: { sheetId: { not: null } } }),
    db.prisma.sheetLink.count({ where: { editsEnabled: true } }),
    db.prisma.outboxEvent.count({ where: { kind: "sheets_mirror", doneAt: null } }),
    db.prisma.outboxEvent.count({
      where: { kind: "sheets_mirror", doneAt: null, nextAttemptAt: { lte: now } },
    }),
  ]);
  return { linked, editsEnabled, backlog, due };
}
