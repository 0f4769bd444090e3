// A cheap fingerprint of everything a person's sheet shows, computed in one query over all
// people with a linked sheet: counts, highest ids and latest change instants of their entries
// (undo sets retracted_at), habits (renames and archiving bump updated_at), plans, metrics and
// samples, plus the person's current day (the Daily tab grows by a row each day). Two equal
// fingerprints mean the sheet's content would be the same, so no Google call is needed.
import { dayOf } from "../coach/days.js";
import type { Database } from "../db/client.js";

export interface LinkedPerson {
  userId: number;
  sheetId: string;
  /** what the mirror would write for this person now, in a few dozen characters */
  fingerprint: string;
}

interface Row {
  userId: number;
  sheetId: string;
  timezone: string;
  dayStartHour: number;
  entries: string;
  habits: string;
  plans: string;
  metrics: string;
  samples: string;
}

/** Every person with a linked sheet (or just `userId`), with their current fingerprint. */
export async function linkedPeople(
  db: Database,
  now: Date,
  userId?: number,
): Promise<LinkedPerson[]> {
  const only = userId ?? null;
  const rows = await db.prisma.$queryRaw<Row[]>`
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
  return rows.map((r) => {
    let today: string;
    try {
      today = dayOf(now, r.timezone, r.dayStartHour);
    } catch {
      today = now.toISOString().slice(0, 10);
    }
    return {
      userId: Number(r.userId),
      sheetId: r.sheetId,
      fingerprint: `d${today}|e${r.entries}|h${r.habits}|p${r.plans}|m${r.metrics}|s${r.samples}`,
    };
  });
}
