// The mirror as operators see it: /status and GET /metrics show how many sheets are linked, the
// backlog of syncs, and the Google calls of the last minute per shared quota bucket (issue 14).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { statusReport } from "../../src/bot/commands/admin.js";
import type { BotDeps } from "../../src/bot/context.js";
import { enqueueCoalesced } from "../../src/db/outbox.js";
import { setSheetEditsEnabled } from "../../src/db/sheets.js";
import { blockBucket, takeToken } from "../../src/db/sheets-quota.js";
import { MetricsRegistry } from "../../src/http/metrics.js";
import { bucketRule, QUOTA_BUCKETS } from "../../src/sheets/mirror.js";
import { testBotDeps } from "../support/bot-deps.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { createPerson } from "./helpers.js";

let t: TestDatabase;
let deps: BotDeps;
// the wall clock: /metrics reads the buckets as of now
const NOW = new Date();
const minuteStart = Math.floor(NOW.getTime() / 60_000) * 60_000;
beforeAll(async () => {
  t = await createTestDatabase();
  deps = testBotDeps(t.db, { now: () => NOW });
});
afterAll(async () => {
  await deps?.training.stop();
  await t?.dispose();
});

describe("sheets mirror numbers", () => {
  it("show linked sheets, the backlog and the last minute's calls per bucket", async () => {
    expect(await statusReport(deps)).toContain(
      "Sheets mirror: 0 linked (0 with edits on); backlog 0 (0 due); last minute 0 reads, 0 writes, 0 Drive checks; 0 Google 429s so far",
    );
    const a = await createPerson(t.db, "sheet-a");
    await createPerson(t.db, "sheet-b");
    await setSheetEditsEnabled(t.db, a.user.id, "sheet-a", true);
    await enqueueCoalesced(t.db, "sheets_mirror", a.user.id, {}, new Date(NOW.getTime() - 1_000));
    // the previous minute: 7 writes and 3 reads; this minute: 1 write
    const previous = new Date(minuteStart - 30_000);
    const rule = bucketRule(60);
    for (let i = 0; i < 7; i++) {
      expect(await takeToken(t.db, QUOTA_BUCKETS.write, previous, rule)).toEqual({ granted: true });
    }
    for (let i = 0; i < 3; i++) await takeToken(t.db, QUOTA_BUCKETS.read, previous, rule);
    await takeToken(t.db, QUOTA_BUCKETS.write, new Date(minuteStart + 1), rule);
    await blockBucket(t.db, QUOTA_BUCKETS.write, new Date(NOW.getTime() + 60_000));

    const status = await statusReport(deps);
    expect(status).toContain(
      "Sheets mirror: 2 linked (1 with edits on); backlog 1 (1 due); last minute 3 reads, 7 writes, 0 Drive checks; 1 Google 429s so far, paused by a 429 now",
    );
    const metrics = await new MetricsRegistry(t.db, () => NOW).render();
    expect(metrics).toMatch(/^coachrl_sheets_linked 2$/m);
    expect(metrics).toMatch(/^coachrl_sheets_mirror_backlog 1$/m);
    expect(metrics).toMatch(/^coachrl_sheets_calls_per_minute\{bucket="sheets:write"\} 7$/m);
    expect(metrics).toMatch(/^coachrl_sheets_calls_per_minute\{bucket="sheets:read"\} 3$/m);
    expect(metrics).toMatch(/^coachrl_sheets_throttled_total\{bucket="sheets:write"\} 1$/m);
  });

  it("a bucket hands out no more than its quota in any minute", async () => {
    const rule = bucketRule(60);
    expect(rule.capacity + rule.ratePerMinute).toBe(60);
    const start = new Date(minuteStart + 5 * 60_000);
    let granted = 0;
    // asking every second for two minutes, as many instances would
    for (let s = 0; s < 120; s++) {
      const at = new Date(start.getTime() + s * 1_000);
      for (let k = 0; k < 3; k++) {
        if ((await takeToken(t.db, "test:bucket", at, rule)).granted) granted++;
      }
      if (s === 59) expect(granted).toBeLessThanOrEqual(60);
    }
    expect(granted).toBeLessThanOrEqual(120);
    expect(granted).toBeGreaterThanOrEqual(100);
    const wait = await takeToken(t.db, "test:bucket", new Date(start.getTime() + 119_500), rule);
    expect(wait.granted).toBe(false);
    if (!wait.granted) expect(wait.waitMs).toBeGreaterThan(0);
  });
});
