import { strFromU8, unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deletePerson } from "../../src/db/account.js";
import { exportPerson, toCsv } from "../../src/db/export.js";
import { loadPersonData, PERSON_PARTS } from "../../src/db/person-data.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { countRowsOf, EXPORT_FILES, seedPerson } from "./fixtures.js";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.dispose();
});

/** Minimal RFC 4180 reader for checking the files we write. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i++;
    } else cell += c;
  }
  return rows;
}

describe("toCsv", () => {
  it("quotes commas, quotes and line breaks, and defuses formulas", () => {
    const csv = toCsv([{ a: 'x, "y"\nz', b: "=SUM(A1)", c: -3, d: null, e: [1, 2] }]);
    expect(parseCsv(csv)).toEqual([
      ["a", "b", "c", "d", "e"],
      ['x, "y"\nz', "'=SUM(A1)", "-3", "", "[1,2]"],
    ]);
  });
});

describe("/export data", () => {
  it("contains every table of the person, retracted entries included, and nobody else's rows", async () => {
    const me = await seedPerson(t.db, { name: "Me" });
    const other = await seedPerson(t.db, { name: "Other" });
    const result = await exportPerson(t.db, me.user.id, new Date("2026-03-10T10:00:00Z"));
    expect(result).not.toBeNull();
    const files = unzipSync(result!.zip);
    expect(Object.keys(files).sort()).toEqual(EXPORT_FILES);
    const csv = (name: string) => parseCsv(strFromU8(files[name]));
    const user = csv("user.csv");
    expect(user).toHaveLength(2);
    expect(user[1][user[0].indexOf("displayName")]).toBe("Me");
    expect(user[1][user[0].indexOf("telegramId")]).toBe(String(me.user.telegramId));

    const entries = csv("entries.csv");
    const header = entries[0];
    const dbCount = await t.db.prisma.habitEntry.count({ where: { userId: me.user.id } });
    expect(entries.length - 1).toBe(dbCount);
    const retracted = entries.slice(1).filter((r) => r[header.indexOf("retractedAt")] !== "");
    expect(retracted).toHaveLength(1);
    expect(retracted[0][header.indexOf("amount")]).toBe("99");
    expect(retracted[0][header.indexOf("day")]).toBe("2026-03-10");
    expect(
      entries.slice(1).every((r) => ["run", "violin"].includes(r[header.indexOf("habitName")])),
    ).toBe(true);
    expect(entries.some((r) => r.includes('said "hi", then, left'))).toBe(true);
    // nobody else's data
    const otherKeys = entries
      .slice(1)
      .filter((r) => r[header.indexOf("idempotencyKey")].startsWith(`seed:${other.user.id}:`));
    expect(otherKeys).toEqual([]);

    const habits = csv("habits.csv");
    expect(
      habits
        .slice(1)
        .map((r) => r[habits[0].indexOf("name")])
        .sort(),
    ).toEqual(["run", "violin"]);
    // arrays are written as JSON (which cannot start a formula)
    expect(habits[2][habits[0].indexOf("aliases")]).toBe('["=fiddle"]');
    const samples = csv("samples.csv");
    expect(
      samples
        .slice(1)
        .map((r) => r[samples[0].indexOf("value")])
        .sort(),
    ).toEqual(["72.1", "72.4"]);
    expect(csv("training_metrics.csv")).toHaveLength(2);
    const models = csv("policy_models.csv");
    expect(models[1][models[0].indexOf("bytes")]).toBe("<4 bytes>");
    expect(csv("plans.csv")[1][0]).toMatch(/^\d+$/);
    expect(result!.tables.find((x) => x.file === "entries.csv")?.rows).toBe(dbCount);
  });

  it("is null for an unknown person", async () => {
    expect(await exportPerson(t.db, 987654, new Date())).toBeNull();
  });
});

describe("loading everything about a person", () => {
  it("loads the named parts only, each with the person's rows only", async () => {
    const me = await seedPerson(t.db);
    await seedPerson(t.db);
    const all = await loadPersonData(t.db, me.user.id);
    expect(Object.keys(all!).sort()).toEqual(["user", ...PERSON_PARTS].sort());
    for (const part of PERSON_PARTS) {
      expect(all![part].length, part).toBeGreaterThan(0);
      for (const row of all![part]) {
        if ("userId" in row) expect(row.userId, part).toBe(me.user.id);
      }
    }
    expect(all!.trainingMetrics.every((m) => m.runId === me.runId)).toBe(true);
    const some = await loadPersonData(t.db, me.user.id, ["habits", "samples"]);
    expect(Object.keys(some!).sort()).toEqual(["habits", "samples", "user"]);
    expect(await loadPersonData(t.db, 987654)).toBeNull();
  });
});

describe("deleting a person", () => {
  it("removes every row of theirs in every table and leaves other people alone", async () => {
    const me = await seedPerson(t.db);
    const other = await seedPerson(t.db);
    const before = await countRowsOf(t.db, me.user.id, [me.runId]);
    for (const [table, n] of Object.entries(before)) {
      expect(n, `seed should fill ${table}`).toBeGreaterThan(0);
    }
    const otherBefore = await countRowsOf(t.db, other.user.id, [other.runId]);

    const deleted = await deletePerson(t.db, me.user.id);
    expect(deleted).toEqual(before);
    const after = await countRowsOf(t.db, me.user.id, [me.runId]);
    for (const [table, n] of Object.entries(after)) expect(n, table).toBe(0);
    expect(await countRowsOf(t.db, other.user.id, [other.runId])).toEqual(otherBefore);
  });

  it("is a no-op for an unknown person", async () => {
    const counts = await deletePerson(t.db, 424242);
    expect(Object.values(counts).every((n) => n === 0)).toBe(true);
  });
});
