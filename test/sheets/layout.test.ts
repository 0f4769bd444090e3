// The pure parts of the mirror: the tabs' rows from a person's data, A1 ranges, and how a
// failed Google call becomes a last_error line.
import { describe, expect, it } from "vitest";
import { describeSheetsFailure, scrubCredentials } from "../../src/sheets/errors.js";
import { tabRange } from "../../src/sheets/google.js";
import { type PersonSheetData, sheetTabs, TAB_TITLES } from "../../src/sheets/layout.js";
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
      },
      {
        id: 2,
        name: "violin",
        unit: "min",
        spec: spec(2, "violin", 20),
        startDay: "2026-03-01",
        endDay: "2026-03-03",
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
      { day: "2026-03-02", producedBy: "policy:4", items: [{ habitId: 1, amount: 30 }] },
      { day: "2026-03-01", producedBy: "heuristic", items: [{ habitId: 2, amount: 20 }] },
    ],
    metrics: [{ id: 5, name: "@weight", unit: "kg" }],
    samples: [
      { id: 2n, metricId: 5, value: 71.9, measuredAt: new Date("2026-03-02T06:00:00Z") },
      { id: 1n, metricId: 5, value: 72.4, measuredAt: new Date("2026-03-01T06:00:00Z") },
    ],
  };
}

describe("sheet layout", () => {
  const tabs = sheetTabs(data());
  const tab = (title: string) => tabs.find((t) => t.title === title)!.rows;

  it("has the four tabs in order", () => {
    expect(tabs.map((t) => t.title)).toEqual([...TAB_TITLES]);
  });

  it("Entries: every entry, undone ones included, in stored order", () => {
    expect(tab("Entries").slice(1)).toEqual([
      [
        "2026-03-02",
        "run",
        30,
        "min",
        "chat",
        "2026-03-02T07:00:00.000Z",
        "2026-03-02T07:05:00.000Z",
      ],
      ["2026-03-01", "run", 15, "min", "button", "2026-03-02T08:00:00.000Z", ""],
      ["2026-03-02", "violin", 20, "min", "chat", "2026-03-02T09:00:00.000Z", ""],
    ]);
  });

  it("Daily: reward and EMAs recomputed from the log; blank when a habit is not active", () => {
    const a = 2 / 15;
    const rows = tab("Daily");
    expect(rows[0]).toEqual(["day", "reward", "run EMA", "violin EMA"]);
    expect(rows.map((r) => r[0]).slice(1)).toEqual(["2026-03-01", "2026-03-02", "2026-03-03"]);
    const run1 = a * 0.5;
    const run2 = run1 * (1 - a); // the 30 on 03-02 was undone
    expect(rows[1][2]).toBeCloseTo(run1, 4);
    expect(rows[2][2]).toBeCloseTo(run2, 4);
    expect(rows[2][3]).toBeCloseTo(a, 4);
    expect(rows[2][1]).toBeCloseTo(1 - (1 - run2 + 1 - a) / 2, 4);
    // violin archived on 03-03: out of the reward from that day
    expect(rows[3][3]).toBe("");
    expect(rows[3][1]).toBeCloseTo(run2 * (1 - a), 4);
  });

  it("Plans: one row per planned habit, by day", () => {
    expect(tab("Plans").slice(1)).toEqual([
      ["2026-03-01", "violin", 20, "min", "heuristic"],
      ["2026-03-02", "run", 30, "min", "policy:4"],
    ]);
  });

  it("Metrics: oldest first; text is left as it is (written RAW, never run as a formula)", () => {
    expect(tab("Metrics").slice(1)).toEqual([
      ["2026-03-01T06:00:00.000Z", "@weight", 72.4, "kg"],
      ["2026-03-02T06:00:00.000Z", "@weight", 71.9, "kg"],
    ]);
  });

  it("a person without habits gets headers only", () => {
    const empty = sheetTabs({ ...data(), habits: [], entries: [], plans: [], samples: [] });
    expect(empty.map((t) => t.rows.length)).toEqual([1, 1, 1, 1]);
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
