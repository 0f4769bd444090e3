import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { detectDrift } from "../support/drift.js";

const schema = readFileSync(new URL("../../prisma/schema.prisma", import.meta.url), "utf8");

describe("schema drift", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(() => t.dispose());

  it("schema.prisma and the migrated database agree", async () => {
    const problems = await t.db.withSession((s) => detectDrift(s, schema));
    expect(problems).toEqual([]);
  });

  it("names a field that was added to schema.prisma without a migration", async () => {
    const edited = schema.replace(
      /(model Habit \{\n)/,
      '$1  mood           String?   @map("mood_note")\n',
    );
    expect(edited).not.toBe(schema);
    const problems = await t.db.withSession((s) => detectDrift(s, edited));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("Habit.mood (column habits.mood_note)");
    expect(problems[0]).toContain("add a migration");
  });

  it("catches changed nullability, defaults, indexes, foreign keys and extra columns", async () => {
    const edited = schema
      .replace(
        'timezone        String    @default("UTC")',
        'timezone        String    @default("Europe/Berlin")',
      )
      .replace(
        'sheetId         String?   @map("sheet_id")',
        'sheetId         String    @map("sheet_id")',
      )
      .replace("  @@index([userId, day])\n", "")
      .replace("onDelete: Restrict", "onDelete: Cascade")
      .replace(/ {2}capacityMinutes Int\? {6}@map\("capacity_minutes"\)\n/, "");
    const problems = await t.db.withSession((s) => detectDrift(s, edited));
    const text = problems.join("\n");
    expect(text).toContain("User.timezone (column users.timezone): default differs");
    expect(text).toContain("User.sheetId (column users.sheet_id): nullability differs");
    expect(text).toContain(
      "table habit_entries: index(user_id,day) is in the database but not in model HabitEntry",
    );
    expect(text).toContain("on delete CASCADE is in schema.prisma but not in the database");
    expect(text).toContain(
      "column users.capacity_minutes is in the database but not in model User",
    );
  });
});
