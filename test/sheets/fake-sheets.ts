// A local stand-in for the Google Sheets v4 REST API, speaking its wire format for the calls the
// mirror makes (and their close relatives), with the contents kept in memory:
//   GET  /v4/spreadsheets/{id}                         spreadsheets.get
//   POST /v4/spreadsheets/{id}:batchUpdate             addSheet requests
//   POST /v4/spreadsheets/{id}/values:batchClear       values.batchClear
//   POST /v4/spreadsheets/{id}/values/{range}:clear    values.clear
//   POST /v4/spreadsheets/{id}/values:batchUpdate      values.batchUpdate (RAW / USER_ENTERED)
//   PUT  /v4/spreadsheets/{id}/values/{range}          values.update
//   GET  /v4/spreadsheets/{id}/values/{range}          values.get
// Every request must carry `Authorization: Bearer <self-signed JWT>`: RS256, verified with the
// service account's public key, iss = sub = the account, the spreadsheets scope, not expired.
// A spreadsheet the account was not shared on answers 403, an unknown one 404, in Google's JSON
// error format. USER_ENTERED text starting with "=" is stored as a formula, as Sheets would.

import { type KeyObject, verify } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets";

export type StoredCell = string | number | boolean | { formula: string };

interface FakeTab {
  sheetId: number;
  title: string;
  rows: StoredCell[][];
}

interface FakeSpreadsheet {
  id: string;
  title: string;
  tabs: FakeTab[];
  editors: Set<string>;
  nextSheetId: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** the JWT's issuer, when the bearer token verified */
  caller?: string;
  status: number;
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

function base64urlJson(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
}

/** Parses "'My tab'!B2", "Tab!A1", "'Tab'" or "Tab" into a title and a start cell. */
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
  const cell = /^!([A-Z]+)(\d+)$/.exec(rest);
  if (!cell) throw invalid(`Unable to parse range: ${range}`);
  let col = 0;
  for (const ch of cell[1]) col = col * 26 + (ch.charCodeAt(0) - 64);
  return { title, row: Number(cell[2]) - 1, col: col - 1 };
}

export interface FakeSheetsOptions {
  serviceAccount: string;
  publicKey: KeyObject | string;
  /** delay before each answer, to widen race windows */
  latencyMs?: number;
}

export class FakeSheets {
  readonly requests: RecordedRequest[] = [];
  private readonly spreadsheets = new Map<string, FakeSpreadsheet>();
  private server: Server | undefined;
  url = "";
  /** answer the next N requests with this status (e.g. 503), before anything else */
  private failures: { count: number; code: number; status: string } | undefined;

  constructor(private readonly options: FakeSheetsOptions) {}

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
      tabs: [{ sheetId: 0, title: "Sheet1", rows: [] }],
      editors: new Set(editors),
      nextSheetId: 1001,
    });
  }

  share(id: string, email = this.options.serviceAccount): void {
    this.spreadsheets.get(id)!.editors.add(email);
  }

  failNext(count: number, code = 503, status = "UNAVAILABLE"): void {
    this.failures = { count, code, status };
  }

  tabTitles(id: string): string[] {
    return this.spreadsheets.get(id)!.tabs.map((t) => t.title);
  }

  /** The stored rows of a tab (undefined when there is no such tab). */
  rows(id: string, title: string): StoredCell[][] | undefined {
    return this.spreadsheets.get(id)?.tabs.find((t) => t.title === title)?.rows;
  }

  /** Requests that changed or read data (everything recorded). */
  callCount(): number {
    return this.requests.length;
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

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const record: RecordedRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      status: 200,
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
          "The service is currently unavailable.",
        );
      }
      const caller = this.authenticate(req);
      record.caller = caller;
      let body: Record<string, unknown> = {};
      if (chunks.length > 0) {
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          throw invalid("Invalid JSON payload received.");
        }
      }
      const result = this.route(record.method, url, body, caller);
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
    const m = /^\/v4\/spreadsheets\/([^/:]+)(.*)$/.exec(url.pathname);
    if (!m) throw NOT_FOUND();
    const id = decodeURIComponent(m[1]);
    const rest = m[2];
    const s = this.sheet(id, caller);
    if (method === "GET" && rest === "") return this.describe(s);
    if (method === "POST" && rest === ":batchUpdate") return this.batchUpdate(s, body);
    if (method === "POST" && rest === "/values:batchClear") {
      const ranges = body.ranges;
      if (!Array.isArray(ranges)) throw invalid("ranges is required");
      const cleared = ranges.map((r: string) => this.clear(s, r));
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
      if (method === "POST" && values[2])
        return { spreadsheetId: s.id, clearedRange: this.clear(s, range) };
      if (method === "PUT" && !values[2]) {
        const option = url.searchParams.get("valueInputOption");
        if (option !== "RAW" && option !== "USER_ENTERED") {
          throw invalid("Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED");
        }
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
          gridProperties: { rowCount: Math.max(1000, t.rows.length), columnCount: 26 },
        },
      })),
      spreadsheetUrl: `https://docs.google.com/spreadsheets/d/${s.id}/edit`,
    };
  }

  private batchUpdate(s: FakeSpreadsheet, body: Record<string, unknown>): unknown {
    const requests = body.requests;
    if (!Array.isArray(requests)) throw invalid("requests is required");
    // validate everything first: a batchUpdate applies all requests or none
    const titles = new Set(s.tabs.map((t) => t.title));
    requests.forEach((r: { addSheet?: { properties?: { title?: string } } }, i) => {
      if (!r.addSheet)
        throw invalid(`Invalid requests[${i}]: only addSheet is supported by the fake`);
      const title = r.addSheet.properties?.title ?? `Sheet${s.tabs.length + 1}`;
      if (titles.has(title)) {
        throw invalid(
          `Invalid requests[${i}].addSheet: A sheet with the name "${title}" already exists. Please enter another name.`,
        );
      }
      titles.add(title);
    });
    const replies = requests.map((r: { addSheet: { properties?: { title?: string } } }) => {
      const tab: FakeTab = {
        sheetId: s.nextSheetId++,
        title: r.addSheet.properties?.title ?? `Sheet${s.tabs.length + 1}`,
        rows: [],
      };
      s.tabs.push(tab);
      return {
        addSheet: {
          properties: {
            sheetId: tab.sheetId,
            title: tab.title,
            index: s.tabs.length - 1,
            sheetType: "GRID",
            gridProperties: { rowCount: 1000, columnCount: 26 },
          },
        },
      };
    });
    return { spreadsheetId: s.id, replies };
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
    return {
      spreadsheetId: s.id,
      updatedRange: `'${tab.title}'!A1`,
      updatedRows: values.length,
      updatedColumns: width,
      updatedCells: cells,
    };
  }
}
