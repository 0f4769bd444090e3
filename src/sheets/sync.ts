// One sync of one sheet: make sure every tab exists, then replace each tab's values with the
// rows computed from the database. Clear-then-write makes every sync a full rewrite, so the
// sheet converges to the database whatever happened before (edits by hand, a failed sync).
import type { SheetsApi } from "./google.js";
import type { Tab } from "./layout.js";

export interface SyncResult {
  addedTabs: string[];
  rows: number;
  /** Google calls made */
  calls: number;
}

export async function syncSheet(
  api: SheetsApi,
  spreadsheetId: string,
  tabs: Tab[],
): Promise<SyncResult> {
  let calls = 0;
  const existing = new Set(await api.tabTitles(spreadsheetId));
  calls++;
  const missing = tabs.map((t) => t.title).filter((t) => !existing.has(t));
  if (missing.length > 0) {
    await api.addTabs(spreadsheetId, missing);
    calls++;
  }
  // tabs that already existed may hold older, longer content; new ones are empty
  const toClear = tabs.map((t) => t.title).filter((t) => existing.has(t));
  if (toClear.length > 0) {
    await api.clearTabs(spreadsheetId, toClear);
    calls++;
  }
  await api.writeTabs(spreadsheetId, tabs);
  calls++;
  return {
    addedTabs: missing,
    rows: tabs.reduce((n, t) => n + t.rows.length, 0),
    calls,
  };
}
