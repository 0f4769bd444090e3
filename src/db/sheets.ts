// What the Google Sheets mirror reads to notice a change (src/sheets/fingerprint.ts): per person
// with a linked sheet, counts, highest ids and latest change instants of everything their sheet
// shows, in one query over all of them.
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
      (SELECT concat_ws(':', count(*), max(id)) FROM metric_samples WHERE user_id = u.id) AS samples
    FROM users u
    WHERE u.sheet_id IS NOT NULL AND (${only}::int IS NULL OR u.id = ${only}::int)
    ORDER BY u.id`;
  return rows.map((r) => ({ ...r, userId: Number(r.userId) }));
}
