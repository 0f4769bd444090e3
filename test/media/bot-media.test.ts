// /stats, /weight, /metric, /export and /deleteme driven end to end: the real bot over HTTP
// against the Bot API emulator, on a fresh database.
import { strFromU8, unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pngSize } from "../../src/app/charts/charts.js";
import { onboard, startTestBot, type TestBot } from "../support/telegram-bot.js";
import { decodePng, distinctColours } from "../support/telegram-emulator.js";
import { countRowsOf, EXPORT_FILES } from "./fixtures.js";

let t: TestBot;
beforeAll(async () => {
  t = await startTestBot({ now: "2026-11-22T09:00:00Z" });
  await onboard(t, 301, { habits: ["run 30min 5/week", "violin 20min daily"] });
  await t.emulator.ask(301, "run 30, violin 20");
  await t.emulator.ask(301, "violin 15 yesterday");
});
afterAll(async () => {
  await t?.stop();
});

/** Rows per table whose user_id column is `userId`, for every such table in the schema. */
async function rowsReferring(userId: number): Promise<Record<string, number>> {
  const tables = await t.db.prisma.$queryRawUnsafe<{ table_name: string }[]>(
    `SELECT table_name FROM information_schema.columns
      WHERE column_name = 'user_id' AND table_schema = current_schema()`,
  );
  expect(tables.map((r) => r.table_name)).toContain("habit_entries");
  const found: Record<string, number> = {};
  for (const { table_name } of tables) {
    const [row] = await t.db.prisma.$queryRawUnsafe<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM "${table_name}" WHERE user_id = $1`,
      userId,
    );
    if (row.n > 0) found[table_name] = row.n;
  }
  const [users] = await t.db.prisma.$queryRawUnsafe<{ n: number }[]>(
    "SELECT count(*)::int AS n FROM users WHERE id = $1",
    userId,
  );
  if (users.n > 0) found.users = users.n;
  return found;
}

async function personOf(telegramId: number) {
  return t.db.prisma.user.findUniqueOrThrow({ where: { telegramId: BigInt(telegramId) } });
}

describe("/stats", () => {
  it("sends a phone-sized PNG chart with a summary", async () => {
    const [reply] = await t.emulator.ask(301, "/stats");
    expect(reply.photo).toBeDefined();
    const size = pngSize(reply.photo!.bytes!);
    expect(size?.width).toBe(1100);
    expect(size!.height).toBeGreaterThan(600);
    // the whole image decodes (every chunk's CRC, the zlib stream, the row filters), is
    // phone-sized (portrait-ish, not a banner or a poster) and is not blank
    const image = decodePng(reply.photo!.bytes!);
    expect(image.width).toBe(1100);
    expect(image.height).toBeGreaterThan(600);
    expect(image.height).toBeLessThan(2000);
    expect(distinctColours(image)).toBeGreaterThan(10);
    expect(reply.photo!.width).toBe(image.width);
    expect(reply.photo!.height).toBe(image.height);
    expect(reply.caption).toContain("Last 30 days (Sat 24 Oct – Sun 22 Nov)");
    // the average covers only days on which the habits existed (yesterday and today)
    expect(reply.caption).toMatch(/Daily reward: 0\.[1-9]\d on average/);
    expect(reply.caption).toContain("Logging streak: 2 days in a row");
    expect(reply.caption).toMatch(/Best: (run|violin) — EMA \d\.\d\d/);
    expect(reply.caption).toMatch(/Weakest: (run|violin) — EMA \d\.\d\d/);
  });

  it("accepts 7 to 365 days and explains anything else", async () => {
    const [year] = await t.emulator.ask(301, "/stats 365");
    expect(year.caption).toContain("Last 365 days");
    const [week] = await t.emulator.ask(301, "/stats 7");
    expect(week.caption).toContain("Last 7 days");
    const [bad] = await t.emulator.ask(301, "/stats 3");
    expect(bad.text).toBe(
      'I can show the last 7 to 365 days (e.g. /stats 7, /stats 90, /stats year), not "3".',
    );
  });

  it("points people without an account to /start", async () => {
    const [reply] = await t.emulator.ask(399, "/stats");
    expect(reply.text).toContain("/start");
  });
});

describe("/weight and /metric", () => {
  it("records a sample, stores a re-delivered message once, and charts the trend", async () => {
    const update = t.emulator.sendText(301, "/weight 72,4 kg");
    await t.emulator.waitForProcessed(update.update_id);
    expect(t.emulator.lastBotMessage(301).text).toMatch(/^Recorded weight 72\.4 kg/);
    t.emulator.redeliver(update);
    const [second] = await t.emulator.ask(301, "/weight 72.1");
    expect(second.text).toMatch(/^Recorded weight 72\.1 kg/);
    expect(second.text).toMatch(/Change since .*: −0\.3 kg/);
    const person = await personOf(301);
    expect(await t.db.prisma.metricSample.count({ where: { userId: person.id } })).toBe(2);

    const [chart] = await t.emulator.ask(301, "/weight");
    const image = decodePng(chart.photo!.bytes!);
    expect(image.width).toBe(1100);
    expect(image.height).toBeGreaterThan(300);
    expect(distinctColours(image)).toBeGreaterThan(10);
    expect(chart.caption).toMatch(/^Latest weight: 72\.1 kg/);
  });

  it("explains bad numbers precisely", async () => {
    const [word] = await t.emulator.ask(301, "/weight seventy");
    expect(word.text).toBe(
      '"seventy" is not a number. Send it like /weight 72.4 (a dot or comma for decimals).',
    );
    const [typo] = await t.emulator.ask(301, "/weight 724");
    expect(typo.text).toContain("724 kg is not a plausible body weight");
    const [unit] = await t.emulator.ask(301, "/weight 160 lb");
    expect(unit.text).toBe("Your weight is recorded in kg. 160 lb is 72.6 kg: send /weight 72.6.");
  });

  it("sets a goal and tracks any metric by name", async () => {
    const [goal] = await t.emulator.ask(301, "/weight goal 70 1");
    expect(goal.text).toContain("Goal for weight: 70 kg ±1 kg");
    const [waist] = await t.emulator.ask(301, "/metric waist 81 cm");
    expect(waist.text).toMatch(/^Recorded waist 81 cm/);
    const [list] = await t.emulator.ask(301, "/metric");
    expect(list.text).toContain("• waist: 81 cm");
    expect(list.text).toContain("• weight: 72.1 kg");
  });
});

describe("/export", () => {
  it("sends a ZIP with CSV files of everything stored", async () => {
    await t.emulator.ask(301, "run 5");
    const [undone] = await t.emulator.ask(301, "/undo");
    expect(undone.text).toMatch(/^Undone: run 5 min, today/);
    await t.emulator.ask(301, "/plan");
    await t.emulator.ask(302, "/start"); // someone else, whose rows must not be in the export
    const [reply] = await t.emulator.ask(301, "/export");
    expect(reply.document?.filename).toBe("coachrl-export-2026-11-22.zip");
    const files = unzipSync(new Uint8Array(reply.document!.bytes!));
    expect(Object.keys(files).sort()).toEqual(EXPORT_FILES);
    const csv = (name: string) => strFromU8(files[name]).trim().split("\r\n");
    const user = csv("user.csv");
    expect(user).toHaveLength(2);
    expect(user[1]).toContain("User301");
    expect(user.join("\n")).not.toContain("User302");
    const entries = csv("entries.csv");
    expect(entries).toHaveLength(1 + 4);
    expect(entries.slice(1).some((line) => line.includes(",violin,2026-11-21,15,"))).toBe(true);
    // undone entries are exported too, marked retracted
    const header = entries[0].split(",");
    const retracted = header.indexOf("retractedAt");
    expect(retracted).toBeGreaterThan(-1);
    expect(entries.slice(1).filter((l) => l.split(",")[retracted] !== "")).toHaveLength(1);
    expect(strFromU8(files["habits.csv"])).toMatch(/,run,/);
    expect(strFromU8(files["habits.csv"])).toMatch(/,violin,/);
    expect(csv("plans.csv")).toHaveLength(2);
    expect(strFromU8(files["samples.csv"])).toContain("72.4");
    expect(strFromU8(files["README.txt"])).toContain("entries.csv");
    expect(reply.caption).toContain("entries: 4");
  });
});

describe("/deleteme", () => {
  it("asks first, then deletes every row of the person after the button", async () => {
    const person = await personOf(301);
    const runIds = (await t.db.prisma.trainingRun.findMany({ where: { userId: person.id } })).map(
      (r) => r.id,
    );
    const [warning] = await t.emulator.ask(301, "/deleteme");
    expect(warning.text).toContain("cannot be undone");
    // nothing is deleted by asking
    expect((await countRowsOf(t.db, person.id, runIds)).entries).toBe(4);
    expect(await rowsReferring(person.id)).not.toEqual({});
    const { messages } = await t.emulator.tap(301, warning, "Yes, delete everything", 1);
    expect(messages[0].text).toMatch(
      /^Done: I deleted your account, 4 reports, 2 habits, 2 metrics, 3 measurements, 1 plan/,
    );
    const after = await countRowsOf(t.db, person.id, runIds);
    for (const [table, n] of Object.entries(after)) expect(n, table).toBe(0);
    // every table with a user_id column (also ones added later) holds nothing of theirs
    expect(await rowsReferring(person.id)).toEqual({});
    expect(await t.db.prisma.user.count({ where: { telegramId: 301n } })).toBe(0);
    // other people are untouched
    expect(await t.db.prisma.user.count({ where: { telegramId: 302n } })).toBe(1);
    const [next] = await t.emulator.ask(301, "/stats");
    expect(next.text).toContain("/start");
  });

  it("accepts the typed phrase after the warning, and not without it", async () => {
    await onboard(t, 302, { habits: ["read 10 pages daily"] });
    const [notYet] = await t.emulator.ask(302, "delete all my data");
    expect(notYet.text).not.toMatch(/^Done: I deleted/);
    expect(await t.db.prisma.user.count({ where: { telegramId: 302n } })).toBe(1);
    await t.emulator.ask(302, "/deleteme");
    const [done] = await t.emulator.ask(302, "Delete all my data");
    expect(done.text).toMatch(/^Done: I deleted your account, 1 habit/);
    expect(await t.db.prisma.user.count({ where: { telegramId: 302n } })).toBe(0);
  });

  it("refuses a confirm button pressed by someone else or after it expired", async () => {
    await onboard(t, 303, { habits: ["read 10 pages daily"] });
    const [warning] = await t.emulator.ask(303, "/deleteme");
    const forged = t.emulator.sendCallbackQuery(
      304,
      warning,
      warning.keyboard![0][0].callback_data!,
    );
    await t.emulator.waitForProcessed(forged.update_id);
    expect(await t.db.prisma.user.count({ where: { telegramId: 303n } })).toBe(1);
    t.clock.advance(11 * 60_000);
    const { answer } = await t.emulator.tap(303, warning, "Yes, delete everything");
    expect(answer?.text).toContain("expired");
    expect(await t.db.prisma.user.count({ where: { telegramId: 303n } })).toBe(1);
  });
});
