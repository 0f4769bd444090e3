// Edits in the sheet flow back (issue 14, item 3), end to end: the real bot over HTTP against
// the Bot API emulator (a person links the sheet, turns edits on, reports and edits in the
// chat), the mirror against the local Sheets/Drive fake, the person typing into the fake's cells
// as they would in the browser, and the chat message saying what was taken.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSheetEditsReporter } from "../../src/bot/sheets-notice.js";
import { storePlanOnce } from "../../src/db/plans.js";
import type { Habit, HabitEntry, User } from "../../src/generated/prisma/client.js";
import { daySerial } from "../../src/sheets/layout.js";
import { type SheetsMirror, startSheetsMirror } from "../../src/sheets/mirror.js";
import { onboard, startTestBot, type TestBot } from "../support/telegram-bot.js";
import { startEmulator } from "../support/telegram-emulator.js";
import { FakeSheets } from "./fake-sheets.js";
import { collectingLogger, mirrorConfig, SERVICE_ACCOUNT, testKeyPair } from "./helpers.js";

const USER = 4_242;
const SHEET = "1EditsTestSheet_abcdefghijklmnopqrstu";
const keys = testKeyPair();
const E = { id: 0, day: 1, habit: 2, amount: 3 } as const;
let t: TestBot;
let fake: FakeSheets;
let mirror: SheetsMirror;
let person: User;
let mirrorLines: string[] = [];

const today = "2026-11-22";
const yesterday = "2026-11-21";

async function habit(name: string): Promise<Habit> {
  return t.db.prisma.habit.findFirstOrThrow({ where: { userId: person.id, name } });
}
async function entries(): Promise<HabitEntry[]> {
  return t.db.prisma.habitEntry.findMany({ where: { userId: person.id }, orderBy: { id: "asc" } });
}
/** A tick of the mirror one minute later on the bot's clock. */
async function tick() {
  t.clock.advance(60_000);
  const result = await mirror.tick(t.clock.now());
  if (process.env.DEBUG_SHEETS) console.log(JSON.stringify(result), mirrorLines.slice(-3).join(""));
  return result;
}
/** The bot's messages to the person since `count` of them. */
function messagesSince(count: number): string[] {
  return t.emulator
    .botMessages(USER)
    .slice(count)
    .map((m) => m.text ?? "");
}
/** Row index of the first empty row below the entries (where a person types a new one). */
function firstEmptyEntryRow(): number {
  return fake.rows(SHEET, "Entries")!.length;
}

beforeAll(async () => {
  fake = await new FakeSheets({
    serviceAccount: SERVICE_ACCOUNT,
    publicKey: keys.publicKey,
  }).start();
  fake.create(SHEET);
  const google = mirrorConfig(keys.privateKey, fake.url);
  t = await startTestBot({
    // generous waits: this file often runs next to the 1,000-sheet quota test
    emulator: await startEmulator({ timeoutMs: 30_000 }),
    now: `${today}T09:00:00Z`,
    env: {
      GOOGLE_CLIENT_EMAIL: SERVICE_ACCOUNT,
      GOOGLE_PRIVATE_KEY: keys.privateKey.replace(/\n/g, "\\n"),
      SHEETS_API_ROOT: fake.url,
    },
  });
  await onboard(t, USER, { habits: ["run 30min 5/week", "swim 1h 2/week"] });
  const collected = collectingLogger();
  mirrorLines = collected.lines;
  mirror = startSheetsMirror({
    db: t.db,
    log: collected.log,
    config: google,
    now: t.clock.now,
    manual: true,
    reportEdits: createSheetEditsReporter(t.bot.telegram, t.deps),
  });
});

afterAll(async () => {
  await mirror?.stop();
  await t?.stop();
  await t?.emulator.close();
  await fake?.close();
});

describe("edits in the sheet", () => {
  it("are taken only after /settings sheet edits on", async () => {
    const [noSheet] = await t.emulator.ask(USER, "/settings sheet edits on");
    expect(noSheet.text).toContain("Link a Google Sheet first");
    await t.emulator.ask(
      USER,
      `/settings sheet https://docs.google.com/spreadsheets/d/${SHEET}/edit`,
    );
    person = await t.db.prisma.user.findFirstOrThrow({ where: { telegramId: BigInt(USER) } });
    const [logged] = await t.emulator.ask(USER, "run 30");
    expect(logged.text).toContain("run");
    expect(await tick()).toMatchObject({ succeeded: 1 });
    // edits off: a typed row is not taken, and is overwritten by the next write
    const row = firstEmptyEntryRow();
    fake.type(SHEET, "Entries", row, E.day, daySerial(today));
    fake.type(SHEET, "Entries", row, E.habit, "run");
    fake.type(SHEET, "Entries", row, E.amount, 5);
    await t.emulator.ask(USER, "swim 20");
    expect(await tick()).toMatchObject({ succeeded: 1 });
    expect((await entries()).map((e) => [e.amount, e.source])).toEqual([
      [30, "chat"],
      [20, "chat"],
    ]);
    expect(fake.rows(SHEET, "Entries")).toHaveLength(3);

    const [on] = await t.emulator.ask(USER, "/settings sheet edits on");
    expect(on.text).toContain("Edits in your sheet now come back here");
    const [settings] = await t.emulator.ask(USER, "/settings");
    expect(settings.text).toContain("what you type there comes back here");
  });

  it("a new row becomes an entry, a changed amount a correction, a habit's target an edit; the chat hears it", async () => {
    const [runEntry] = await entries();
    const row = firstEmptyEntryRow();
    fake.type(SHEET, "Entries", row, E.day, daySerial(yesterday));
    fake.type(SHEET, "Entries", row, E.habit, "Swim");
    fake.type(SHEET, "Entries", row, E.amount, 25);
    fake.type(SHEET, "Entries", 1, E.amount, 40); // run 30 → 40
    fake.type(SHEET, "Habits", 1, 4, 45); // run target 30 → 45
    fake.type(SHEET, "Habits", 1, 6, "0, 20, 45, 60"); // and its levels
    const seen = t.emulator.botMessages(USER).length;
    expect(await tick()).toMatchObject({ succeeded: 1, failed: 0 });

    const after = await entries();
    const retracted = after.find((e) => e.id === runEntry.id)!;
    expect(retracted.retractedAt).not.toBeNull();
    expect(retracted.retractionKey).toBe(`sheet:fix:${runEntry.id}`);
    const fromSheet = after.filter((e) => e.source === "sheet");
    // taken in sheet order: the correction (row 1) first, then the new row
    expect(fromSheet.map((e) => [e.day.toISOString().slice(0, 10), e.amount])).toEqual([
      [today, 40],
      [yesterday, 25],
    ]);
    const run = await habit("run");
    expect(run.target).toBe(45);
    expect(run.levels).toEqual([0, 20, 45, 60]);

    await t.emulator.waitFor(() => messagesSince(seen).length > 0, "the edits message");
    const [message] = messagesSince(seen);
    expect(message).toContain("From your Google Sheet:");
    expect(message).toContain(`swim: 25 min on ${yesterday} (new row)`);
    expect(message).toContain(`run on ${today}: 30 min → 40 min (corrected)`);
    expect(message).toContain("run: target 30 → 45");

    // the sheet shows the database again: the corrected entry undone, the new ones with ids
    const shown = fake.rows(SHEET, "Entries")!;
    expect(shown[1][7]).not.toBe("");
    expect(shown.slice(3).map((r) => [r[0] !== "", r[2], r[3], r[5]])).toEqual([
      [true, "run", 40, "sheet"],
      [true, "swim", 25, "sheet"],
    ]);
    // a re-read of the same sheet takes nothing twice
    fake.type(SHEET, "Metrics", 0, 0, "measured at (UTC)");
    const count = after.length;
    const quiet = t.emulator.botMessages(USER).length;
    expect(await tick()).toMatchObject({ failed: 0 });
    expect(await entries()).toHaveLength(count);
    expect(messagesSince(quiet)).toEqual([]);
  });

  it("invalid cells stay in the sheet with a note, are reported once, and nothing invalid is stored", async () => {
    const before = (await entries()).length;
    const row = firstEmptyEntryRow();
    fake.type(SHEET, "Entries", row, E.day, daySerial("2026-11-25")); // the future
    fake.type(SHEET, "Entries", row, E.habit, "run");
    fake.type(SHEET, "Entries", row, E.amount, 10);
    fake.type(SHEET, "Entries", row + 1, E.day, daySerial(today));
    fake.type(SHEET, "Entries", row + 1, E.habit, "yoga"); // no such habit
    fake.type(SHEET, "Entries", row + 1, E.amount, "lots"); // not a number
    fake.type(SHEET, "Habits", 2, 5, 9); // swim 9 days a week
    const seen = t.emulator.botMessages(USER).length;
    expect(await tick()).toMatchObject({ succeeded: 1, failed: 0 });
    expect(await entries()).toHaveLength(before);
    expect((await habit("swim")).daysPerWeek).toBe(2);

    await t.emulator.waitFor(() => messagesSince(seen).length > 0, "the report");
    const [message] = messagesSince(seen);
    expect(message).toContain("Not taken (left in the sheet with a note):");
    expect(message).toContain("2026-11-25 is in the future");
    expect(message).toContain(`Entries (new row) “${today} · yoga · lots”`);
    expect(message).toContain("No habit called “yoga”");
    expect(message).toContain("“lots” is not a number");
    expect(message).toContain("Days per week must be a whole number from 1 to 7");

    // left in place with notes
    const shown = fake.rows(SHEET, "Entries")!;
    expect(shown[row].slice(1, 4)).toEqual(["2026-11-25", "run", 10]);
    expect(fake.note(SHEET, "Entries", row, E.day)).toBe("2026-11-25 is in the future.");
    expect(shown[row + 1].slice(2, 4)).toEqual(["yoga", "lots"]);
    expect(fake.note(SHEET, "Entries", row + 1, E.amount)).toBe("“lots” is not a number.");
    expect(fake.cell(SHEET, "Habits", 2, 5)).toBe(9);
    expect(fake.note(SHEET, "Habits", 2, 5)).toContain("Days per week");

    // reported once: another sync (a new entry in the chat, the sheet touched) says nothing again
    await t.emulator.ask(USER, "run 5");
    fake.type(SHEET, "Metrics", 0, 0, "measured at (UTC)");
    const quiet = t.emulator.botMessages(USER).length;
    expect(await tick()).toMatchObject({ succeeded: 1 });
    expect(messagesSince(quiet)).toEqual([]);
    // still held below the entries, one row further down
    const again = fake.rows(SHEET, "Entries")!;
    expect(again[row + 1].slice(1, 4)).toEqual(["2026-11-25", "run", 10]);

    // fixed by the person: taken
    fake.type(SHEET, "Entries", row + 1, E.day, daySerial(today));
    const fixed = t.emulator.botMessages(USER).length;
    expect(await tick()).toMatchObject({ succeeded: 1 });
    expect((await entries()).filter((e) => e.source === "sheet").map((e) => e.amount)).toEqual([
      40, 25, 10,
    ]);
    await t.emulator.waitFor(() => messagesSince(fixed).length > 0, "the fix taken");
    expect(messagesSince(fixed)[0]).toContain(`run: 10 min on ${today} (new row)`);
  });

  it("conflict: the same habit changed in the chat and in the sheet — the chat wins, and says so", async () => {
    fake.type(SHEET, "Habits", 1, 5, 3); // run 5 → 3 days in the sheet
    await t.emulator.ask(USER, "/habits edit run days 4"); // and 5 → 4 in the chat
    const seen = t.emulator.botMessages(USER).length;
    expect(await tick()).toMatchObject({ succeeded: 1 });
    expect((await habit("run")).daysPerWeek).toBe(4);
    expect(fake.cell(SHEET, "Habits", 1, 5)).toBe(4);
    await t.emulator.waitFor(() => messagesSince(seen).length > 0, "the conflict message");
    expect(messagesSince(seen)[0]).toContain(
      "run: changed here and in the sheet since my last copy — I kept what you told me here",
    );
  });

  it("conflict: an entry undone in the chat and changed in the sheet stays undone", async () => {
    const latest = (await entries()).at(-1)!;
    const rowOf = fake.rows(SHEET, "Entries")!.findIndex((r) => r[0] === Number(latest.id));
    fake.type(SHEET, "Entries", rowOf, E.amount, 12);
    t.clock.advance(1_000);
    await t.emulator.ask(USER, "/undo");
    const seen = t.emulator.botMessages(USER).length;
    const count = (await entries()).length;
    expect(await tick()).toMatchObject({ succeeded: 1 });
    expect(await entries()).toHaveLength(count);
    await t.emulator.waitFor(() => messagesSince(seen).length > 0, "the conflict message");
    expect(messagesSince(seen)[0]).toContain("I kept what you told me here");
  });

  it("today's planned amount typed into Plans becomes a plan revision (via the sheet)", async () => {
    const run = await habit("run");
    await storePlanOnce(t.db, person.id, today, {
      items: [{ habitId: run.id, level: 2, amount: 45 }],
      logProb: null,
      producedBy: "heuristic",
      modelId: null,
    });
    expect(await tick()).toMatchObject({ succeeded: 1 });
    expect(fake.rows(SHEET, "Plans")![1].slice(1, 3)).toEqual(["run", 45]);
    fake.type(SHEET, "Plans", 1, 2, 20);
    const seen = t.emulator.botMessages(USER).length;
    expect(await tick()).toMatchObject({ succeeded: 1 });
    await t.emulator.waitFor(() => messagesSince(seen).length > 0, "the plan message");
    expect(messagesSince(seen)[0]).toContain("today's plan, run: 45 min → 20 min");
    const revisions = await t.db.prisma.planRevision.findMany({ where: { userId: person.id } });
    expect(revisions.map((r) => [r.fromAmount, r.toAmount, r.via])).toEqual([[45, 20, "sheet"]]);
    // the plan as produced, then as revised, with who changed it
    expect(
      fake
        .rows(SHEET, "Plans")!
        .slice(1)
        .map((r) => r.slice(1)),
    ).toEqual([
      ["run", 45, "min", "heuristic", 0],
      ["run", 20, "min", "you (sheet)", 1],
    ]);
    // the same cell read again changes nothing
    fake.type(SHEET, "Metrics", 0, 0, "measured at (UTC)");
    const quiet = t.emulator.botMessages(USER).length;
    expect(await tick()).toMatchObject({ failed: 0 });
    expect(await t.db.prisma.planRevision.count({ where: { userId: person.id } })).toBe(1);
    expect(messagesSince(quiet)).toEqual([]);
  });

  it("edits off again: the sheet is a copy, cells held with a note are cleared", async () => {
    // the “yoga · lots” row typed earlier is still held below the entries, with its note
    expect(fake.rows(SHEET, "Entries")!.some((r) => r[2] === "yoga")).toBe(true);
    const [off] = await t.emulator.ask(USER, "/settings sheet edits off");
    expect(off.text).toContain("no longer come back");
    await t.emulator.ask(USER, "run 1");
    const count = (await entries()).length;
    expect(await tick()).toMatchObject({ succeeded: 1 });
    expect(fake.rows(SHEET, "Entries")!.some((r) => r[2] === "yoga")).toBe(false);
    expect(fake.rows(SHEET, "Entries")).toHaveLength(1 + count);
  });
});
