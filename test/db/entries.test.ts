// insertEntries (src/db/entries.ts) in one statement: new entries are inserted, entries whose
// idempotency key is stored already are returned as stored (never inserted twice), in input
// order and shaped exactly as Prisma's own reads shape them — on PGlite and on Postgres.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertEntries, listEntries } from "../../src/db/entries.js";
import { createHabit } from "../../src/db/habits.js";
import { registerUser } from "../../src/db/users.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

describe("insertEntries", () => {
  let database: TestDatabase;
  let userId: number;
  let habitId: number;
  beforeAll(async () => {
    database = await createTestDatabase();
    const { user } = await registerUser(database.db, {
      telegramId: 7_700_001n,
      chatId: 7_700_001n,
      displayName: "Entries",
      timezone: "UTC",
      isAdmin: false,
    });
    userId = user.id;
    const habit = await createHabit(database.db, user.id, {
      name: "walk",
      aliases: [],
      kind: "duration",
      unit: "min",
      target: 30,
      daysPerWeek: 7,
      levels: [0, 15, 30],
      exclusiveGroup: null,
    });
    habitId = habit.id;
  });
  afterAll(() => database.dispose());

  it("inserts new keys, returns stored ones for known keys, in input order, as Prisma reads them", async () => {
    const first = await insertEntries(database.db, userId, [
      { habitId, day: "2026-11-30", amount: 20, source: "chat", idempotencyKey: "t:1:0" },
    ]);
    expect(first.inserted).toBe(1);
    const again = await insertEntries(database.db, userId, [
      { habitId, day: "2026-12-01", amount: 15, source: "button", idempotencyKey: "t:2:0" },
      // stored before: not inserted again, returned with what was stored (20, not 99)
      { habitId, day: "2026-11-30", amount: 99, source: "chat", idempotencyKey: "t:1:0" },
      // the same key twice in one call: stored once
      { habitId, day: "2026-12-01", amount: 5, source: "chat", idempotencyKey: "t:3:0", note: "n" },
      { habitId, day: "2026-12-01", amount: 6, source: "chat", idempotencyKey: "t:3:0" },
    ]);
    expect(again.inserted).toBe(2);
    expect(again.entries.map((e) => [e.idempotencyKey, e.amount])).toEqual([
      ["t:2:0", 15],
      ["t:1:0", 20],
      ["t:3:0", 5],
      ["t:3:0", 5],
    ]);
    const read = await listEntries(database.db, userId, "2026-11-01", "2026-12-31");
    expect(read).toHaveLength(3);
    // the returned rows are exactly the rows Prisma reads (types included: bigint id, Date day)
    const byKey = new Map(read.map((e) => [e.idempotencyKey, e]));
    for (const entry of again.entries) expect(entry).toEqual(byKey.get(entry.idempotencyKey));
    expect(typeof again.entries[0].id).toBe("bigint");
    expect(again.entries[0].day).toEqual(new Date("2026-12-01T00:00:00Z"));
    expect(again.entries[2].note).toBe("n");
    expect(again.entries[0].source).toBe("button");
  });
});
