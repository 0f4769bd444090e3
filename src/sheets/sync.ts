// One write to one sheet: the tabs computed from the database, compared with what the mirror
// wrote last time (kept in sheet_links.state: each tab's sheet id, grid size, a hash of its
// columns and one hash per block of BLOCK_ROWS rows), become the requests of a single
// spreadsheets.batchUpdate: add missing tabs, resize grids (which also drops rows and columns
// beyond the data: the excess is cleared in the same request), freeze the header row, and
// write only the blocks that changed (values, number formats and notes together), plus the one
// chart of reward and EMAs. Nothing changed: no request at all. A viewer never sees an empty
// tab: a batchUpdate is applied as a whole.
import { createHash, randomInt } from "node:crypto";
import type { CellData, SheetsApi, SpreadsheetInfo } from "./google.js";
import {
  type Cell,
  type ColumnFormat,
  chartColumns,
  type HeldEdits,
  type Tab,
  type TabTitle,
} from "./layout.js";

/** Rows per hashed block: the unit of "only what changed". */
export const BLOCK_ROWS = 50;
/** Empty columns right of Daily's data where the chart sits. */
export const CHART_SPARE_COLUMNS = 8;

export interface TabState {
  sheetId: number;
  /** hash of the columns (headers and formats) */
  shape: string;
  /** hash per block of BLOCK_ROWS data rows */
  blocks: string[];
  rowCount: number;
  columnCount: number;
}

/** Editable values as the mirror last wrote them (to tell sheet edits from chat changes). */
export interface WrittenHabit {
  target: number;
  daysPerWeek: number;
  levels: string;
}

/** What the mirror knows about a person's sheet (sheet_links.state). */
export interface MirrorState {
  tabs: Partial<Record<TabTitle, TabState>>;
  chartId: number | null;
  habits: Record<string, WrittenHabit>;
  /** today's plan amounts per habit id, as written */
  plan: { day: string; amounts: Record<string, number> } | null;
  /** cells and rows typed into the sheet that were not taken (shown with a note) */
  held: HeldEdits;
  /** held cells already reported in the chat (their keys) */
  reported: string[];
}

export function emptyState(): MirrorState {
  return {
    tabs: {},
    chartId: null,
    habits: {},
    plan: null,
    held: { cells: [], rows: [] },
    reported: [],
  };
}

/** Reads a stored state leniently: anything unreadable starts over (a full rewrite). */
export function stateOf(json: unknown): MirrorState {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return emptyState();
  const s = json as Partial<MirrorState>;
  return {
    tabs: typeof s.tabs === "object" && s.tabs !== null ? s.tabs : {},
    chartId: typeof s.chartId === "number" ? s.chartId : null,
    habits: typeof s.habits === "object" && s.habits !== null ? s.habits : {},
    plan: s.plan ?? null,
    held: {
      cells: Array.isArray(s.held?.cells) ? s.held.cells : [],
      rows: Array.isArray(s.held?.rows) ? s.held.rows : [],
    },
    reported: Array.isArray(s.reported) ? s.reported : [],
  };
}

const FORMATS: Record<ColumnFormat, { type: string; pattern: string }> = {
  text: { type: "TEXT", pattern: "@" },
  date: { type: "DATE", pattern: "yyyy-mm-dd" },
  datetime: { type: "DATE_TIME", pattern: "yyyy-mm-dd hh:mm:ss" },
  amount: { type: "NUMBER", pattern: "0.0" },
  ratio: { type: "NUMBER", pattern: "0.0000" },
  integer: { type: "NUMBER", pattern: "0" },
};

const hash = (value: unknown) =>
  createHash("sha1").update(JSON.stringify(value)).digest("base64url").slice(0, 12);

function cellData(value: Cell, format: ColumnFormat, note: string | undefined): CellData {
  const data: CellData = { userEnteredFormat: { numberFormat: FORMATS[format] } };
  if (typeof value === "number" && Number.isFinite(value)) {
    data.userEnteredValue = { numberValue: value };
  } else if (typeof value === "string" && value !== "") {
    // stringValue is never parsed: "=…" stays text
    data.userEnteredValue = { stringValue: value };
  }
  if (note !== undefined) data.note = note;
  return data;
}

function blockHashes(tab: Tab): string[] {
  const out: string[] = [];
  for (let start = 0; start < tab.rows.length; start += BLOCK_ROWS) {
    const rows = tab.rows.slice(start, start + BLOCK_ROWS);
    const notes = Object.entries(tab.notes).filter(([k]) => {
      const r = Number(k.split(":")[0]);
      return r >= start && r < start + BLOCK_ROWS;
    });
    out.push(hash([rows, notes]));
  }
  return out;
}

export function gridOf(tab: Tab): { rowCount: number; columnCount: number } {
  return {
    // a frozen header needs at least one row below it
    rowCount: Math.max(2, tab.rows.length + 1),
    columnCount: tab.columns.length + (tab.title === "Daily" ? CHART_SPARE_COLUMNS : 0),
  };
}

function rowsRequest(tab: Tab, sheetId: number, from: number, to: number): object {
  const rows = [];
  for (let r = from; r < to; r++) {
    rows.push({
      values: tab.columns.map((c, i) =>
        cellData(tab.rows[r]?.[i] ?? null, c.format, tab.notes[`${r}:${i}`]),
      ),
    });
  }
  return {
    updateCells: {
      start: { sheetId, rowIndex: from + 1, columnIndex: 0 },
      rows,
      fields: "userEnteredValue,userEnteredFormat.numberFormat,note",
    },
  };
}

function headerRequest(tab: Tab, sheetId: number): object {
  return {
    updateCells: {
      start: { sheetId, rowIndex: 0, columnIndex: 0 },
      rows: [{ values: tab.columns.map((c) => cellData(c.header, "text", undefined)) }],
      fields: "userEnteredValue,userEnteredFormat.numberFormat,note",
    },
  };
}

function chartSpec(daily: Tab, sheetId: number, rowCount: number): object {
  const { domain, series } = chartColumns(daily);
  const range = (c: number) => ({
    sourceRange: {
      sources: [
        {
          sheetId,
          startRowIndex: 0,
          endRowIndex: rowCount,
          startColumnIndex: c,
          endColumnIndex: c + 1,
        },
      ],
    },
  });
  return {
    title: "Reward and EMAs per day",
    basicChart: {
      chartType: "LINE",
      legendPosition: "BOTTOM_LEGEND",
      headerCount: 1,
      axis: [
        { position: "BOTTOM_AXIS", title: "day" },
        { position: "LEFT_AXIS", title: "reward, EMA (1 = on target)" },
      ],
      domains: [{ domain: range(domain) }],
      series: series.map((c) => ({ series: range(c), targetAxis: "LEFT_AXIS" })),
    },
  };
}

export interface WritePlan {
  requests: object[];
  state: MirrorState;
  /** tabs added, and tabs (partly) written */
  added: TabTitle[];
  written: TabTitle[];
}

/**
 * The requests that bring the sheet from `state` (what was written before) to `tabs`. `info`
 * (spreadsheets.get) is needed when a tab's sheet id is not known yet; `rewrite` names tabs to
 * write in full whatever the hashes say (the sheet was edited by hand).
 */
export function planWrite(
  tabs: Tab[],
  state: MirrorState,
  info: SpreadsheetInfo | null,
  rewrite: ReadonlySet<TabTitle> = new Set(),
): WritePlan {
  const requests: object[] = [];
  const next: MirrorState = { ...state, tabs: { ...state.tabs } };
  const added: TabTitle[] = [];
  const written: TabTitle[] = [];
  const usedIds = new Set<number>([
    ...(info?.tabs.map((t) => t.sheetId) ?? []),
    ...Object.values(state.tabs).map((t) => t!.sheetId),
  ]);
  const freshId = (): number => {
    for (;;) {
      const id = randomInt(1_000_000, 2_000_000_000);
      if (!usedIds.has(id)) {
        usedIds.add(id);
        return id;
      }
    }
  };
  let dailyGridChanged = false;
  for (const tab of tabs) {
    const old = state.tabs[tab.title];
    const grid = gridOf(tab);
    const shape = hash(tab.columns);
    const blocks = blockHashes(tab);
    const gridProperties = { ...grid, frozenRowCount: 1 };
    let sheetId: number;
    const before = requests.length;
    let full = rewrite.has(tab.title) || old === undefined || old.shape !== shape;
    if (old === undefined) {
      const existing = info?.tabs.find((t) => t.title === tab.title);
      if (existing) {
        sheetId = existing.sheetId;
        requests.push({
          updateSheetProperties: {
            properties: { sheetId, gridProperties },
            fields:
              "gridProperties.rowCount,gridProperties.columnCount,gridProperties.frozenRowCount",
          },
        });
      } else {
        sheetId = freshId();
        requests.push({ addSheet: { properties: { sheetId, title: tab.title, gridProperties } } });
        added.push(tab.title);
      }
      full = true;
      if (tab.title === "Daily") dailyGridChanged = true;
    } else {
      sheetId = old.sheetId;
      // a tab edited by hand may have grown: a rewrite sets its size again
      if (full || old.rowCount !== grid.rowCount || old.columnCount !== grid.columnCount) {
        requests.push({
          updateSheetProperties: {
            properties: { sheetId, gridProperties },
            fields:
              "gridProperties.rowCount,gridProperties.columnCount,gridProperties.frozenRowCount",
          },
        });
        if (tab.title === "Daily") dailyGridChanged = true;
      }
    }
    if (full) {
      requests.push(headerRequest(tab, sheetId));
      if (tab.rows.length > 0) requests.push(rowsRequest(tab, sheetId, 0, tab.rows.length));
    } else {
      // consecutive changed blocks become one range
      let i = 0;
      while (i < blocks.length) {
        if (blocks[i] === old!.blocks[i]) {
          i++;
          continue;
        }
        let j = i;
        while (j < blocks.length && blocks[j] !== old!.blocks[j]) j++;
        requests.push(
          rowsRequest(tab, sheetId, i * BLOCK_ROWS, Math.min(tab.rows.length, j * BLOCK_ROWS)),
        );
        i = j;
      }
    }
    if (requests.length > before) written.push(tab.title);
    next.tabs[tab.title] = { sheetId, shape, blocks, ...grid };
  }
  const daily = tabs.find((t) => t.title === "Daily");
  const dailyState = next.tabs.Daily;
  if (daily && dailyState) {
    const chartGone =
      info !== null && state.chartId !== null && !info.chartIds.includes(state.chartId);
    if (state.chartId === null || chartGone) {
      const chartId = freshId();
      requests.push({
        addChart: {
          chart: {
            chartId,
            spec: chartSpec(daily, dailyState.sheetId, dailyState.rowCount),
            position: {
              overlayPosition: {
                anchorCell: {
                  sheetId: dailyState.sheetId,
                  rowIndex: 1,
                  columnIndex: daily.columns.length + 1,
                },
                widthPixels: 720,
                heightPixels: 360,
              },
            },
          },
        },
      });
      next.chartId = chartId;
    } else if (dailyGridChanged) {
      requests.push({
        updateChartSpec: {
          chartId: state.chartId,
          spec: chartSpec(daily, dailyState.sheetId, dailyState.rowCount),
        },
      });
    }
  }
  return { requests, state: next, added, written };
}

export interface SyncResult {
  addedTabs: TabTitle[];
  writtenTabs: TabTitle[];
  rows: number;
  /** Google calls made (a read when the tabs' ids were not known, a write when anything changed) */
  calls: number;
  reads: number;
  writes: number;
  state: MirrorState;
}

/** Whether writing needs spreadsheets.get first (a tab or the chart not known yet). */
export function needsDescribe(tabs: Tab[], state: MirrorState): boolean {
  return tabs.some((t) => state.tabs[t.title] === undefined) || state.chartId === null;
}

/**
 * Writes `tabs` with at most one read (when needed) and one batchUpdate. `beforeCall` is awaited
 * before each Google call (the shared quota bucket).
 */
export async function syncSheet(
  api: SheetsApi,
  spreadsheetId: string,
  tabs: Tab[],
  state: MirrorState,
  options: {
    rewrite?: ReadonlySet<TabTitle>;
    beforeCall?: (kind: "read" | "write") => Promise<void>;
  } = {},
): Promise<SyncResult> {
  let reads = 0;
  let writes = 0;
  let info: SpreadsheetInfo | null = null;
  if (needsDescribe(tabs, state)) {
    await options.beforeCall?.("read");
    info = await api.describe(spreadsheetId);
    reads++;
  }
  const plan = planWrite(tabs, state, info, options.rewrite);
  if (plan.requests.length > 0) {
    await options.beforeCall?.("write");
    await api.batchUpdate(spreadsheetId, plan.requests);
    writes++;
  }
  return {
    addedTabs: plan.added,
    writtenTabs: plan.written,
    rows: tabs.reduce((n, t) => n + t.rows.length, 0),
    calls: reads + writes,
    reads,
    writes,
    state: plan.state,
  };
}
