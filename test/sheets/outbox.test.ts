// The outbox primitives under concurrency (real Postgres with TEST_DATABASE_URL: separate
// pools racing; PGlite: one connection, trivially serial): coalesced enqueues add one pending
// event per person, claims hand each due event to one worker, failures back off and give up.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openPostgres } from "../../src/db/client.js";
import {
  backoffDelayMs,
  claimDue,
  completeEvent,
  enqueueCoalesced,
  failEvent,
  latestEvents,
  pruneDone,
} from "../../src/db/outbox.js";
import { registerUser } from "../../src/db/users.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

let tdb: TestDatabase;
const dbs: Database[] = [];
const extra: Database[] = [];
const now = new Date("2026-03-10T12:00:00.000Z");

beforeAll(async () => {
  tdb = await createTestDatabase();
  dbs.push(tdb.db);
  if (tdb.url !== undefined) {
    for (let i = 0; i < 3; i++) {
      const db = openPostgres({ url: tdb.url, poolSize: 4, acquireTimeoutMs: 10_000 });
      extra.push(db);
      dbs.push(db);
    }
  }
});

afterAll(async () => {
  for (const db of extra) await db.close();
  await tdb?.dispose();
});

async function person(telegramId: bigint): Promise<number> {
  const { user } = await registerUser(tdb.db, {
    telegramId,
    chatId: telegramId,
    displayName: "x",
    timezone: "UTC",
    isAdmin: false,
  });
  return user.id;
}

const anyDb = (i: number) => dbs[i % dbs.length];

describe("outbox", () => {
  it("backoff doubles from the base and stops at the cap", () => {
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(n, 30_000, 3_600_000))).toEqual([
      30_000, 60_000, 120_000, 240_000,
    ]);
    expect(backoffDelayMs(8, 30_000, 3_600_000)).toBe(3_600_000);
    expect(backoffDelayMs(500, 30_000, 3_600_000)).toBe(3_600_000);
  });

  it("concurrent enqueues for one person add one pending event", async () => {
    const userId = await person(1n);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        enqueueCoalesced(anyDb(i), "sheets_mirror", userId, { n: i }, now),
      ),
    );
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    expect(await tdb.db.prisma.outboxEvent.count({ where: { userId } })).toBe(1);
    // a notification is another kind: not coalesced with the mirror
    expect(await enqueueCoalesced(tdb.db, "notification", userId, {}, now)).not.toBeNull();
    await tdb.db.prisma.outboxEvent.deleteMany({ where: { kind: "notification" } });
  });

  it("isCurrent skips work the latest done event already covers", async () => {
    const userId = await person(2n);
    const e = await enqueueCoalesced(tdb.db, "sheets_mirror", userId, { fp: "a" }, now);
    await completeEvent(tdb.db, e!.id, now);
    const same = (latest: { payload: unknown }) => (latest.payload as { fp: string }).fp === "a";
    expect(
      await enqueueCoalesced(tdb.db, "sheets_mirror", userId, { fp: "a" }, now, same),
    ).toBeNull();
    const next = await enqueueCoalesced(
      tdb.db,
      "sheets_mirror",
      userId,
      { fp: "b" },
      now,
      (l) => (l.payload as { fp: string }).fp === "b",
    );
    expect(next).not.toBeNull();
    expect((await latestEvents(tdb.db, "sheets_mirror", [userId])).get(userId)!.id).toBe(next!.id);
  });

  it("concurrent claims hand each due event to exactly one worker, for the lease", async () => {
    await tdb.db.prisma.outboxEvent.deleteMany();
    const ids: number[] = [];
    for (let i = 0; i < 8; i++) ids.push(await person(BigInt(100 + i)));
    for (const id of ids) await enqueueCoalesced(tdb.db, "sheets_mirror", id, {}, now);
    const claims = await Promise.all(
      Array.from({ length: 8 }, (_, i) => claimDue(anyDb(i), "sheets_mirror", now, 2, 60_000)),
    );
    const claimed = claims.flat().map((e) => e.id);
    expect(claimed).toHaveLength(8);
    expect(new Set(claimed).size).toBe(8);
    // claimed events are invisible until the lease ends
    expect(await claimDue(tdb.db, "sheets_mirror", now, 10, 60_000)).toHaveLength(0);
    const afterLease = new Date(now.getTime() + 60_000);
    expect(await claimDue(tdb.db, "sheets_mirror", afterLease, 10, 60_000)).toHaveLength(8);
  });

  it("failures back off and give up after the last attempt", async () => {
    await tdb.db.prisma.outboxEvent.deleteMany();
    const userId = await person(3n);
    let event = (await enqueueCoalesced(tdb.db, "sheets_mirror", userId, {}, now))!;
    const first = await failEvent(tdb.db, event, "boom", now, 30_000, 2);
    expect(first).toEqual({
      attempts: 1,
      gaveUp: false,
      nextAttemptAt: new Date(now.getTime() + 30_000),
    });
    event = await tdb.db.prisma.outboxEvent.findUniqueOrThrow({ where: { id: event.id } });
    expect(event.lastError).toBe("boom");
    const second = await failEvent(tdb.db, event, "boom again", now, 60_000, 2);
    expect(second.gaveUp).toBe(true);
    event = await tdb.db.prisma.outboxEvent.findUniqueOrThrow({ where: { id: event.id } });
    expect(event.doneAt).toEqual(now);
    expect(event.lastError).toBe("gave up after 2 attempts: boom again");
  });

  it("pruning keeps each person's latest event", async () => {
    await tdb.db.prisma.outboxEvent.deleteMany();
    const userId = await person(4n);
    for (let i = 0; i < 3; i++) {
      const e = await enqueueCoalesced(tdb.db, "sheets_mirror", userId, { i }, now);
      await completeEvent(tdb.db, e!.id, now);
    }
    expect(await pruneDone(tdb.db, "sheets_mirror", new Date(now.getTime() + 1))).toBe(2);
    const left = await tdb.db.prisma.outboxEvent.findMany({ where: { userId } });
    expect(left.map((e) => e.payload)).toEqual([{ i: 2 }]);
  });
});
