// Google Sheets v4 through @googleapis/sheets (googleapis' Sheets client alone), authenticated as
// the service account with a self-signed JWT: google-auth-library signs a JWT (iss = sub = the
// service account, scope = spreadsheets, one hour) with the private key and sends it as the
// bearer token itself. Google accepts these for its APIs without an OAuth token exchange, so
// nothing is sent to oauth2.googleapis.com — fewer round trips in production, and the test fake
// can verify the very token Google would. The client is loaded on first use (importing it takes
// a noticeable part of a second).
import type { GoogleCredentials } from "../config.js";
import type { Tab } from "./layout.js";

export const SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets";

/** The few Sheets operations the mirror needs. */
export interface SheetsApi {
  /** Titles of the spreadsheet's tabs. */
  tabTitles(spreadsheetId: string): Promise<string[]>;
  /** Adds empty tabs (spreadsheets.batchUpdate addSheet). */
  addTabs(spreadsheetId: string, titles: string[]): Promise<void>;
  /** Clears the values of whole tabs (values.batchClear). */
  clearTabs(spreadsheetId: string, titles: string[]): Promise<void>;
  /** Writes each tab's rows from A1 as raw values, never parsed as formulas (values.batchUpdate). */
  writeTabs(spreadsheetId: string, tabs: Tab[]): Promise<void>;
}

export interface GoogleSheetsOptions {
  credentials: GoogleCredentials;
  /** e.g. https://sheets.googleapis.com (config.sheetsApiRoot) */
  apiRoot: string;
  timeoutMs?: number;
}

/** A1 notation of a whole tab: 'Title' with quotes doubled. */
export function tabRange(title: string, cell?: string): string {
  const quoted = `'${title.replace(/'/g, "''")}'`;
  return cell === undefined ? quoted : `${quoted}!${cell}`;
}

export async function googleSheetsApi(options: GoogleSheetsOptions): Promise<SheetsApi> {
  const google = await import("@googleapis/sheets");
  const auth = new google.auth.JWT({
    email: options.credentials.clientEmail,
    key: options.credentials.privateKey,
    scopes: [SHEETS_SCOPE],
  });
  // sign the JWT ourselves (with the scope claim) instead of exchanging it for an access token
  auth.useJWTAccessWithScope = true;
  const sheets = google.sheets({
    version: "v4",
    auth,
    rootUrl: `${options.apiRoot.replace(/\/+$/, "")}/`,
    // the outbox retries with its own backoff; one attempt per sync keeps failures quick
    retry: false,
    timeout: options.timeoutMs ?? 30_000,
  });
  return {
    async tabTitles(spreadsheetId) {
      const res = await sheets.spreadsheets.get({
        spreadsheetId,
        fields: "sheets.properties(sheetId,title)",
      });
      return (res.data.sheets ?? [])
        .map((s) => s.properties?.title)
        .filter((t): t is string => typeof t === "string");
    },
    async addTabs(spreadsheetId, titles) {
      if (titles.length === 0) return;
      await sheets.spreadsheets.batchUpdate({
        spreadsheetId,
        requestBody: { requests: titles.map((title) => ({ addSheet: { properties: { title } } })) },
      });
    },
    async clearTabs(spreadsheetId, titles) {
      if (titles.length === 0) return;
      await sheets.spreadsheets.values.batchClear({
        spreadsheetId,
        requestBody: { ranges: titles.map((t) => tabRange(t)) },
      });
    },
    async writeTabs(spreadsheetId, tabs) {
      if (tabs.length === 0) return;
      await sheets.spreadsheets.values.batchUpdate({
        spreadsheetId,
        requestBody: {
          valueInputOption: "RAW",
          data: tabs.map((tab) => ({
            range: tabRange(tab.title, "A1"),
            majorDimension: "ROWS",
            values: tab.rows,
          })),
        },
      });
    },
  };
}
