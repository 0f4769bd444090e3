// Issue 13's migration: people who answered the time zone and added habits, but never tapped
// the last onboarding button, got no morning plan; the migration onboards them (and only them).
import { describe, expect, it } from "vitest";
import { openPglite } from "../../src/db/client.js";
import { migrate, readMigrations } from "../../src/db/migrate.js";

const ONBOARDING_STEPS = "20261203100000_onboarding_steps";

describe("migration 20261203100000_onboarding_steps", () => {
  it("onboards people stuck with a time zone and habits, and records the steps they took", async () => {
    const all = readMigrations();
    const before = all.filter((m) => m.name < ONBOARDING_STEPS);
    expect(all.some((m) => m.name === ONBOARDING_STEPS)).toBe(true);
    const db = await openPglite(undefined);
    try {
      await db.withSession((s) => migrate(s, { migrations: before }));
      await db.withSession(async (s) => {
        // 1: stuck (answered the time zone, added a habit, never tapped the last button)
        // 2: answered the time zone, no habit yet; 3: only registered; 4: onboarded already
        await s.exec(`
          INSERT INTO users (id, telegram_id, chat_id, display_name, timezone, created_at, updated_at, onboarded_at) VALUES
            (1, 1, 1, 'stuck', 'Europe/Berlin', '2026-11-20T08:00Z', '2026-11-20T08:01Z', NULL),
            (2, 2, 2, 'no habit', 'Europe/Lisbon', '2026-11-20T08:00Z', '2026-11-20T08:01Z', NULL),
            (3, 3, 3, 'registered', 'UTC', '2026-11-20T08:00Z', '2026-11-20T08:00Z', NULL),
            (4, 4, 4, 'done', 'Asia/Tokyo', '2026-11-19T08:00Z', '2026-11-19T09:00Z', '2026-11-19T08:05Z');
          INSERT INTO habits (user_id, name, name_key, kind, unit, target, days_per_week, levels, sort_order, updated_at) VALUES
            (1, 'run', 'run', 'duration', 'min', 30, 5, '{0,15,30,45}', 0, now()),
            (3, 'read', 'read', 'count', 'pages', 10, 7, '{0,5,10,15}', 0, now());
        `);
      });
      await db.withSession((s) => migrate(s));
      const rows = await db.withSession((s) =>
        s.query<{
          id: number;
          onboarded: boolean;
          timezone_chosen_at: Date | null;
          plan_time_chosen_at: Date | null;
        }>(
          `SELECT id, onboarded_at IS NOT NULL AS onboarded, timezone_chosen_at, plan_time_chosen_at
             FROM users ORDER BY id`,
        ),
      );
      expect(rows.map((r) => [r.id, r.onboarded, r.timezone_chosen_at !== null])).toEqual([
        [1, true, true],
        [2, false, true],
        [3, false, false], // a habit but no time zone: asked for it first
        [4, true, true],
      ]);
      // a default plan time is not one they chose; the onboarded person chose theirs
      expect(rows.map((r) => r.plan_time_chosen_at !== null)).toEqual([false, false, false, true]);
    } finally {
      await db.close();
    }
  });
});
