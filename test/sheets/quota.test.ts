// Quota safety (issue 14, item 4): the mirror's calls go through token buckets shared in
// Postgres, so a storm of 429s only delays syncs (no failed attempts, nothing lost), and 1,000
// linked sheets are all written on a simulated clock without the fake — which enforces Google's
// 60 reads and 60 writes per minute like Google does — ever answering 429.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bucketUsage } from "../../src/db/sheets-quota.js";
import { type SheetsMirror, startSheetsMirror } from "../../src/sheets/mirror.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { FakeSheets } from "./fake-sheets.js";
import {
  addEntry,
  collectingLogger,
  createPerson,
  mirrorConfig,
  type Person,
  SERVICE_ACCOUNT,
  testKeyPair,
  utcDay,
} from "./helpers.js";

const keys = testKeyPair();
const SHEETS = Number(process.env.SHEETS_QUOTA_TEST_SHEETS ?? 1_000);
let tdb: TestDatabase;
let fake: FakeSheets;
let clock = new Date();
const mirrors: SheetsMirror[] = [];

function mirror(tuning = {}): SheetsMirror {
  const m = startSheetsMirror({
    db: tdb.db,
    log: collectingLogger().log,
    config: mirrorConfig(keys.privateKey, fake.url),
    now: () => clock,
    manual: true,
    tuning,
  });
  mirrors.push(m);
  return m;
}

beforeAll(async () => {
  tdb = await createTestDatabase();
  fake = await new FakeSheets({
    serviceAccount: SERVICE_ACCOUNT,
    publicKey: keys.publicKey,
    clock: () => clock.getTime(),
    quota: { readsPerMinute: 60, writesPerMinute: 60 },
  }).start();
});

afterAll(async () => {
  for (const m of mirrors) await m.stop();
  await fake?.close();
  await tdb?.dispose();
});

describe("sheets quota", () => {
  it("a storm of 429s delays syncs but loses nothing and fails no attempt", async () => {
    const today = utcDay(clock);
    const people: Person[] = [];
    for (let i = 0; i < 5; i++) {
      fake.create(`storm-${i}`);
      people.push(await createPerson(tdb.db, `storm-${i}`));
      await addEntry(tdb.db, people[i], people[i].run, today, 10 + i);
    }
    const m = mirror();
    fake.failNext(12, 429);
    let minutes = 0;
    let throttled = 0;
    const done = async () =>
      (await tdb.db.prisma.outboxEvent.count({ where: { doneAt: null } })) === 0 &&
      people.every((_, i) => (fake.rows(`storm-${i}`, "Entries")?.length ?? 0) >= 2);
    while (!(await done())) {
      const result = await m.tick(clock);
      throttled += result.throttled;
      expect(result.failed).toBe(0);
      // during the storm, people keep reporting
      if (minutes === 2) await addEntry(tdb.db, people[0], people[0].odd, today, 7);
      clock = new Date(clock.getTime() + 60_000);
      minutes++;
      expect(minutes).toBeLessThan(90);
    }
    // one more pass picks up the entry made during the storm
    for (let i = 0; i < 5; i++) {
      await mirror().tick(clock);
      clock = new Date(clock.getTime() + 60_000);
    }
    expect(throttled).toBeGreaterThan(0);
    expect(fake.requests.filter((r) => r.status === 429).length).toBe(12);
    const events = await tdb.db.prisma.outboxEvent.findMany();
    expect(events.every((e) => e.attempts === 0 && e.doneAt !== null)).toBe(true);
    expect(
      fake
        .rows("storm-0", "Entries")!
        .map((r) => r[3])
        .slice(1),
    ).toEqual([10, 7]);
    const usage = await bucketUsage(tdb.db, clock);
    expect(usage.find((u) => u.name === "sheets:write")!.throttled).toBeGreaterThan(0);
  });

  it(`${SHEETS} linked sheets are all written within the per-minute quotas (simulated clock)`, async () => {
    const today = utcDay(clock);
    const people: Person[] = [];
    for (let start = 0; start < SHEETS; start += 20) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(20, SHEETS - start) }, async (_, k) => {
          const id = `bulk-${start + k}`;
          fake.create(id);
          const p = await createPerson(tdb.db, id);
          await addEntry(tdb.db, p, p.run, today, 30);
          return p;
        }),
      );
      people.push(...batch);
    }
    // more syncs per tick than the quota allows: the shared buckets are what holds back
    const instances = [mirror({ maxPerTick: 500 }), mirror({ maxPerTick: 500 })];
    const firstRequest = fake.requests.length;
    const startedAt = clock.getTime();
    // the mirror works every 10 s (and scans once a minute)
    let ticks = 0;
    const written = () =>
      people.filter((_, i) => (fake.rows(`bulk-${i}`, "Entries")?.length ?? 0) === 2).length;
    while (written() < SHEETS) {
      await Promise.all(instances.map((m) => m.tick(clock)));
      clock = new Date(clock.getTime() + 10_000);
      ticks++;
      expect(ticks).toBeLessThan(6 * 60);
    }
    const minutes = ticks / 6;
    const requests = fake.requests.slice(firstRequest);
    // never over quota: Google (the fake) never answered 429
    expect(requests.filter((r) => r.status === 429)).toEqual([]);
    // in any minute, at most 60 writes and 60 reads
    for (const kind of ["read", "write"] as const) {
      const at = requests.filter((r) => r.kind === kind).map((r) => r.at);
      for (const a of at)
        expect(at.filter((b) => b >= a && b < a + 60_000).length).toBeLessThanOrEqual(60);
    }
    // one read (the tabs that exist) and one write per sheet
    expect(requests.filter((r) => r.kind === "write" && r.status === 200).length).toBe(SHEETS);
    // and about as fast as the quota allows: 1,000 first syncs need 1,000 reads; the buckets
    // pass 50 a minute (10 of the 60 are kept as the burst that bounds any 60 s window)
    expect(minutes).toBeLessThanOrEqual(Math.ceil(SHEETS / 50) + 2);
    console.log(
      JSON.stringify({
        sheets: SHEETS,
        simulatedMinutes: minutes,
        simulatedSpanMs: clock.getTime() - startedAt,
        requests: requests.length,
      }),
    );
  }, 600_000);
});
