// `coachrl seed`: simulated people created through the bot's own use cases, idempotently, with a
// history the nightly retrain fits a behaviour to. Runs on PGlite, or on real Postgres when
// TEST_DATABASE_URL is set (then the CLI process works on a fresh Postgres database too).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCoachState } from "../../src/app/coach-state.js";
import {
  isSimulatedTelegramId,
  type SeedSummary,
  SIMULATED_TELEGRAM_ID_BASE,
  seedSimulatedPeople,
  simulatedTelegramId,
} from "../../src/app/simulated-people.js";
import { behaviourFor } from "../../src/app/training/retrain.js";
import { parseConfig } from "../../src/config.js";
import { type Database, openPglite, openPostgres } from "../../src/db/client.js";
import { createLogger } from "../../src/logger.js";
import { loadPersonaFile, type Persona } from "../../src/rl/persona.js";
import {
  createEmptyPostgresDatabase,
  createTestDatabase,
  onRealPostgres,
  type TestDatabase,
} from "../support/database.js";

const PERSONA_FILE = "personas/steady.json";
let t: TestDatabase;
let persona: Persona;
const config = parseConfig({ LOG_LEVEL: "silent", TZ_DEFAULT: "Europe/Berlin" });
const log = createLogger({ level: "silent", pretty: false, secrets: [] });
const deps = () => ({ config, db: t.db, log, now: () => new Date() });

beforeAll(async () => {
  t = await createTestDatabase();
  persona = await loadPersonaFile(PERSONA_FILE);
});
afterAll(async () => {
  await t?.dispose();
});

async function counts(db: Database) {
  return {
    people: await db.prisma.user.count(),
    habits: await db.prisma.habit.count(),
    plans: await db.prisma.plan.count(),
    entries: await db.prisma.habitEntry.count(),
  };
}

describe("seeding simulated people", () => {
  let first: SeedSummary;

  it("creates 3 people × 30 days of plans and reports through the application functions", async () => {
    first = await seedSimulatedPeople(deps(), persona, { people: 3, days: 30, seed: 7 });
    expect(first.created).toBe(3);
    expect(first.people.map((p) => p.index)).toEqual([0, 1, 2]);
    const stored = await counts(t.db);
    expect(stored).toMatchObject({ people: 3, habits: 3 * persona.habits.length, plans: 90 });
    expect(stored.entries).toBe(first.entriesStored);
    for (const p of first.people) {
      expect(isSimulatedTelegramId(p.telegramId)).toBe(true);
      expect(p.telegramId).toBe(simulatedTelegramId("steady", 7, p.index));
      expect(p.days).toBe(30);
      expect(p.unreported).toEqual({});
      const person = await t.db.prisma.user.findUniqueOrThrow({ where: { id: p.personId } });
      // registered like anyone (default zone), never onboarded: no morning push to a fake chat
      expect(person.timezone).toBe("Europe/Berlin");
      expect(person.onboardedAt).toBeNull();
      // the persona's habits with the persona's levels
      const state = await loadCoachState(t.db, person, new Date());
      expect(state.specs.map((s) => [s.name, s.levels])).toEqual(
        persona.habits.map((h) => [h.name, h.levels]),
      );
      // one plan a day ending yesterday, made by the planner; reports by tap and in words
      const plans = await t.db.prisma.plan.findMany({
        where: { userId: p.personId },
        orderBy: { day: "asc" },
      });
      expect(plans).toHaveLength(30);
      expect(plans.every((plan) => plan.producedBy === "heuristic")).toBe(true);
      expect(plans[0].day.toISOString().slice(0, 10)).toBe(p.firstDay);
      expect(plans[29].day.toISOString().slice(0, 10)).toBe(p.lastDay);
      const sources = await t.db.prisma.habitEntry.groupBy({
        by: ["source"],
        where: { userId: p.personId },
        _count: true,
      });
      expect(new Set(sources.map((s) => s.source))).toEqual(new Set(["button", "chat"]));
      expect(p.taps).toBeGreaterThan(0);
      expect(p.typed).toBeGreaterThan(0);
    }
    // steady people do most of what is planned: a reliable persona, not noise
    const planned = first.people.reduce((sum, p) => sum + p.taps + p.typed, 0);
    expect(planned / (3 * 30 * persona.habits.length)).toBeGreaterThan(0.6);
    // different people of the same family behave differently
    expect(new Set(first.people.map((p) => p.entriesStored)).size).toBeGreaterThan(1);
  });

  it("stores nothing twice when run again", async () => {
    const before = await counts(t.db);
    const again = await seedSimulatedPeople(deps(), persona, { people: 3, days: 30, seed: 7 });
    expect(again.created).toBe(0);
    expect(again.entriesStored).toBe(0);
    expect(await counts(t.db)).toEqual(before);
    // the same simulated behaviour replayed
    expect(again.people.map((p) => [p.taps, p.typed])).toEqual(
      first.people.map((p) => [p.taps, p.typed]),
    );
  });

  it("gives the nightly retrain a fitted behaviour (30 planned days)", async () => {
    const person = await t.db.prisma.user.findUniqueOrThrow({
      where: { id: first.people[0].personId },
    });
    const { specs } = await loadCoachState(t.db, person, new Date());
    const fitted = await behaviourFor({ db: t.db, now: () => new Date() }, person, specs);
    expect(fitted.source.source).toBe("fitted");
    expect(fitted.source.daysWithPlan).toBe(30);
    expect(fitted.behaviour).not.toBeNull();
    // the fit recovers the persona's reliable compliance on walk (0.85), roughly
    const walk = specs.find((s) => s.name === "Walk")!;
    expect(fitted.behaviour!.habits[walk.id].compliance).toBeGreaterThan(0.6);
  });

  it("keeps simulated Telegram ids out of the range real accounts use", () => {
    expect(SIMULATED_TELEGRAM_ID_BASE).toBe(2n ** 53n);
    expect(isSimulatedTelegramId(2n ** 52n - 1n)).toBe(false);
    expect(simulatedTelegramId("steady", 7, 0)).not.toBe(simulatedTelegramId("steady", 8, 0));
    expect(simulatedTelegramId("steady", 7, 0)).not.toBe(simulatedTelegramId("weekday", 7, 0));
    expect(() => simulatedTelegramId("steady", 7, -1)).toThrow(RangeError);
  });
});

describe("coachrl seed (a real process)", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "coachrl-seed-"));
  let databaseUrl: string | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    if (onRealPostgres) {
      const empty = await createEmptyPostgresDatabase();
      databaseUrl = empty.url;
      dropDatabase = empty.drop;
    }
  });
  afterAll(async () => {
    await dropDatabase?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const cli = (args: string[], dir = dataDir) =>
    spawnSync(process.execPath, ["bin/coachrl.mjs", "seed", ...args], {
      encoding: "utf8",
      env: {
        ...process.env,
        DATA_DIR: dir,
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATABASE_URL: "" }),
        LOG_LEVEL: "warn",
      },
      timeout: 240_000,
    });

  it("--help and unknown flags never act", () => {
    const untouched = join(dataDir, "untouched");
    const help = cli(["--people", "3", "--persona", PERSONA_FILE, "--help"], untouched);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("Usage: coachrl seed --people N --persona FILE");
    const unknown = cli(["--people", "3", "--persona", PERSONA_FILE, "--person", "2"], untouched);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--person'");
    const missing = cli(["--people", "3"], untouched);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("--persona is required");
    const bad = cli(["--people", "many", "--persona", PERSONA_FILE], untouched);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--people must be a whole number ≥ 1, got "many"');
    expect(existsSync(untouched)).toBe(false);
    const noFile = cli(["--people", "1", "--persona", "personas/nope.json"], untouched);
    expect(noFile.status).toBe(1);
    expect(noFile.stderr).toContain("cannot read persona file personas/nope.json");
  });

  it("seeds 3 people × 30 days, prints a JSON summary, and stores nothing new when run again", async () => {
    const args = ["--people", "3", "--persona", PERSONA_FILE, "--days", "30", "--json"];
    const run1 = cli(args);
    expect(run1.stderr).toBe("");
    expect(run1.status).toBe(0);
    const summary = JSON.parse(run1.stdout);
    expect(summary).toMatchObject({ persona: "steady", seed: 1, days: 30, created: 3 });
    expect(summary.people).toHaveLength(3);
    expect(summary.people[0].telegramId).toBe(simulatedTelegramId("steady", 1, 0).toString());
    expect(summary.entriesStored).toBeGreaterThan(100);

    const run2 = cli(args);
    expect(run2.status).toBe(0);
    expect(JSON.parse(run2.stdout)).toMatchObject({ created: 0, entriesStored: 0 });

    const text = cli(["--people", "1", "--persona", PERSONA_FILE, "--days", "30"]);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain("existing steady #1 (simulated, seed 1)");
    expect(text.stdout).toContain("0 created, 0 new entries");

    const db = databaseUrl
      ? openPostgres({
          url: databaseUrl,
          poolSize: 2,
          acquireTimeoutMs: 10_000,
        })
      : await openPglite(dataDir);
    try {
      expect(await counts(db)).toEqual({
        people: 3,
        habits: 15,
        plans: 90,
        entries: summary.entriesStored,
      });
    } finally {
      await db.close();
    }
  }, 600_000);
});
