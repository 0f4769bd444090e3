// The soak with faults at a tiny size (the harness of `npm run soak`): simulated people report
// through the real app process in webhook mode while it is killed with SIGKILL mid-update, its
// database connections are reset and black-holed, and the Bot API fails sends with 429 and 500;
// 5 % of the updates arrive twice. Nothing the people sent may be lost or stored twice.
//
// Real Postgres only (TEST_DATABASE_URL): the TCP proxy sits between the app and a Postgres
// server, and PGlite is embedded in the app's process. Every wait is for an event with a
// generous deadline; the black-hole's 10 s is the fault's length, not a pass condition.
import { describe, expect, it } from "vitest";
import { onRealPostgres, testDatabaseUrl } from "../support/database.js";
import { runSoak } from "../support/soak/harness.js";

// an update held by a claim that could not be released waits out its 2-minute lease
const DEADLINE_MS = 300_000;

describe.skipIf(!onRealPostgres)(
  "soak with faults, short (needs TEST_DATABASE_URL: the faults sit between the app and a Postgres server)",
  () => {
    it(
      "loses and doubles nothing through kill -9, a database black-hole and Bot API storms",
      async () => {
        const summary = await runSoak({
          serverUrl: testDatabaseUrl!,
          people: 10,
          days: 2,
          kills: 1,
          blackHoleMs: 10_000,
          stormSize: 10,
          concurrency: 4,
          deadlineMs: DEADLINE_MS,
        });
        const faults = summary.faults.map((f) => f.kind);
        expect(faults).toEqual(
          expect.arrayContaining([
            "kill -9 mid-update",
            "database black-holed",
            "Bot API 429 storm",
            "Bot API 500 storm",
          ]),
        );
        expect({
          lost: summary.lost,
          duplicated: summary.duplicated,
          wrongEntries: summary.wrongEntries,
          undoMismatches: summary.undoMismatches,
          plansMissing: summary.plansMissing,
          plansDoubled: summary.plansDoubled,
          planTapsMissing: summary.planTapsMissing,
          planTapsDoubled: summary.planTapsDoubled,
          examples: summary.examples,
        }).toEqual({
          lost: 0,
          duplicated: 0,
          wrongEntries: 0,
          undoMismatches: 0,
          plansMissing: 0,
          plansDoubled: 0,
          planTapsMissing: 0,
          planTapsDoubled: 0,
          examples: [],
        });
        expect(summary.entriesExpected).toBeGreaterThan(20);
        expect(summary.healthz).toMatchObject({ outageSeen: true, recoverySeen: true });
        expect(summary.appErrors.unexpected).toEqual({});
      },
      // onboarding, two days, a restart and the outage, each step on its own deadline first
      10 * DEADLINE_MS,
    );
  },
);
