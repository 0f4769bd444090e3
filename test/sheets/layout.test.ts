// The pure parts of the mirror: the tabs' rows from a person's data, which requests bring a
// sheet up to date, A1 ranges, and how a failed Google call becomes a last_error line.
import { describe, expect, it } from "vitest";
import { describeSheetsFailure, scrubCredentials } from "../../src/sheets/errors.js";
import { tabRange } from "../../src/sheets/google.js";
import {
  chartColumns,
  daySerial,
  ENTRY_SPARE_ROWS,
  instantSerial,
  type PersonSheetData,
  serialDay,
  sheetTabs,
  TAB_TITLES,
} from "../../src/sheets/layout.js";
import { emptyState, planWrite } from "../../src/sheets/sync.js";
import { parseRange } from "./fake-sheets.js";

const spec = (id: number, name: string, target: number) => ({
  id: String(id),
  name,
  aliases: [],
  kind: "duration" as const,
  unit: "min",
  target,
  daysPerWeek: 7,
  levels: [0, target],
  exclusiveGroup: null,
  actorGroup: 0,
});

function data(): PersonSheetData {
  return {
    today: "2026-03-03",
    habits: [
      {
        id: 1,
        name: "run",
        unit: "min",
        spec: spec(1, "run", 30),
        startDay: "2026-03-01",
        endDay: null,
        createdAt: new Date("2026-03-01T06:00:00Z"),
        archivedAt: null,
      },
      {
        id: 2,
        name: "violin",
        unit: "min",
        spec: { ...spec(2, "violin", 20), actorGroup: 1 },
        startDay: "2026-03-01",
        endDay: "2026-03-03",
        createdAt: new Date("2026-03-01T06:00:00Z"),
        archivedAt: new Date("2026-03-03T05:00:00Z"),
      },
    ],
    entries: [
      // stored out of day order: the tab keeps the order they were stored in (id)
      {
        id: 11n,
        habitId: 1,
        day: "2026-03-01",
        amount: 15,
        source: "button",
        createdAt: new Date("2026-03-02T08:00:00Z"),
        retractedAt: null,
      },
      {
        id: 10n,
        habitId: 1,
        day: "2026-03-02",
        amount: 30,
        source: "chat",
        createdAt: new Date("2026-03-02T07:00:00Z"),
        retractedAt: new Date("2026-03-02T07:05:00Z"),
      },
      {
        id: 12n,
        habitId: 2,
        day: "2026-03-02",
        amount: 20,
        source: "chat",
        createdAt: new Date("2026-03-02T09:00:00Z"),
        retractedAt: null,
      },
    ],
    plans: [
      {
        id: 8,
        day: "2026-03-02",
        producedBy: "policy:4",
        items: [{ habitId: 1, amount: 30 }],
        revisions: [],
      },
      {
        id: 7,
        day: "2026-03-01",
        producedBy: "heuristic",
        items: [{ habitId: 2, amount: 20 }],
        revisions: [],
      },
    ],
    metrics: [{ id: 5, name: "@weight", unit: "kg" }],
    samples: [
      { id: 2n, metricId: 5, value: 71.9, measuredAt: new Date("2026-03-02T06:00:00Z") },
      { id: 1n, metricId: 5, value: 72.4, measuredAt: new Date("2026-03-01T06:00:00Z") },
    ],
    runs: [
      {
        id: 3,
        at: new Date("2026-03-02T02:00:00Z"),
        trigger: "nightly",
        status: "succeeded",
        behaviour: "fitted",
        before: 0.41234,
        after: 0.5,
        activated: true,
      },
    ],
  };
}

const d = daySerial;
const t = (iso: string) => instantSerial(new Date(iso));

describe("sheet layout", () => {
  const tabs = sheetTabs(data());
  const tab = (title: string) => tabs.find((x) => x.title === title)!;
  const header = (title: string) => tab(title).columns.map((c) => c.header);

  it("has the six tabs in order", () => {
    expect(tabs.map((x) => x.title)).toEqual([...TAB_TITLES]);
  });

  it("days and instants are spreadsheet date serials", () => {
    expect(daySerial("1970-01-01")).toBe(25569);
    expect(serialDay(daySerial("2026-03-02"))).toBe("2026-03-02");
    expect(instantSerial(new Date("1970-01-02T12:00:00Z"))).toBe(25570.5);
  });

  it("Habits: settings, lifetime and EMA today", () => {
    expect(tab("Habits").rows.map((r) => r.slice(0, 10))).toEqual([
      [1, "run", "min", "duration", 30, 7, "0, 30", null, t("2026-03-01T06:00:00Z"), null],
      [
        2,
        "violin",
        "min",
        "duration",
        20,
        7,
        "0, 20",
        null,
        t("2026-03-01T06:00:00Z"),
        t("2026-03-03T05:00:00Z"),
      ],
    ]);
    const a = 2 / 15;
    expect(tab("Habits").rows[0][10]).toBeCloseTo(a * 0.5 * (1 - a) * (1 - a), 4);
    expect(tab("Habits").rows[1][10]).toBeNull(); // archived: not counting today
  });

  it("Entries: every entry, undone ones included, in stored order, then rows to type into", () => {
    const rows = tab("Entries").rows;
    expect(rows.slice(0, 3)).toEqual([
      [
        10,
        d("2026-03-02"),
        "run",
        30,
        "min",
        "chat",
        t("2026-03-02T07:00:00Z"),
        t("2026-03-02T07:05:00Z"),
      ],
      [11, d("2026-03-01"), "run", 15, "min", "button", t("2026-03-02T08:00:00Z"), null],
      [12, d("2026-03-02"), "violin", 20, "min", "chat", t("2026-03-02T09:00:00Z"), null],
    ]);
    expect(rows.slice(3)).toHaveLength(ENTRY_SPARE_ROWS);
    expect(rows.slice(3).every((r) => r.every((c) => c === null))).toBe(true);
  });

  it("Daily: amount, normalised value and EMA per habit, reward and per-group rewards", () => {
    const a = 2 / 15;
    expect(header("Daily")).toEqual([
      "day",
      "reward",
      "reward group 1",
      "reward group 2",
      "run amount",
      "run normalised",
      "run EMA",
      "violin amount",
      "violin normalised",
      "violin EMA",
    ]);
    const rows = tab("Daily").rows;
    expect(rows.map((r) => r[0])).toEqual([d("2026-03-01"), d("2026-03-02"), d("2026-03-03")]);
    const run1 = a * 0.5;
    const run2 = run1 * (1 - a); // the 30 on 03-02 was undone
    expect(rows[0].slice(4, 6)).toEqual([15, 0.5]);
    expect(rows[0][6]).toBeCloseTo(run1, 4);
    expect(rows[1].slice(4, 6)).toEqual([0, 0]);
    expect(rows[1][6]).toBeCloseTo(run2, 4);
    expect(rows[1].slice(7, 9)).toEqual([20, 1]);
    expect(rows[1][9]).toBeCloseTo(a, 4);
    expect(rows[1][1]).toBeCloseTo(1 - (1 - run2 + 1 - a) / 2, 4);
    // one habit per group here: each group's reward is its habit's
    expect(rows[1][2]).toBeCloseTo(1 - (1 - run2), 4);
    expect(rows[1][3]).toBeCloseTo(a, 4);
    // violin archived on 03-03: out of the reward from that day
    expect(rows[2].slice(7)).toEqual([null, null, null]);
    expect(rows[2][1]).toBeCloseTo(run2 * (1 - a), 4);
    expect(chartColumns(tab("Daily"))).toEqual({ domain: 0, series: [1, 6, 9] });
  });

  it("Plans: one row per planned habit, by day, with who produced it", () => {
    expect(tab("Plans").rows).toEqual([
      [d("2026-03-01"), "violin", 20, "min", "heuristic", 0],
      [d("2026-03-02"), "run", 30, "min", "policy:4", 0],
    ]);
  });

  it("Metrics: oldest first; text is left as it is", () => {
    expect(tab("Metrics").rows).toEqual([
      [t("2026-03-01T06:00:00Z"), "@weight", 72.4, "kg"],
      [t("2026-03-02T06:00:00Z"), "@weight", 71.9, "kg"],
    ]);
  });

  it("Coach: training runs with reward before/after and whether activated", () => {
    expect(tab("Coach").rows).toEqual([
      [t("2026-03-02T02:00:00Z"), 3, "nightly", "succeeded", "fitted", 0.4123, 0.5, "yes"],
    ]);
  });

  it("held cells and typed rows stay in place with their note", () => {
    const held = sheetTabs(data(), {
      cells: [{ tab: "Entries", row: "entry:11", col: 3, value: "lots", note: "not a number" }],
      rows: [{ cells: [null, "tomorrow", "run", 5], notes: { 1: "not a day" } }],
    });
    const entries = held.find((x) => x.title === "Entries")!;
    expect(entries.rows[1][3]).toBe("lots");
    expect(entries.notes["1:3"]).toBe("not a number");
    expect(entries.rows[3].slice(0, 4)).toEqual([null, "tomorrow", "run", 5]);
    expect(entries.notes["3:1"]).toBe("not a day");
  });

  it("a person without habits gets headers only (and the rows to type into)", () => {
    const empty = sheetTabs({
      ...data(),
      habits: [],
      entries: [],
      plans: [],
      samples: [],
      runs: [],
    });
    expect(empty.map((x) => x.rows.length)).toEqual([0, ENTRY_SPARE_ROWS, 0, 0, 0, 0]);
  });
});

describe("writing only what changed", () => {
  const info = {
    tabs: [{ sheetId: 0, title: "Sheet1", rowCount: 1000, columnCount: 26 }],
    chartIds: [],
  };

  it("first write: every tab added, sized, frozen and written, and the chart, in one batch", () => {
    const plan = planWrite(sheetTabs(data()), emptyState(), info);
    const kinds = plan.requests.map((r) => Object.keys(r)[0]);
    expect(kinds.filter((k) => k === "addSheet")).toHaveLength(6);
    expect(kinds.filter((k) => k === "addChart")).toHaveLength(1);
    expect(plan.added).toEqual([...TAB_TITLES]);
    expect(Object.keys(plan.state.tabs)).toEqual([...TAB_TITLES]);
  });

  it("the same data again: no request; plans gone: Plans shrinks by a resize alone", () => {
    const first = planWrite(sheetTabs(data()), emptyState(), info);
    expect(planWrite(sheetTabs(data()), first.state, null).requests).toEqual([]);
    const more = data();
    more.plans = [];
    const second = planWrite(sheetTabs(more), first.state, null);
    expect(second.written).toEqual(["Plans"]);
    expect(second.requests.map((r) => Object.keys(r)[0])).toEqual(["updateSheetProperties"]);
  });

  it("a tab already in the sheet (an older mirror's) is resized and rewritten, not added", () => {
    const plan = planWrite(sheetTabs(data()), emptyState(), {
      tabs: [...info.tabs, { sheetId: 7, title: "Entries", rowCount: 1000, columnCount: 26 }],
      chartIds: [],
    });
    expect(plan.added).not.toContain("Entries");
    expect(plan.state.tabs.Entries!.sheetId).toBe(7);
  });
});

describe("A1 ranges", () => {
  it("quotes tab titles and doubles quotes; the fake reads them back", () => {
    expect(tabRange("Entries")).toBe("'Entries'");
    expect(tabRange("Bob's", "A1")).toBe("'Bob''s'!A1");
    expect(parseRange("'Bob''s'!B3")).toEqual({ title: "Bob's", row: 2, col: 1 });
    expect(parseRange("Daily")).toEqual({ title: "Daily", row: 0, col: 0 });
  });
});

describe("failure descriptions", () => {
  const context = { sheetId: "abc", serviceAccount: "sa@p.iam.gserviceaccount.com" };
  const googleError = (status: number, message: string, code: string) => ({
    status,
    response: { status, data: { error: { code: status, message, status: code } } },
    config: { headers: { Authorization: "Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln" } },
    message: `${message} Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln`,
  });

  it("names the fix for errors a person or operator must fix", () => {
    const denied = describeSheetsFailure(
      googleError(403, "The caller does not have permission", "PERMISSION_DENIED"),
      context,
    );
    expect(denied.cause).toBe("not_shared");
    expect(denied.message).toContain("share the sheet with sa@p.iam.gserviceaccount.com (Editor)");
    expect(
      describeSheetsFailure(
        googleError(
          403,
          "Google Sheets API has not been used in project 1 before or it is disabled.",
          "PERMISSION_DENIED",
        ),
        context,
      ).cause,
    ).toBe("api_disabled");
    expect(
      describeSheetsFailure(
        googleError(404, "Requested entity was not found.", "NOT_FOUND"),
        context,
      ).message,
    ).toContain("/settings sheet");
    expect(
      describeSheetsFailure(googleError(401, "invalid", "UNAUTHENTICATED"), context).cause,
    ).toBe("credentials");
    expect(
      describeSheetsFailure(googleError(503, "unavailable", "UNAVAILABLE"), context).cause,
    ).toBe("transient");
    const network = Object.assign(new Error("request failed"), { code: "ECONNREFUSED" });
    expect(describeSheetsFailure(network, context).message).toContain("(ECONNREFUSED)");
  });

  it("never includes the request or a token", () => {
    const text = describeSheetsFailure(
      googleError(403, "denied", "PERMISSION_DENIED"),
      context,
    ).message;
    expect(text).not.toContain("eyJ");
    expect(scrubCredentials("x Bearer abc.def-ghi y")).toBe("x Bearer [redacted] y");
    expect(scrubCredentials("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----")).toBe(
      "[key]",
    );
  });
});
