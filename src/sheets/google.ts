// Google Sheets v4 through @googleapis/sheets (googleapis' Sheets client alone), authenticated as
// the service account with a self-signed JWT: google-auth-library signs a JWT (iss = sub = the
// service account, scopes = spreadsheets + Drive metadata read-only, one hour) with the private
// key and sends it as the bearer token itself. Google accepts these for its APIs without an OAuth
// token exchange, so nothing is sent to oauth2.googleapis.com — fewer round trips in production,
// and the test fake can verify the very token Google would. The client is loaded on first use
// (importing it takes a noticeable part of a second).
// Drive is asked one thing (files.get modifiedTime: has the sheet changed since we wrote it?),
// through the same signed client, so the package for all of Drive is not needed.
import type { GoogleCredentials } from "../config.js";

export const SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets";
export const DRIVE_METADATA_SCOPE = "https://www.googleapis.com/auth/drive.metadata.readonly";
export const DEFAULT_SHEETS_ROOT = "https://sheets.googleapis.com";
const DEFAULT_DRIVE_ROOT = "https://www.googleapis.com";

/** A cell as the Sheets API takes it (CellData). */
export interface CellData {
  userEnteredValue?: { stringValue: string } | { numberValue: number };
  userEnteredFormat?: { numberFormat: { type: string; pattern: string } };
  note?: string;
}

/** A spreadsheet's tabs (sheet id, title, grid size) and the charts on them. */
export interface SpreadsheetInfo {
  tabs: { sheetId: number; title: string; rowCount: number; columnCount: number }[];
  chartIds: number[];
}

/** The Sheets and Drive operations the mirror needs; each is one HTTP request. */
export interface SheetsApi {
  /** spreadsheets.get: tabs and charts (a read). */
  describe(spreadsheetId: string): Promise<SpreadsheetInfo>;
  /** spreadsheets.batchUpdate: all requests applied together, or none (a write). */
  batchUpdate(spreadsheetId: string, requests: object[]): Promise<void>;
  /** values.batchGet of whole tabs, unformatted (dates as serial numbers) (a read). */
  readTabs(spreadsheetId: string, titles: string[]): Promise<Record<string, unknown[][]>>;
  /** Drive files.get modifiedTime: when the file last changed, by anyone (a Drive read). */
  modifiedTime(spreadsheetId: string): Promise<Date>;
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

/**
 * Where Drive is asked: Google's API host with the real Sheets root, else the same server as
 * Sheets (a local fake or a proxy standing in for both).
 */
export function driveRootFor(sheetsRoot: string): string {
  const root = sheetsRoot.replace(/\/+$/, "");
  return root === DEFAULT_SHEETS_ROOT ? DEFAULT_DRIVE_ROOT : root;
}

export async function googleSheetsApi(options: GoogleSheetsOptions): Promise<SheetsApi> {
  const google = await import("@googleapis/sheets");
  const auth = new google.auth.JWT({
    email: options.credentials.clientEmail,
    key: options.credentials.privateKey,
    scopes: [SHEETS_SCOPE, DRIVE_METADATA_SCOPE],
  });
  // sign the JWT ourselves (with the scope claim) instead of exchanging it for an access token
  auth.useJWTAccessWithScope = true;
  const timeout = options.timeoutMs ?? 30_000;
  const sheets = google.sheets({
    version: "v4",
    auth,
    rootUrl: `${options.apiRoot.replace(/\/+$/, "")}/`,
    // the mirror retries with its own backoff and quota buckets; one attempt per call
    retry: false,
    timeout,
  });
  const driveRoot = driveRootFor(options.apiRoot);
  return {
    async describe(spreadsheetId) {
      const res = await sheets.spreadsheets.get({
        spreadsheetId,
        fields:
          "sheets(properties(sheetId,title,gridProperties(rowCount,columnCount)),charts(chartId))",
      });
      const tabs: SpreadsheetInfo["tabs"] = [];
      const chartIds: number[] = [];
      for (const s of res.data.sheets ?? []) {
        const p = s.properties;
        if (typeof p?.title === "string" && typeof p.sheetId === "number") {
          tabs.push({
            sheetId: p.sheetId,
            title: p.title,
            rowCount: p.gridProperties?.rowCount ?? 0,
            columnCount: p.gridProperties?.columnCount ?? 0,
          });
        }
        for (const c of s.charts ?? []) if (typeof c.chartId === "number") chartIds.push(c.chartId);
      }
      return { tabs, chartIds };
    },
    async batchUpdate(spreadsheetId, requests) {
      if (requests.length === 0) return;
      await sheets.spreadsheets.batchUpdate({ spreadsheetId, requestBody: { requests } });
    },
    async readTabs(spreadsheetId, titles) {
      const res = await sheets.spreadsheets.values.batchGet({
        spreadsheetId,
        ranges: titles.map((t) => tabRange(t)),
        valueRenderOption: "UNFORMATTED_VALUE",
        dateTimeRenderOption: "SERIAL_NUMBER",
        majorDimension: "ROWS",
      });
      const out: Record<string, unknown[][]> = {};
      (res.data.valueRanges ?? []).forEach((range, i) => {
        out[titles[i]!] = (range.values ?? []) as unknown[][];
      });
      return out;
    },
    async modifiedTime(spreadsheetId) {
      const res = await auth.request<{ modifiedTime?: string }>({
        url: `${driveRoot}/drive/v3/files/${encodeURIComponent(spreadsheetId)}`,
        params: { fields: "modifiedTime", supportsAllDrives: true },
        timeout,
        retry: false,
      });
      const at = new Date(res.data.modifiedTime ?? "");
      if (Number.isNaN(at.getTime())) throw new Error("Drive answered without a modifiedTime");
      return at;
    },
  };
}
