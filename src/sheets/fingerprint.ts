// A cheap fingerprint of everything a person's sheet shows: the change markers src/db/sheets.ts
// reads in one query over all people with a linked sheet (counts, highest ids and latest change
// instants of their entries, habits, plans, metrics and samples), plus the person's current day
// (the Daily tab grows by a row each day). Two equal fingerprints mean the sheet's content would
// be the same, so no Google call is needed.
import { dayOf } from "../coach/days.js";
import type { Database } from "../db/client.js";
import { linkedSheetMarkers } from "../db/sheets.js";

export interface LinkedPerson {
  userId: number;
  sheetId: string;
  /** what the mirror would write for this person now, in a few dozen characters */
  fingerprint: string;
}

/** Every person with a linked sheet (or just `userId`), with their current fingerprint. */
export async function linkedPeople(
  db: Database,
  now: Date,
  userId?: number,
): Promise<LinkedPerson[]> {
  const rows = await linkedSheetMarkers(db, userId);
  return rows.map((r) => {
    let today: string;
    try {
      today = dayOf(now, r.timezone, r.dayStartHour);
    } catch {
      today = now.toISOString().slice(0, 10);
    }
    return {
      userId: r.userId,
      sheetId: r.sheetId,
      fingerprint: `d${today}|e${r.entries}|h${r.habits}|p${r.plans}|m${r.metrics}|s${r.samples}|r${r.runs}|v${r.revisions}`,
    };
  });
}
