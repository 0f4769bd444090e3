// A local stand-in for the Google Sheets v4 REST API (and the one Drive call the mirror makes),
// speaking their wire format, with the contents kept in memory:
//   GET  /v4/spreadsheets/{id}                         spreadsheets.get (tabs, grid sizes, charts)
//   POST /v4/spreadsheets/{id}:batchUpdate             addSheet, updateSheetProperties (resize,
//                                                      frozen rows), updateCells (values, number
//                                                      formats, notes), addChart, updateChartSpec;
//                                                      all or nothing, checked against the grid
//   POST /v4/spreadsheets/{id}/values:batchClear       values.batchClear
//   POST /v4/spreadsheets/{id}/values/{range}:clear    values.clear
//   POST /v4/spreadsheets/{id}/values:batchUpdate      values.batchUpdate (RAW / USER_ENTERED)
//   GET  /v4/spreadsheets/{id}/values:batchGet         values.batchGet (unformatted values)
//   PUT  /v4/spreadsheets/{id}/values/{range}          values.update
//   GET  /v4/spreadsheets/{id}/values/{range}          values.get
//   GET  /drive/v3/files/{id}?fields=modifiedTime      Drive files.get: when the file last changed
// Every request must carry `Authorization: Bearer <self-signed JWT>`: RS256, verified with the
// service account's public key, iss = sub = the account, the spreadsheets scope, not expired.
// A spreadsheet the account was not shared on answers 403, an unknown one 404, in Google's JSON
// error format. USER_ENTERED text starting with "=" is stored as a formula, as Sheets would.
// Quotas: with `quota`, requests beyond N reads or N writes in any 60 s of the fake's clock are
// answered 429 RESOURCE_EXHAUSTED, as Google's per-minute quotas are; `failNext` injects 429/5xx.

import { type KeyObject, verify } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets";

export type StoredCell = string | number | boolean | { formula: string };

interface NumberFormat {
  type: string;
  pattern?: string;
}

interface FakeTab {
  sheetId: number;
  title: string;
  rows: StoredCell[][];
  /** `${row}:${col}` → note */
  notes: Map<string, string>;
  /** `${row}:${col}` → number format */
  formats: Map<string, NumberFormat>;
  rowCount: number;
  columnCount: number;
  frozenRowCount: number;
}

interface FakeChart {
  chartId: number;
  sheetId: number;
  spec: Record<string, unknown>;
}

interface FakeSpreadsheet {
  id: string;
  title: string;
  tabs: FakeTab[];
  charts: FakeChart[];
  editors: Set<string>;
  nextSheetId: number;
  modifiedTime: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** the JWT's issuer, when the bearer token verified */
  caller?: string;
  status: number;
  /** the fake's clock when it arrived (ms) */
  at: number;
  kind: "read" | "write" | "drive";
  /** the JSON body of a write */
  body?: unknown;
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly status: string,
    message: string,
  ) {
    super(message);
  }
}

const NOT_FOUND = () => new HttpError(404, "NOT_FOUND", "Requested entity was not found.");
const PERMISSION_DENIED = () =>
  new HttpError(403, "PERMISSION_DENIED", "The caller does not have permission");
const UNAUTHENTICATED = () =>
  new HttpError(
    401,
    "UNAUTHENTICATED",
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
  );
const invalid = (message: string) => new HttpError(400, "INVALID_ARGUMENT", message);
const STATUS_OF: Record<number, string> = {
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  502: "UNAVAILABLE",
  503: "UNAVAILABLE",
};

function base64urlJson(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
}

function columnIndex(letters: string): number {
  let col = 0;
  for (const ch of letters) col = col * 26 + (ch.charCodeAt(0) - 64);
  return col - 1;
}

/** Parses "'My tab'!B2", "Tab!A1", "Tab!A1:H", "'Tab'" or "Tab" into a title and a start cell. */
export function parseRange(range: string): { title: string; row: number; col: number } {
  let title: string;
  let rest: string;
  if (range.startsWith("'")) {
    let i = 1;
    title = "";
    for (;;) {
      if (i >= range.length) throw invalid(`Unable to parse range: ${range}`);
      if (range[i] === "'") {
        if (range[i + 1] === "'") {
          title += "'";
          i += 2;
          continue;
        }
        i++;
        break;
      }
      title += range[i++];
    }
    rest = range.slice(i);
  } else {
    const bang = range.indexOf("!");
    title = bang < 0 ? range : range.slice(0, bang);
    rest = bang < 0 ? "" : range.slice(bang);
  }
  if (rest === "") return { title, row: 0, col: 0 };
  const cell = /^!([A-Z]+)(\d+)(:[A-Z]+\d*)?$/.exec(rest);
  if (!cell) throw invalid(`Unable to parse range: ${range}`);
  return { title, row: Number(cell[2]) - 1, col: columnIndex(cell[1]) };
}

/** A date serial shown with a yyyy-mm-dd[ hh:mm:ss] pattern, as Sheets displays it. */
function formatSerial(serial: number, pattern: string): string {
  const ms = Math.round((serial - 25569) * 86_400_000);
  const iso = new Date(ms).toISOString();
  return pattern.includes("hh") ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : iso.slice(0, 10);
}

export interface FakeSheetsOptions {
  serviceAccount: string;
  publicKey: KeyObject | string;
  /** delay before each answer, to widen race windows */
  latencyMs?: number;
  /** the fake's clock (ms): quota windows and Drive modifiedTime (default Date.now) */
  clock?: () => number;
  /** per-minute quotas (any 60 s of the clock); beyond them requests answer 429 */
  quota?: { readsPerMinute: number; writesPerMinute: number };
}

export class FakeSheets {
  readonly requests: RecordedRequest[] = [];
  private readonly spreadsheets = new Map<string, FakeSpreadsheet>();
  private server: Server | undefined;
  url = "";
  /** answer the next N requests with this status (e.g. 503, 429), before anything else */
  private failures: { count: number; code: number; status: string } | undefined;
  private readonly clock: () => number;

  constructor(private readonly options: FakeSheetsOptions) {
    this.clock = options.clock ?? Date.now;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** A spreadsheet with one empty tab "Sheet1", shared with `editors`. */
  create(id: string, editors: string[] = [this.options.serviceAccount]): void {
    this.spreadsheets.set(id, {
      id,
      title: "Habits",
      tabs: [newTab(0, "Sheet1")],
      charts: [],
      editors: new Set(editors),
      nextSheetId: 1001,
      modifiedTime: this.clock(),
    });
  }

  share(id: string, email = this.options.serviceAccount): void {
    this.spreadsheets.get(id)!.editors.add(email);
  }

  failNext(count: number, code = 503, status = STATUS_OF[code] ?? "UNAVAILABLE"): void {
    this.failures = { count, code, status };
  }

  tabTitles(id: string): string[] {
    return this.spreadsheets.get(id)!.tabs.map((t) => t.title);
  }

  /**
   * A tab's cells as a person sees them: dates formatted, empty cells "", trailing empty rows
   * left out (undefined when there is no such tab).
   */
  rows(id: string, title: string): StoredCell[][] | undefined {
    const tab = this.spreadsheets.get(id)?.tabs.find((t) => t.title === title);
    if (!tab) return undefined;
    const shown = tab.rows.map((row, r) =>
      row.map((cell, c) => {
        const format = tab.formats.get(`${r}:${c}`);
        return typeof cell === "number" && format?.pattern && /^(DATE|DATE_TIME)$/.test(format.type)
          ? formatSerial(cell, format.pattern)
          : cell;
      }),
    );
    while (shown.length > 0 && shown.at(-1)!.every((c) => c === "")) shown.pop();
    return shown;
  }

  /** The stored (unformatted) value of one cell, "" when empty. */
  cell(id: string, title: string, row: number, col: number): StoredCell {
    return this.tabOf(id, title).rows[row]?.[col] ?? "";
  }

  note(id: string, title: string, row: number, col: number): string | undefined {
    return this.tabOf(id, title).notes.get(`${row}:${col}`);
  }

  numberFormat(id: string, title: string, row: number, col: number): NumberFormat | undefined {
    return this.tabOf(id, title).formats.get(`${row}:${col}`);
  }

  grid(id: string, title: string): { rowCount: number; columnCount: number; frozen: number } {
    const t = this.tabOf(id, title);
    return { rowCount: t.rowCount, columnCount: t.columnCount, frozen: t.frozenRowCount };
  }

  charts(id: string): FakeChart[] {
    return this.spreadsheets.get(id)!.charts;
  }

  /** A person typing into a cell in the browser (the file's modifiedTime moves). */
  type(id: string, title: string, row: number, col: number, value: StoredCell | ""): void {
    const s = this.spreadsheets.get(id)!;
    const tab = this.tabOf(id, title);
    if (row >= tab.rowCount) tab.rowCount = row + 1;
    const target = (tab.rows[row] ??= []);
    for (let i = 0; i < row; i++) tab.rows[i] ??= [];
    while (target.length < col) target.push("");
    target[col] = value;
    this.touch(s);
  }

  /** Requests that changed or read data (everything recorded). */
  callCount(): number {
    return this.requests.length;
  }

  /** Write requests (batchUpdate, values writes and clears) answered 200. */
  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.kind === "write" && r.status === 200);
  }

  private tabOf(id: string, title: string): FakeTab {
    const tab = this.spreadsheets.get(id)?.tabs.find((t) => t.title === title);
    if (!tab) throw new Error(`no tab ${title} in ${id}`);
    return tab;
  }

  private touch(s: FakeSpreadsheet): void {
    s.modifiedTime = Math.max(this.clock(), s.modifiedTime + 1);
  }

  private authenticate(req: IncomingMessage): string {
    const header = req.headers.authorization;
    const match = typeof header === "string" ? /^Bearer ([^\s]+)$/.exec(header) : null;
    if (!match) throw UNAUTHENTICATED();
    const parts = match[1].split(".");
    if (parts.length !== 3) throw UNAUTHENTICATED();
    let head: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      head = base64urlJson(parts[0]);
      claims = base64urlJson(parts[1]);
    } catch {
      throw UNAUTHENTICATED();
    }
    if (head.alg !== "RS256") throw UNAUTHENTICATED();
    const signed = verify(
      "sha256",
      Buffer.from(`${parts[0]}.${parts[1]}`),
      this.options.publicKey,
      Buffer.from(parts[2], "base64url"),
    );
    if (!signed) throw UNAUTHENTICATED();
    const nowSec = Date.now() / 1000;
    const { iss, sub, scope, exp, iat } = claims as Record<string, unknown>;
    if (iss !== this.options.serviceAccount || sub !== iss) throw UNAUTHENTICATED();
    if (typeof scope !== "string" || !scope.split(" ").includes(SHEETS_SCOPE)) {
      throw new HttpError(
        403,
        "PERMISSION_DENIED",
        "Request had insufficient authentication scopes.",
      );
    }
    if (typeof exp !== "number" || typeof iat !== "number") throw UNAUTHENTICATED();
    if (exp < nowSec || iat > nowSec + 60 || exp - iat > 3600) throw UNAUTHENTICATED();
    return iss;
  }

  private overQuota(record: RecordedRequest): boolean {
    const quota = this.options.quota;
    if (!quota || record.kind === "drive") return false;
    const limit = record.kind === "read" ? quota.readsPerMinute : quota.writesPerMinute;
    const since = record.at - 60_000;
    let used = 0;
    for (const r of this.requests) {
      if (r !== record && r.kind === record.kind && r.status === 200 && r.at > since) used++;
    }
    return used >= limit;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const method = req.method ?? "GET";
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      status: 200,
      at: this.clock(),
      kind: url.pathname.startsWith("/drive/") ? "drive" : method === "GET" ? "read" : "write",
    };
    this.requests.push(record);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (this.options.latencyMs) await new Promise((r) => setTimeout(r, this.options.latencyMs));
    try {
      if (this.failures && this.failures.count > 0) {
        this.failures.count--;
        throw new HttpError(
          this.failures.code,
          this.failures.status,
          this.failures.code === 429
            ? "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' of service 'sheets.googleapis.com'."
            : "The service is currently unavailable.",
        );
      }
      const caller = this.authenticate(req);
      record.caller = caller;
      if (this.overQuota(record)) {
        throw new HttpError(
          429,
          "RESOURCE_EXHAUSTED",
          `Quota exceeded for quota metric '${record.kind === "read" ? "Read" : "Write"} requests' and limit '${record.kind === "read" ? "Read" : "Write"} requests per minute per user' of service 'sheets.googleapis.com'.`,
        );
      }
      let body: Record<string, unknown> = {};
      if (chunks.length > 0) {
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          throw invalid("Invalid JSON payload received.");
        }
        record.body = body;
      }
      const result = this.route(method, url, body, caller);
      res.writeHead(200, { "content-type": "application/json; charset=UTF-8" });
      res.end(JSON.stringify(result));
    } catch (error) {
      const e =
        error instanceof HttpError
          ? error
          : new HttpError(500, "INTERNAL", "Internal error encountered.");
      record.status = e.code;
      res.writeHead(e.code, { "content-type": "application/json; charset=UTF-8" });
      res.end(
        JSON.stringify({ error: { code: e.code, message: e.message, status: e.status } }, null, 2),
      );
    }
  }

  private sheet(id: string, caller: string): FakeSpreadsheet {
    const s = this.spreadsheets.get(id);
    if (!s) throw NOT_FOUND();
    if (!s.editors.has(caller)) throw PERMISSION_DENIED();
    return s;
  }

  private tab(s: FakeSpreadsheet, range: string): { tab: FakeTab; row: number; col: number } {
    const r = parseRange(range);
    const tab = s.tabs.find((t) => t.title === r.title);
    if (!tab) throw invalid(`Unable to parse range: ${range}`);
    return { tab, row: r.row, col: r.col };
  }

  private route(method: string, url: URL, body: Record<string, unknown>, caller: string): unknown {
    const drive = /^\/drive\/v3\/files\/([^/]+)$/.exec(url.pathname);
    if (drive && method === "GET") {
      const s = this.sheet(decodeURIComponent(drive[1]), caller);
      const fields = url.searchParams.get("fields") ?? "id,name";
      const file: Record<string, unknown> = {
        id: s.id,
        name: s.title,
        modifiedTime: new Date(s.modifiedTime).toISOString(),
      };
      return Object.fromEntries(fields.split(",").map((f) => [f.trim(), file[f.trim()]]));
    }
    const m = /^\/v4\/spreadsheets\/([^/:]+)(.*)$/.exec(url.pathname);
    if (!m) throw NOT_FOUND();
    const id = decodeURIComponent(m[1]);
    const rest = m[2];
    const s = this.sheet(id, caller);
    if (method === "GET" && rest === "") return this.describe(s);
    if (method === "POST" && rest === ":batchUpdate") return this.batchUpdate(s, body);
    if (method === "GET" && rest === "/values:batchGet") {
      const ranges = url.searchParams.getAll("ranges");
      return {
        spreadsheetId: s.id,
        valueRanges: ranges.map((range) => {
          const { tab } = this.tab(s, range);
          const values = tab.rows.map((row) => [...row]);
          while (values.length > 0 && values.at(-1)!.every((c) => c === "")) values.pop();
          return { range, majorDimension: "ROWS", values };
        }),
      };
    }
    if (method === "POST" && rest === "/values:batchClear") {
      const ranges = body.ranges;
      if (!Array.isArray(ranges)) throw invalid("ranges is required");
      const cleared = ranges.map((r: string) => this.clear(s, r));
      this.touch(s);
      return { spreadsheetId: s.id, clearedRanges: cleared };
    }
    if (method === "POST" && rest === "/values:batchUpdate") {
      const option = body.valueInputOption;
      if (option !== "RAW" && option !== "USER_ENTERED") {
        throw invalid("Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED");
      }
      const data = body.data;
      if (!Array.isArray(data)) throw invalid("data is required");
      const responses = data.map((d: { range: string; values?: unknown[][] }) =>
        this.write(s, d.range, d.values ?? [], option),
      );
      this.touch(s);
      return {
        spreadsheetId: s.id,
        totalUpdatedRows: responses.reduce((n, r) => n + r.updatedRows, 0),
        totalUpdatedColumns: Math.max(0, ...responses.map((r) => r.updatedColumns)),
        totalUpdatedCells: responses.reduce((n, r) => n + r.updatedCells, 0),
        totalUpdatedSheets: new Set(data.map((d: { range: string }) => parseRange(d.range).title))
          .size,
        responses,
      };
    }
    const values = /^\/values\/([^:]+)(:clear)?$/.exec(rest);
    if (values) {
      const range = decodeURIComponent(values[1]);
      if (method === "POST" && values[2]) {
        this.touch(s);
        return { spreadsheetId: s.id, clearedRange: this.clear(s, range) };
      }
      if (method === "PUT" && !values[2]) {
        const option = url.searchParams.get("valueInputOption");
        if (option !== "RAW" && option !== "USER_ENTERED") {
          throw invalid("Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED");
        }
        this.touch(s);
        return this.write(s, range, (body.values as unknown[][]) ?? [], option);
      }
      if (method === "GET" && !values[2]) {
        const { tab } = this.tab(s, range);
        return { range, majorDimension: "ROWS", values: tab.rows };
      }
    }
    throw NOT_FOUND();
  }

  private describe(s: FakeSpreadsheet): unknown {
    return {
      spreadsheetId: s.id,
      properties: { title: s.title, locale: "en_US", timeZone: "Etc/GMT" },
      sheets: s.tabs.map((t, index) => ({
        properties: {
          sheetId: t.sheetId,
          title: t.title,
          index,
          sheetType: "GRID",
          gridProperties: {
            rowCount: t.rowCount,
            columnCount: t.columnCount,
            ...(t.frozenRowCount > 0 ? { frozenRowCount: t.frozenRowCount } : {}),
          },
        },
        ...(s.charts.some((c) => c.sheetId === t.sheetId)
          ? {
              charts: s.charts
                .filter((c) => c.sheetId === t.sheetId)
                .map((c) => ({ chartId: c.chartId, spec: c.spec })),
            }
          : {}),
      })),
      spreadsheetUrl: `https://docs.google.com/spreadsheets/d/${s.id}/edit`,
    };
  }

  /** All requests or none: they are applied to a copy that replaces the spreadsheet at the end. */
  private batchUpdate(s: FakeSpreadsheet, body: Record<string, unknown>): unknown {
    const requests = body.requests;
    if (!Array.isArray(requests) || requests.length === 0) {
      throw invalid("Must specify at least one request.");
    }
    const copy: FakeSpreadsheet = {
      ...s,
      tabs: s.tabs.map(cloneTab),
      charts: s.charts.map((c) => ({ ...c })),
    };
    const replies = requests.map((r: Record<string, Record<string, unknown>>, i: number) => {
      const kinds = Object.keys(r);
      if (kinds.length !== 1) throw invalid(`Invalid requests[${i}]: exactly one kind expected`);
      const kind = kinds[0]!;
      const where = `Invalid requests[${i}].${kind}`;
      const req = r[kind]!;
      switch (kind) {
        case "addSheet":
          return { addSheet: this.addSheet(copy, req, where) };
        case "updateSheetProperties":
          this.updateSheetProperties(copy, req, where);
          return {};
        case "updateCells":
          this.updateCells(copy, req, where);
          return {};
        case "addChart":
          return { addChart: this.addChart(copy, req, where) };
        case "updateChartSpec": {
          const chart = copy.charts.find((c) => c.chartId === req.chartId);
          if (!chart) throw invalid(`${where}: No chart with id: ${String(req.chartId)}`);
          this.checkChartSources(copy, req.spec as Record<string, unknown>, where);
          chart.spec = req.spec as Record<string, unknown>;
          return {};
        }
        default:
          throw invalid(`${where}: not supported by the fake`);
      }
    });
    s.tabs = copy.tabs;
    s.charts = copy.charts;
    s.nextSheetId = copy.nextSheetId;
    this.touch(s);
    return { spreadsheetId: s.id, replies };
  }

  private tabById(s: FakeSpreadsheet, sheetId: unknown, where: string): FakeTab {
    const tab = s.tabs.find((t) => t.sheetId === sheetId);
    if (!tab) throw invalid(`${where}: No grid with id: ${String(sheetId)}`);
    return tab;
  }

  private addSheet(s: FakeSpreadsheet, req: Record<string, unknown>, where: string): unknown {
    const props = (req.properties ?? {}) as {
      sheetId?: number;
      title?: string;
      gridProperties?: { rowCount?: number; columnCount?: number; frozenRowCount?: number };
    };
    const title = props.title ?? `Sheet${s.tabs.length + 1}`;
    if (s.tabs.some((t) => t.title === title)) {
      throw invalid(
        `${where}: A sheet with the name "${title}" already exists. Please enter another name.`,
      );
    }
    const sheetId = props.sheetId ?? s.nextSheetId++;
    if (s.tabs.some((t) => t.sheetId === sheetId)) {
      throw invalid(`${where}: Sheet with id ${sheetId} already exists.`);
    }
    const tab = newTab(sheetId, title);
    this.setGrid(tab, props.gridProperties ?? {}, where);
    s.tabs.push(tab);
    return {
      properties: {
        sheetId,
        title,
        index: s.tabs.length - 1,
        sheetType: "GRID",
        gridProperties: { rowCount: tab.rowCount, columnCount: tab.columnCount },
      },
    };
  }

  private setGrid(
    tab: FakeTab,
    grid: { rowCount?: number; columnCount?: number; frozenRowCount?: number },
    where: string,
  ): void {
    if (grid.rowCount !== undefined) {
      if (grid.rowCount < 1) throw invalid(`${where}: rowCount must be at least 1`);
      tab.rowCount = grid.rowCount;
      tab.rows.length = Math.min(tab.rows.length, grid.rowCount);
      for (const map of [tab.notes, tab.formats]) {
        for (const key of map.keys())
          if (Number(key.split(":")[0]) >= grid.rowCount) map.delete(key);
      }
    }
    if (grid.columnCount !== undefined) {
      if (grid.columnCount < 1) throw invalid(`${where}: columnCount must be at least 1`);
      tab.columnCount = grid.columnCount;
      for (const row of tab.rows) row.length = Math.min(row.length, grid.columnCount);
      for (const map of [tab.notes, tab.formats]) {
        for (const key of map.keys())
          if (Number(key.split(":")[1]) >= grid.columnCount) map.delete(key);
      }
    }
    if (grid.frozenRowCount !== undefined) tab.frozenRowCount = grid.frozenRowCount;
    if (tab.frozenRowCount >= tab.rowCount) {
      throw invalid(`${where}: You can't freeze all visible rows on the sheet.`);
    }
  }

  private updateSheetProperties(
    s: FakeSpreadsheet,
    req: Record<string, unknown>,
    where: string,
  ): void {
    const props = (req.properties ?? {}) as {
      sheetId?: number;
      title?: string;
      gridProperties?: Record<string, number>;
    };
    const fields = String(req.fields ?? "");
    if (fields === "") throw invalid(`${where}: fields is required`);
    const tab = this.tabById(s, props.sheetId, where);
    const wanted = (f: string) =>
      fields === "*" ||
      fields.split(",").some((x) => x.trim() === f || x.trim() === "gridProperties");
    const grid = props.gridProperties ?? {};
    this.setGrid(
      tab,
      {
        ...(wanted("gridProperties.rowCount") ? { rowCount: grid.rowCount } : {}),
        ...(wanted("gridProperties.columnCount") ? { columnCount: grid.columnCount } : {}),
        ...(wanted("gridProperties.frozenRowCount")
          ? { frozenRowCount: grid.frozenRowCount ?? 0 }
          : {}),
      },
      where,
    );
    if (wanted("title") && props.title) tab.title = props.title;
  }

  private updateCells(s: FakeSpreadsheet, req: Record<string, unknown>, where: string): void {
    const start = req.start as { sheetId?: number; rowIndex?: number; columnIndex?: number };
    if (!start) throw invalid(`${where}: the fake supports updateCells with start only`);
    const tab = this.tabById(s, start.sheetId ?? 0, where);
    const fields = String(req.fields ?? "")
      .split(",")
      .map((f) => f.trim());
    if (fields.length === 0 || fields[0] === "") throw invalid(`${where}: fields is required`);
    const rows = (req.rows ?? []) as { values?: Record<string, unknown>[] }[];
    const r0 = start.rowIndex ?? 0;
    const c0 = start.columnIndex ?? 0;
    rows.forEach((row, i) => {
      const r = r0 + i;
      if (r >= tab.rowCount) {
        throw invalid(
          `${where}: GridCoordinate.rowIndex[${r}] is after last row in grid[${tab.rowCount - 1}]`,
        );
      }
      (row.values ?? []).forEach((cell, j) => {
        const c = c0 + j;
        if (c >= tab.columnCount) {
          throw invalid(
            `${where}: GridCoordinate.columnIndex[${c}] is after last column in grid[${tab.columnCount - 1}]`,
          );
        }
        const key = `${r}:${c}`;
        if (fields.includes("userEnteredValue")) {
          const v = cell.userEnteredValue as Record<string, unknown> | undefined;
          let stored: StoredCell = "";
          if (v?.stringValue !== undefined) stored = String(v.stringValue);
          else if (v?.numberValue !== undefined) {
            if (typeof v.numberValue !== "number" || !Number.isFinite(v.numberValue)) {
              throw invalid(`${where}: Invalid value at numberValue`);
            }
            stored = v.numberValue;
          } else if (v?.boolValue !== undefined) stored = Boolean(v.boolValue);
          else if (v?.formulaValue !== undefined) stored = { formula: String(v.formulaValue) };
          const target = (tab.rows[r] ??= []);
          for (let k = 0; k < r; k++) tab.rows[k] ??= [];
          while (target.length < c) target.push("");
          target[c] = stored;
        }
        if (fields.includes("note")) {
          if (typeof cell.note === "string" && cell.note !== "") tab.notes.set(key, cell.note);
          else tab.notes.delete(key);
        }
        if (
          fields.includes("userEnteredFormat.numberFormat") ||
          fields.includes("userEnteredFormat")
        ) {
          const format = (cell.userEnteredFormat as { numberFormat?: NumberFormat } | undefined)
            ?.numberFormat;
          if (format) tab.formats.set(key, format);
          else tab.formats.delete(key);
        }
      });
    });
  }

  private checkChartSources(s: FakeSpreadsheet, spec: Record<string, unknown>, where: string) {
    const basic = spec?.basicChart as
      | { domains?: { domain: unknown }[]; series?: { series: unknown }[] }
      | undefined;
    if (!basic) throw invalid(`${where}: the fake supports basicChart only`);
    const ranges = [
      ...(basic.domains ?? []).map((d) => d.domain),
      ...(basic.series ?? []).map((x) => x.series),
    ] as { sourceRange?: { sources?: Record<string, number>[] } }[];
    if (!basic.series?.length) throw invalid(`${where}: a chart needs at least one series`);
    for (const r of ranges) {
      for (const g of r.sourceRange?.sources ?? []) {
        const tab = this.tabById(s, g.sheetId, where);
        if ((g.endRowIndex ?? 0) > tab.rowCount || (g.endColumnIndex ?? 0) > tab.columnCount) {
          throw invalid(`${where}: Range ${JSON.stringify(g)} exceeds grid limits.`);
        }
      }
    }
  }

  private addChart(s: FakeSpreadsheet, req: Record<string, unknown>, where: string): unknown {
    const chart = req.chart as {
      chartId?: number;
      spec: Record<string, unknown>;
      position?: { overlayPosition?: { anchorCell?: { sheetId: number; columnIndex?: number } } };
    };
    const anchor = chart?.position?.overlayPosition?.anchorCell;
    if (!anchor) throw invalid(`${where}: the fake supports overlay charts only`);
    const tab = this.tabById(s, anchor.sheetId, where);
    if ((anchor.columnIndex ?? 0) >= tab.columnCount) {
      throw invalid(`${where}: the chart's anchor cell is outside the grid`);
    }
    this.checkChartSources(s, chart.spec, where);
    const chartId = chart.chartId ?? Math.floor(Math.random() * 1e9);
    if (s.charts.some((c) => c.chartId === chartId)) {
      throw invalid(`${where}: An object with id ${chartId} already exists.`);
    }
    s.charts.push({ chartId, sheetId: tab.sheetId, spec: chart.spec });
    return { chart: { ...chart, chartId } };
  }

  private clear(s: FakeSpreadsheet, range: string): string {
    const { tab, row, col } = this.tab(s, range);
    if (row !== 0 || col !== 0) throw invalid("the fake clears whole tabs only");
    tab.rows = [];
    return `'${tab.title.replace(/'/g, "''")}'!A1:Z1000`;
  }

  private write(
    s: FakeSpreadsheet,
    range: string,
    values: unknown[][],
    option: "RAW" | "USER_ENTERED",
  ): {
    spreadsheetId: string;
    updatedRange: string;
    updatedRows: number;
    updatedColumns: number;
    updatedCells: number;
  } {
    const { tab, row, col } = this.tab(s, range);
    let cells = 0;
    let width = 0;
    values.forEach((line, i) => {
      if (!Array.isArray(line)) throw invalid(`Invalid values[${i}]: must be a list`);
      const target = (tab.rows[row + i] ??= []);
      line.forEach((value, j) => {
        if (value === null) return; // null leaves the cell as it is
        if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
          throw invalid(`Invalid values[${i}][${j}]: ${JSON.stringify(value)}`);
        }
        while (target.length < col + j) target.push("");
        target[col + j] =
          option === "USER_ENTERED" && typeof value === "string" && value.startsWith("=")
            ? { formula: value }
            : value;
        cells++;
      });
      width = Math.max(width, line.length);
    });
    for (let i = 0; i < row + values.length; i++) tab.rows[i] ??= [];
    tab.rowCount = Math.max(tab.rowCount, tab.rows.length);
    return {
      spreadsheetId: s.id,
      updatedRange: `'${tab.title}'!A1`,
      updatedRows: values.length,
      updatedColumns: width,
      updatedCells: cells,
    };
  }
}

function newTab(sheetId: number, title: string): FakeTab {
  return {
    sheetId,
    title,
    rows: [],
    notes: new Map(),
    formats: new Map(),
    rowCount: 1000,
    columnCount: 26,
    frozenRowCount: 0,
  };
}

function cloneTab(t: FakeTab): FakeTab {
  return {
    ...t,
    rows: t.rows.map((r) => [...r]),
    notes: new Map(t.notes),
    formats: new Map(t.formats),
  };
}
