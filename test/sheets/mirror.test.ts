// The Google Sheets mirror end to end: the app's database (PGlite, or real Postgres with
// TEST_DATABASE_URL), the real @googleapis/sheets client with a self-signed service-account JWT,
// and a local fake of the Sheets v4 API that verifies that JWT and keeps the sheets in memory.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { retractEntry } from "../../src/db/entries.js";
import { enqueueCoalesced } from "../../src/db/outbox.js";
import { updateUserSettings } from "../../src/db/users.js";
import type { Logger } from "../../src/logger.js";
import {
  type SheetsMirror,
  type SheetsNotice,
  startSheetsMirror,
} from "../../src/sheets/mirror.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { FakeSheets } from "./fake-sheets.js";
import {
  addEntry,
  addPlanAndWeight,
  collectingLogger,
  createPerson,
  mirrorConfig,
  type Person,
  SERVICE_ACCOUNT,
  testKeyPair,
  utcDay,
} from "./helpers.js";

const keys = testKeyPair();
let tdb: TestDatabase;
let fake: FakeSheets;
let log: Logger;
let lines: string[];
const mirrors: SheetsMirror[] = [];
const notices: SheetsNotice[] = [];

// the database stamps habits with its own clock, so the mirror's clock starts from the real one
const t0 = new Date();
const today = utcDay(t0);
const yesterday = utcDay(t0, -1);
const later = (ms: number) => new Date(t0.getTime() + ms);

function mirror(privateKey = keys.privateKey, tuning = {}): SheetsMirror {
  const m = startSheetsMirror({
    db: tdb.db,
    log,
    config: mirrorConfig(privateKey, fake.url),
    now: () => t0,
    manual: true,
    instance: "test",
    // every tick scans (production scans once a minute)
    tuning: { scanIntervalMs: 0, ...tuning },
    notifyPerson: async (notice) => {
      notices.push(notice);
    },
  });
  mirrors.push(m);
  return m;
}

async function lastEvent(userId: number) {
  return tdb.db.prisma.outboxEvent.findFirstOrThrow({
    where: { userId, kind: "sheets_mirror" },
    orderBy: { id: "desc" },
  });
}

beforeAll(async () => {
  tdb = await createTestDatabase();
  fake = await new FakeSheets({
    serviceAccount: SERVICE_ACCOUNT,
    publicKey: keys.publicKey,
  }).start();
  ({ log, lines } = collectingLogger());
});

afterAll(async () => {
  for (const m of mirrors) await m.stop();
  await fake?.close();
  await tdb?.dispose();
});

describe("sheets mirror", () => {
  let alice: Person;
  let first: bigint;
  let m: SheetsMirror;

  it("first sync creates the tabs and writes every row", async () => {
    fake.create("sheet-alice");
    alice = await createPerson(tdb.db, "sheet-alice");
    first = await addEntry(tdb.db, alice, alice.run, yesterday, 30);
    await addEntry(tdb.db, alice, alice.odd, today, 20);
    await addPlanAndWeight(tdb.db, alice, today, new Date(`${today}T06:30:00.000Z`));
    m = mirror();

    const result = await m.tick(later(0));
    expect(result).toMatchObject({
      enabled: true,
      linked: 1,
      enqueued: 1,
      succeeded: 1,
      failed: 0,
    });
    expect(fake.tabTitles("sheet-alice")).toEqual([
      "Sheet1",
      "Habits",
      "Entries",
      "Daily",
      "Plans",
      "Metrics",
      "Coach",
    ]);
    // every tab, its formats, the frozen header and the chart: one spreadsheets.get to learn the
    // tabs that exist, one batchUpdate to write everything
    expect(fake.writes().map((r) => r.path)).toEqual(["/v4/spreadsheets/sheet-alice:batchUpdate"]);
    expect(fake.requests.filter((r) => r.kind === "read").length).toBe(1);
    for (const title of ["Habits", "Entries", "Daily", "Plans", "Metrics", "Coach"]) {
      expect(fake.grid("sheet-alice", title).frozen).toBe(1);
    }

    const habits = fake.rows("sheet-alice", "Habits")!;
    expect(habits[0]).toEqual([
      "id",
      "habit",
      "unit",
      "kind",
      "target",
      "days/week",
      "levels",
      "exclusive group",
      "created (UTC)",
      "archived (UTC)",
      "EMA today",
    ]);
    expect(habits.slice(1).map((r) => r.slice(0, 8))).toEqual([
      [alice.run.id, "run", "min", "duration", 30, 7, "0, 15, 30, 45", ""],
      [
        alice.odd.id,
        '=HYPERLINK("http://evil.example","x")',
        "+reps",
        "count",
        20,
        7,
        "0, 10, 20",
        "",
      ],
    ]);

    const entries = fake.rows("sheet-alice", "Entries")!;
    expect(entries[0]).toEqual([
      "id",
      "day",
      "habit",
      "amount",
      "unit",
      "source",
      "reported at (UTC)",
      "undone at (UTC)",
    ]);
    expect(entries.slice(1).map((r) => r.slice(1, 6).concat(r[7]))).toEqual([
      [yesterday, "run", 30, "min", "chat", ""],
      [today, '=HYPERLINK("http://evil.example","x")', 20, "+reps", "chat", ""],
    ]);
    expect(entries[1][0]).toBe(Number(first));
    expect(entries[1][6]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    // days are dates (serial numbers with a date format), not text
    expect(typeof fake.cell("sheet-alice", "Entries", 1, 1)).toBe("number");
    expect(fake.numberFormat("sheet-alice", "Entries", 1, 1)).toEqual({
      type: "DATE",
      pattern: "yyyy-mm-dd",
    });
    // room to type new entries below the last one
    expect(fake.grid("sheet-alice", "Entries").rowCount).toBe(1 + 2 + 20);

    const daily = fake.rows("sheet-alice", "Daily")!;
    const odd = '=HYPERLINK("http://evil.example","x")';
    expect(daily[0]).toEqual([
      "day",
      "reward",
      "run amount",
      "run normalised",
      "run EMA",
      `${odd} amount`,
      `${odd} normalised`,
      `${odd} EMA`,
    ]);
    expect(daily.slice(1).map((r) => r[0])).toEqual([yesterday, today]);
    // run: 30 of 30 daily → n = 1, α = 2/15 → EMA 0.1333 after yesterday, decays today
    expect(daily[1].slice(2, 5)).toEqual([30, 1, expect.closeTo(2 / 15, 4)]);
    expect(daily[2][4]).toBeCloseTo((2 / 15) * (13 / 15), 4);
    expect(daily[2].slice(5, 7)).toEqual([20, 1]);
    expect(daily[2][7]).toBeCloseTo(2 / 15, 4);
    // the second habit was created today (its first entry is today): no EMA yesterday
    expect(daily[1][7]).toBe("");
    // the one chart: reward and both EMAs by day
    const charts = fake.charts("sheet-alice");
    expect(charts).toHaveLength(1);
    const basic = charts[0].spec.basicChart as {
      series: { series: { sourceRange: { sources: { startColumnIndex: number }[] } } }[];
    };
    expect(basic.series.map((x) => x.series.sourceRange.sources[0].startColumnIndex)).toEqual([
      1, 4, 7,
    ]);

    expect(fake.rows("sheet-alice", "Plans")).toEqual([
      ["day", "habit", "planned amount", "unit", "produced by", "revision"],
      [today, "run", 30, "min", "heuristic", 0],
      [today, '=HYPERLINK("http://evil.example","x")', 10, "+reps", "heuristic", 0],
    ]);
    expect(fake.rows("sheet-alice", "Metrics")).toEqual([
      ["measured at (UTC)", "metric", "value", "unit"],
      [`${today} 06:30:00`, "weight", 72.4, "kg"],
    ]);
    expect(fake.rows("sheet-alice", "Coach")).toEqual([
      [
        "trained at (UTC)",
        "run",
        "trigger",
        "status",
        "behaviour",
        "reward before",
        "reward after",
        "activated",
      ],
    ]);
    const event = await lastEvent(alice.user.id);
    expect(event.doneAt).not.toBeNull();
    expect(event.attempts).toBe(0);
    expect(event.lastError).toBeNull();
  });

  it("formula-looking text stays text: every value is written as a string value", async () => {
    // the fake stores formulaValue (and USER_ENTERED "=…" text) as a formula object
    for (const title of ["Habits", "Entries", "Daily", "Plans", "Metrics", "Coach"]) {
      for (const row of fake.rows("sheet-alice", title)!) {
        for (const cell of row) expect(typeof cell === "object").toBe(false);
      }
    }
  });

  it("makes no Google call when nothing changed", async () => {
    const before = fake.callCount();
    const result = await m.tick(later(60_000));
    expect(result).toMatchObject({ linked: 1, enqueued: 0, processed: 0 });
    expect(fake.callCount()).toBe(before);
  });

  it("a new entry and an /undo show up on the next tick", async () => {
    await addEntry(tdb.db, alice, alice.run, today, 45);
    expect(await retractEntry(tdb.db, alice.user.id, first, later(90_000))).toBe(true);
    const result = await m.tick(later(120_000));
    expect(result).toMatchObject({ enqueued: 1, succeeded: 1 });
    const entries = fake.rows("sheet-alice", "Entries")!;
    expect(entries).toHaveLength(4);
    expect(entries[1][7]).toBe(later(90_000).toISOString().slice(0, 19).replace("T", " "));
    expect(entries[3].slice(1, 4)).toEqual([today, "run", 45]);
    expect(entries[3][7]).toBe("");
    // the undone 30 no longer counts: run starts today at 45/30 → n = 1.5
    const daily = fake.rows("sheet-alice", "Daily")!;
    const runEma = daily[0].indexOf("run EMA");
    const dayRow = (day: string) => daily.find((r) => r[0] === day);
    // yesterday: no run counted (the row is gone when nothing else started earlier)
    expect([undefined, 0, ""]).toContain(dayRow(yesterday)?.[runEma]);
    expect(dayRow(today)![runEma]).toBeCloseTo((2 / 15) * 1.5, 4);
    // and once more nothing to do
    const before = fake.callCount();
    expect(await m.tick(later(180_000))).toMatchObject({ enqueued: 0, processed: 0 });
    expect(fake.callCount()).toBe(before);
  });

  it("with edits off, hand edits are overwritten at the next sync (Drive says the sheet changed)", async () => {
    fake.type("sheet-alice", "Plans", 3, 0, "typed by hand");
    fake.type("sheet-alice", "Plans", 1, 2, 99);
    await addEntry(tdb.db, alice, alice.odd, today, 5);
    await m.tick(later(240_000));
    expect(fake.rows("sheet-alice", "Plans")).toHaveLength(3);
    expect(fake.rows("sheet-alice", "Plans")![1][2]).toBe(30);
  });

  it("writes only the blocks that changed, and nothing for an unchanged person", async () => {
    await addEntry(tdb.db, alice, alice.run, today, 2);
    const before = fake.requests.length;
    await m.tick(later(250_000));
    const calls = fake.requests.slice(before);
    expect(calls.filter((r) => r.kind === "write").length).toBe(1);
    expect(calls.filter((r) => r.kind === "read").length).toBe(0);
    const body = calls.find((r) => r.kind === "write")!.body as { requests: object[] };
    const kinds = body.requests.map((r) => Object.keys(r)[0]);
    // Entries grows by a row (resize + its last block), Daily/Habits change their last block;
    // Plans, Metrics and Coach are untouched
    const cellsOf = body.requests
      .filter((r): r is { updateCells: { start: { rowIndex: number } } } => "updateCells" in r)
      .map((r) => r.updateCells.start.rowIndex);
    expect(kinds.filter((k) => k === "updateCells").length).toBe(3);
    expect(cellsOf.every((row) => row === 1)).toBe(true);
    expect(kinds).toContain("updateSheetProperties");
    expect(kinds).not.toContain("addSheet");

    // an event for a person whose sheet would not change costs no write
    await enqueueCoalesced(
      tdb.db,
      "sheets_mirror",
      alice.user.id,
      { sheetId: "sheet-alice", fingerprint: "forced" },
      later(260_000),
    );
    const again = fake.requests.length;
    expect(await m.tick(later(260_000))).toMatchObject({ processed: 1, succeeded: 1 });
    expect(fake.requests.slice(again).filter((r) => r.kind !== "drive")).toEqual([]);
  });

  it("a sheet not shared with the service account: backoff, a clear last error, then recovery", async () => {
    fake.create("sheet-bob", []);
    const bob = await createPerson(tdb.db, "sheet-bob");
    await addEntry(tdb.db, bob, bob.run, today, 30);
    const at = later(300_000);
    const r1 = await m.tick(at);
    expect(r1).toMatchObject({ enqueued: 1, failed: 1, gaveUp: 0 });
    let event = await lastEvent(bob.user.id);
    expect(event.doneAt).toBeNull();
    expect(event.attempts).toBe(1);
    expect(event.lastError).toContain(`share the sheet with ${SERVICE_ACCOUNT}`);
    expect(event.lastError).toContain("403");
    expect(event.nextAttemptAt.getTime()).toBe(at.getTime() + 30_000);
    // the person is told once, with the fix
    const toBob = () => notices.filter((n) => n.userId === bob.user.id);
    expect(toBob()).toEqual([
      {
        userId: bob.user.id,
        sheetId: "sheet-bob",
        cause: "not_shared",
        message: expect.stringContaining(`share the sheet with ${SERVICE_ACCOUNT}`),
      },
    ]);

    // not due yet: no call, and no second event for the same person
    const before = fake.callCount();
    expect(await m.tick(new Date(at.getTime() + 10_000))).toMatchObject({
      enqueued: 0,
      processed: 0,
    });
    expect(fake.callCount()).toBe(before);

    // second failure doubles the delay
    const at2 = new Date(at.getTime() + 30_000);
    expect(await m.tick(at2)).toMatchObject({ failed: 1 });
    event = await lastEvent(bob.user.id);
    expect(event.attempts).toBe(2);
    expect(event.nextAttemptAt.getTime()).toBe(at2.getTime() + 60_000);
    expect(toBob()).toHaveLength(1); // not again on a retry

    fake.share("sheet-bob");
    const at3 = new Date(at2.getTime() + 60_000);
    expect(await m.tick(at3)).toMatchObject({ enqueued: 0, succeeded: 1, failed: 0 });
    event = await lastEvent(bob.user.id);
    expect(event.doneAt).toEqual(at3);
    expect(event.lastError).toBeNull();
    expect(
      fake
        .rows("sheet-bob", "Entries")!
        .slice(1)
        .map((r) => r[3]),
    ).toEqual([30]);
    expect(await tdb.db.prisma.outboxEvent.count({ where: { userId: bob.user.id } })).toBe(1);
  });

  it("a missing sheet: 404 recorded with the fix; linking another sheet retries at once", async () => {
    const carol = await createPerson(tdb.db, "sheet-nonexistent");
    await addEntry(tdb.db, carol, carol.run, today, 10);
    const at = later(600_000);
    expect(await m.tick(at)).toMatchObject({ failed: 1 });
    const event = await lastEvent(carol.user.id);
    expect(event.lastError).toContain("sheet sheet-nonexistent was not found (404)");
    expect(event.lastError).toContain("/settings sheet");
    expect(notices.filter((n) => n.userId === carol.user.id).map((n) => n.cause)).toEqual([
      "not_found",
    ]);

    fake.create("sheet-carol");
    await updateUserSettings(tdb.db, carol.user.id, { sheetId: "sheet-carol" });
    // long before the backoff ends
    expect(await m.tick(new Date(at.getTime() + 1_000))).toMatchObject({ succeeded: 1 });
    expect(fake.rows("sheet-carol", "Entries")).toHaveLength(2);
  });

  it("gives up after maxAttempts and tries again when the data changes", async () => {
    const quick = mirror(keys.privateKey, { maxAttempts: 2 });
    fake.create("sheet-dave", []);
    const dave = await createPerson(tdb.db, "sheet-dave");
    await addEntry(tdb.db, dave, dave.run, today, 10);
    const at = later(900_000);
    await quick.tick(at);
    expect(await quick.tick(new Date(at.getTime() + 30_000))).toMatchObject({ gaveUp: 1 });
    const event = await lastEvent(dave.user.id);
    expect(event.doneAt).not.toBeNull();
    expect(event.lastError).toMatch(/^gave up after 2 attempts: .*share the sheet with/);
    // nothing changed: not retried
    expect(await quick.tick(new Date(at.getTime() + 90_000))).toMatchObject({ processed: 0 });
    fake.share("sheet-dave");
    await addEntry(tdb.db, dave, dave.run, today, 5);
    expect(await quick.tick(new Date(at.getTime() + 120_000))).toMatchObject({
      enqueued: 1,
      succeeded: 1,
    });
  });

  it("retries a transient Google failure (503) with backoff", async () => {
    await addEntry(tdb.db, alice, alice.run, today, 1);
    fake.failNext(1);
    const at = later(1_200_000);
    expect(await m.tick(at)).toMatchObject({ failed: 1 });
    expect((await lastEvent(alice.user.id)).lastError).toContain("answered 503");
    expect(await m.tick(new Date(at.getTime() + 30_000))).toMatchObject({ succeeded: 1 });
  });

  it("a JWT signed with another key is refused (401) and recorded as a credentials problem", async () => {
    const wrong = mirror(testKeyPair().privateKey);
    fake.create("sheet-erin");
    const erin = await createPerson(tdb.db, "sheet-erin");
    await addEntry(tdb.db, erin, erin.run, today, 10);
    // alice's mirror would pick erin up too: only the wrong-key one ticks here
    expect(await wrong.tick(later(1_300_000))).toMatchObject({ failed: 1 });
    const event = await lastEvent(erin.user.id);
    expect(event.lastError).toContain("(401): check GOOGLE_CLIENT_EMAIL and GOOGLE_PRIVATE_KEY");
    // the operator's problem, not the person's: nobody is messaged about it
    expect(notices.filter((n) => n.userId === erin.user.id)).toEqual([]);
    expect(fake.requests.at(-1)!.status).toBe(401);
    expect(await m.tick(new Date(later(1_300_000).getTime() + 30_000))).toMatchObject({
      succeeded: 1,
    });
  });

  it("unlinking the sheet ends pending work without calling Google", async () => {
    fake.create("sheet-frank", []);
    const frank = await createPerson(tdb.db, "sheet-frank");
    await addEntry(tdb.db, frank, frank.run, today, 10);
    const at = later(1_500_000);
    expect(await m.tick(at)).toMatchObject({ failed: 1 });
    await updateUserSettings(tdb.db, frank.user.id, { sheetId: null });
    const before = fake.callCount();
    expect(await m.tick(new Date(at.getTime() + 30_000))).toMatchObject({ succeeded: 1 });
    expect(fake.callCount()).toBe(before);
    expect((await lastEvent(frank.user.id)).doneAt).not.toBeNull();
  });

  it("without Google credentials the mirror is off", async () => {
    const { log: offLog, lines: offLines } = collectingLogger();
    const off = startSheetsMirror({
      db: tdb.db,
      log: offLog,
      config: { google: undefined, sheetsApiRoot: fake.url },
      manual: true,
    });
    const before = fake.callCount();
    expect(await off.tick()).toMatchObject({ enabled: false, processed: 0 });
    await off.stop();
    expect(fake.callCount()).toBe(before);
    expect(offLines.join("")).toContain("Google Sheets mirror off");
  });

  it("scheduled mode ticks once at start and stops cleanly", async () => {
    const { log: schedLog, lines: schedLines } = collectingLogger();
    const scheduled = startSheetsMirror({
      db: tdb.db,
      log: schedLog,
      config: mirrorConfig(keys.privateKey, fake.url),
      now: () => later(2_000_000),
    });
    await scheduled.stop(); // waits for the start-up tick
    const text = schedLines.join("");
    expect(text).toContain("Google Sheets mirror started");
    expect(text).not.toContain("tick failed");
  });

  it("every request carried a verified self-signed JWT of the service account", () => {
    const verified = fake.requests.filter((r) => r.caller !== undefined);
    expect(verified.length).toBeGreaterThan(10);
    expect(new Set(verified.map((r) => r.caller))).toEqual(new Set([SERVICE_ACCOUNT]));
  });

  it("neither the private key nor a bearer token reaches the logs or the database", async () => {
    const keyBody = keys.privateKey
      .split("\n")
      .filter((l) => l !== "" && !l.startsWith("-----"))
      .map((l) => l.slice(0, 40));
    const logged = lines.join("");
    expect(logged).toContain("sheet mirrored");
    expect(logged).toContain("share the sheet with");
    const errors = (await tdb.db.prisma.outboxEvent.findMany()).map((e) => e.lastError ?? "");
    for (const text of [logged, errors.join("\n")]) {
      for (const part of keyBody) expect(text).not.toContain(part);
      expect(text).not.toContain("PRIVATE KEY");
      expect(text).not.toMatch(/Bearer\s+ey/);
      expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
    }
  });
});
