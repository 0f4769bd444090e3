import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pngSize } from "../../src/app/charts/charts.js";
import {
  currentStreak,
  type HabitHistory,
  personProgress,
  statsChartInput,
  statsWindow,
} from "../../src/app/charts/stats.js";
import { parseStatsPeriod, statsSummary } from "../../src/bot/commands/stats.js";
import { addDays } from "../../src/coach/days.js";
import type { HabitSpec } from "../../src/coach/habits.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { seedPerson } from "./fixtures.js";

function spec(id: string, name: string, target: number): HabitSpec {
  return {
    id,
    name,
    aliases: [],
    kind: "duration",
    unit: "min",
    target,
    daysPerWeek: 7,
    levels: [0, target / 2, target],
    exclusiveGroup: null,
    actorGroup: 0,
  };
}

describe("/stats period", () => {
  it("defaults to 30 and accepts 90 and 365", () => {
    expect(parseStatsPeriod("")).toEqual({ ok: true, days: 30 });
    expect(parseStatsPeriod(" 90 ")).toEqual({ ok: true, days: 90 });
    expect(parseStatsPeriod("365 days")).toEqual({ ok: true, days: 365 });
  });
  it("takes a week, any number of days from 7 to 365, and the words for them (issue 13)", () => {
    expect(parseStatsPeriod("7")).toEqual({ ok: true, days: 7 });
    expect(parseStatsPeriod("45")).toEqual({ ok: true, days: 45 });
    expect(parseStatsPeriod("last week")).toEqual({ ok: true, days: 7 });
    expect(parseStatsPeriod("year")).toEqual({ ok: true, days: 365 });
  });
  it("names the choices for anything else", () => {
    expect(parseStatsPeriod("3")).toEqual({
      ok: false,
      message:
        'I can show the last 7 to 365 days (e.g. /stats 7, /stats 90, /stats year), not "3".',
    });
    expect(parseStatsPeriod("forever")).toMatchObject({ ok: false });
  });
});

describe("streaks", () => {
  it("counts back from today, or from yesterday when today is still empty", () => {
    const done = new Set(["2026-03-08", "2026-03-09", "2026-03-06"]);
    expect(currentStreak("2026-03-09", (d) => done.has(d))).toBe(2);
    expect(currentStreak("2026-03-10", (d) => done.has(d))).toBe(2);
    expect(currentStreak("2026-03-11", (d) => done.has(d))).toBe(0);
  });
});

describe("stats window and summary", () => {
  const today = "2026-03-10";
  const habits: HabitHistory[] = [
    { spec: spec("1", "run", 30), startDay: "2025-01-01", endDay: null },
    { spec: spec("2", "violin", 20), startDay: "2025-01-01", endDay: null },
    { spec: spec("3", "chess", 10), startDay: "2026-03-05", endDay: null },
  ];
  const entries: { habitId: string; day: string; amount: number; retracted?: boolean }[] = [];
  for (let i = 0; i < 60; i++) {
    const day = addDays(today, -i);
    entries.push({ habitId: "2", day, amount: 20 });
    if (i % 2 === 0) entries.push({ habitId: "1", day, amount: 30 });
  }
  // a big retracted run entry must not count
  entries.push({ habitId: "1", day: today, amount: 600, retracted: true });

  it("carries EMAs into the window instead of restarting at zero", () => {
    const w = statsWindow(habits, entries, today, 30);
    expect(w.days).toHaveLength(30);
    expect(w.days[0]).toBe(addDays(today, -29));
    expect(w.days[29]).toBe(today);
    // violin has been done daily for 30 days before the window: its EMA is already near 1
    expect(w.states[0].emas["2"]).toBeGreaterThan(0.85);
    // run every other day: hovers around 0.5
    expect(w.states[29].emas["1"]).toBeGreaterThan(0.4);
    expect(w.states[29].emas["1"]).toBeLessThan(0.65);
    // chess starts on 2026-03-05: absent before, present after
    expect(w.states[0].emas["3"]).toBeUndefined();
    expect(w.states[29].emas["3"]).toBeDefined();
  });

  it("summarises reward, streak, best and weakest habit", () => {
    const w = statsWindow(habits, entries, today, 30);
    const text = statsSummary(habits, w, today);
    expect(text).toContain("Last 30 days (Mon 9 Feb – Tue 10 Mar)");
    expect(text).toContain("Logging streak: 60 days in a row (longest in this period: 30)");
    expect(text).toMatch(/Best: violin — EMA 1\.00, on goal for 30 days/);
    expect(text).toMatch(/Weakest: chess — EMA 0\.00 \(below goal/);
    expect(text).toMatch(/Daily reward: 0\.\d\d on average/);
  });

  it("gives the chart one series per habit, with gaps where a habit did not exist yet", () => {
    const w = statsWindow(habits, entries, today, 30);
    const input = statsChartInput(habits, w);
    expect(input.habits.map((h) => h.name)).toEqual(["run", "violin", "chess"]);
    const chess = input.habits[2].emas;
    expect(chess.slice(0, 24).every((x) => x === null)).toBe(true);
    expect(chess.slice(25).every((x) => x !== null)).toBe(true);
    expect(input.reward).toHaveLength(30);
  });
});

describe("personProgress from the database", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it("renders a PNG and a summary from stored entries", async () => {
    const seeded = await seedPerson(t.db, { today: "2026-03-10", days: 20 });
    const progress = await personProgress(
      { db: t.db, now: () => new Date("2026-03-10T18:00:00Z") },
      seeded.user,
      90,
    );
    expect(progress).not.toBeNull();
    const stats = {
      ...progress!,
      summary: statsSummary(progress!.habits, progress!.window, progress!.today),
    };
    const size = pngSize(stats!.chart);
    expect(size?.width).toBe(1100);
    expect(size!.height).toBeGreaterThan(600);
    expect(stats!.summary).toContain("Last 90 days");
    expect(stats!.summary).toContain("Logging streak: 20 days in a row");
    expect(stats!.summary).toContain("Best: violin");
    expect(stats!.summary).toContain("Weakest: run");
  });

  it("is null for a person without habits", async () => {
    const user = await t.db.prisma.user.create({
      data: { telegramId: 5n, chatId: 5n, displayName: "N" },
    });
    expect(await personProgress({ db: t.db, now: () => new Date() }, user, 30)).toBeNull();
  });
});
