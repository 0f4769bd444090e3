// Several instances of the app mirroring at once (on real Postgres with TEST_DATABASE_URL: one
// connection pool each; on PGlite they share the one connection): every change is mirrored
// exactly once — one outbox event per person and change, one sheet write per event.
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Database, openPostgres } from "../../src/db/client.js";
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

const INSTANCES = 3;
const PEOPLE = 6;
const keys = testKeyPair();
let tdb: TestDatabase;
let fake: FakeSheets;
const extraDbs: Database[] = [];
const mirrors: SheetsMirror[] = [];
const t0 = new Date();

beforeAll(async () => {
  tdb = await createTestDatabase();
  fake = await new FakeSheets({
    serviceAccount: SERVICE_ACCOUNT,
    publicKey: keys.publicKey,
    latencyMs: 5,
  }).start();
  const { log } = collectingLogger();
  for (let i = 0; i < INSTANCES; i++) {
    let db = tdb.db;
    if (tdb.url !== undefined) {
      db = openPostgres({ url: tdb.url, poolSize: 4, acquireTimeoutMs: 10_000 });
      extraDbs.push(db);
    }
    mirrors.push(
      startSheetsMirror({
        db,
        log,
        config: mirrorConfig(keys.privateKey, fake.url),
        manual: true,
        instance: `instance-${i}`,
        // one event per claim, so the instances interleave
        tuning: { batchSize: 1, scanIntervalMs: 0 },
      }),
    );
  }
});

afterAll(async () => {
  for (const m of mirrors) await m.stop();
  for (const db of extraDbs) await db.close();
  await fake?.close();
  await tdb?.dispose();
});

const writes = () => fake.requests.filter((r) => r.kind === "write" && r.status === 200).length;

it("each change is mirrored once, whichever instance ticks", async () => {
  const today = utcDay(t0);
  const people: Person[] = [];
  for (let i = 0; i < PEOPLE; i++) {
    fake.create(`sheet-${i}`);
    people.push(await createPerson(tdb.db, `sheet-${i}`));
  }
  let expectedWrites = 0;
  for (let round = 0; round < 4; round++) {
    // round 0: everyone's first sync; later rounds: a change for some people
    const changed = round === 0 ? people : people.filter((_, i) => i % (round + 1) === 0);
    for (const p of changed) await addEntry(tdb.db, p, p.run, today, 10 + round);
    const at = new Date(t0.getTime() + round * 60_000);
    const results = await Promise.all(mirrors.map((m) => m.tick(at)));
    expectedWrites += changed.length;
    if (round === 0 && tdb.url !== undefined) {
      // the work really was shared out between the instances
      expect(results.filter((r) => r.processed > 0).length).toBeGreaterThanOrEqual(2);
    }
    expect(results.reduce((n, r) => n + r.enqueued, 0)).toBe(changed.length);
    expect(results.reduce((n, r) => n + r.succeeded, 0)).toBe(changed.length);
    expect(results.reduce((n, r) => n + r.failed, 0)).toBe(0);
    expect(writes()).toBe(expectedWrites);
    // and a second tick everywhere finds nothing to do
    const again = await Promise.all(mirrors.map((m) => m.tick(new Date(at.getTime() + 1_000))));
    expect(again.reduce((n, r) => n + r.processed + r.enqueued, 0)).toBe(0);
    expect(writes()).toBe(expectedWrites);
  }
  for (const p of people) {
    const events = await tdb.db.prisma.outboxEvent.findMany({ where: { userId: p.user.id } });
    expect(events.every((e) => e.doneAt !== null && e.attempts === 0)).toBe(true);
    const rows = fake.rows(`sheet-${people.indexOf(p)}`, "Entries")!;
    expect(rows.length - 1).toBe(
      await tdb.db.prisma.habitEntry.count({ where: { userId: p.user.id } }),
    );
  }
  expect(await tdb.db.prisma.outboxEvent.count()).toBe(expectedWrites);
});
