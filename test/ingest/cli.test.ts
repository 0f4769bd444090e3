import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../src/cli/import.js";
import { registerUser } from "../../src/db/users.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import {
  appleHealthXml,
  appleHealthXmlParts,
  appleHealthZipStreamed,
  dailyWeights,
} from "./fixtures.js";

const NOW = new Date("2026-11-30T12:00:00.000Z");

describe("coachrl import", () => {
  let t: TestDatabase;
  let dir: string;
  let userId: number;

  async function importFile(...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(argv, {
      openDatabase: async () => t.db,
      closeDatabase: false,
      now: () => NOW,
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    return { code, out: out.join("\n"), err: err.join("\n") };
  }
  const samples = () =>
    t.db.prisma.metricSample.findMany({ where: { userId }, orderBy: { measuredAt: "asc" } });

  beforeAll(async () => {
    t = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), "coachrl-import-"));
    userId = (
      await registerUser(t.db, {
        telegramId: 4242n,
        chatId: 4242n,
        displayName: "importer",
        timezone: "Europe/Berlin",
        isAdmin: false,
      })
    ).user.id;
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.dispose();
  });

  it("imports a scale CSV with source import, and a second import adds nothing", async () => {
    const file = join(dir, "withings.csv");
    writeFileSync(
      file,
      '\uFEFFDate;"Weight (kg)"\r\n2026-11-20 07:12;72,4\r\n2026-11-21 07:12;abc\r\n2026-11-22 07:12;72,2\r\n',
    );
    const first = await importFile("--telegram-id", "4242", file);
    expect(first.code).toBe(0);
    expect(first.out).toContain("imported 2 new weights, 0 already stored");
    expect(first.err).toContain('withings.csv: row 3: weight "abc" is not a number');
    const rows = await samples();
    expect(rows.map((r) => [r.measuredAt.toISOString(), r.value, r.source])).toEqual([
      ["2026-11-20T06:12:00.000Z", 72.4, "import"],
      ["2026-11-22T06:12:00.000Z", 72.2, "import"],
    ]);
    const second = await importFile("--telegram-id", "4242", "--json", file);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.out)).toMatchObject({
      format: "csv",
      read: 2,
      stored: 0,
      duplicates: 2,
    });
    expect(await samples()).toHaveLength(2);
  });

  it("imports an Apple Health export.zip and export.xml (the same records: duplicates)", async () => {
    const zip = join(dir, "export.zip");
    writeFileSync(zip, appleHealthZipStreamed(appleHealthXmlParts(dailyWeights(500), 20_000)));
    const a = await importFile("--telegram-id", "4242", zip);
    expect(a.code).toBe(0);
    expect(a.out).toMatch(
      /^imported 500 new weights, 0 already stored \(2024-01-01T06:12:03\.000Z … /,
    );
    const xml = join(dir, "export.xml");
    writeFileSync(xml, appleHealthXml(dailyWeights(501), 100));
    const b = await importFile("--telegram-id", "4242", xml);
    expect(b.out).toContain("imported 1 new weights, 500 already stored");
    expect(await samples()).toHaveLength(503);
  });

  it("parses without storing on --dry-run", async () => {
    const file = join(dir, "dry.csv");
    writeFileSync(file, "Date,Weight (lb)\n2026-11-25 07:00,160\n");
    const r = await importFile("--telegram-id", "4242", "--dry-run", file);
    expect(r.code).toBe(0);
    expect(r.out).toContain("dry run: 1 weights read");
    expect(await samples()).toHaveLength(503);
  });

  it("fails clearly: unknown person, missing file, nothing importable, bad arguments", async () => {
    const file = join(dir, "steps.csv");
    writeFileSync(file, "Date,Steps\n2026-11-01,9000\n");
    const unknown = await importFile("--telegram-id", "999", file);
    expect([unknown.code, unknown.err]).toEqual([
      1,
      "No person with Telegram id 999: they need to send /start to the bot first.",
    ]);
    const missing = await importFile("--telegram-id", "4242", join(dir, "nope.csv"));
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("no such file");
    const nothing = await importFile("--telegram-id", "4242", file);
    expect(nothing.code).toBe(1);
    expect(nothing.err).toContain("no weight and date columns found");
    expect(nothing.err).toContain("no weights to import");
    for (const argv of [
      [file],
      ["--telegram-id", "abc", file],
      ["--telegram-id", "1"],
      ["--bogus"],
      ["--telegram-id", "1", "--format", "pdf", file],
    ]) {
      const r = await importFile(...argv);
      expect(r.code).toBe(2);
      expect(r.err).toContain("Usage: coachrl import");
    }
    const help = await importFile("--help");
    expect([help.code, help.out.startsWith("Usage: coachrl import")]).toEqual([0, true]);
  });
});
