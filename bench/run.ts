// `npm run bench`: speed and memory of the hot paths outside training, printed as one JSON
// document. RL benchmarks (environment, PPO, planning latency) are `npm run bench:rl`; pass
// --rl to include them here. Database benchmarks use PGlite, and real Postgres when
// BENCH_DATABASE_URL (or TEST_DATABASE_URL) is set.
import { spawnSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import {
  addDays,
  adjustPlan,
  compileHabits,
  createRng,
  emaSeries,
  type HabitEntryLike,
  type HabitSpec,
  heuristicPlan,
  parseReport,
  validateHabit,
} from "../src/coach/index.js";
import type { Database } from "../src/db/client.js";
import { createTestDatabase } from "../test/support/database.js";

function habit(input: Record<string, unknown>): HabitSpec {
  const result = validateHabit(input);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.habit;
}

const HABITS: HabitSpec[] = [
  habit({ id: "run", name: "run", kind: "duration", target: 30, daysPerWeek: 5 }),
  habit({ id: "violin", name: "violin", kind: "duration", target: 20, daysPerWeek: 6 }),
  habit({ id: "meditate", name: "meditate", kind: "check", daysPerWeek: 7 }),
  habit({ id: "read", name: "read", kind: "count", unit: "pages", target: 20, daysPerWeek: 7 }),
  habit({
    id: "pushups",
    name: "push-ups",
    kind: "count",
    unit: "reps",
    target: 60,
    daysPerWeek: 4,
  }),
  habit({
    id: "swim",
    name: "swim",
    kind: "duration",
    target: 45,
    daysPerWeek: 2,
    exclusiveGroup: "cardio",
  }),
  habit({
    id: "bike",
    name: "bike",
    kind: "duration",
    target: 60,
    daysPerWeek: 2,
    exclusiveGroup: "cardio",
  }),
];

/** Runs fn repeatedly for about `ms` milliseconds; returns operations per second. */
function throughput(fn: () => void, ms = 1000): number {
  for (let i = 0; i < 200; i++) fn();
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 100; i++) fn();
    ops += 100;
    now = performance.now();
  }
  return Math.round((ops / (now - start)) * 1000);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function coachBenchmarks() {
  const reports = [
    "run 30, violin 15",
    "ran 45 min yesterday",
    "pushups 3x20",
    "read 12 pages",
    "meditate",
  ];
  let r = 0;
  const parsePerSecond = throughput(() => {
    parseReport(reports[r++ % reports.length]!, HABITS, { today: "2026-11-22" });
  });

  const compiled = compileHabits(HABITS);
  const emas = Float64Array.from(HABITS, (_, i) => (i % 3) * 0.5);
  const levels = new Int32Array(HABITS.length);
  const rng = createRng(1);
  const planPerSecond = throughput(() => {
    heuristicPlan(compiled, emas, levels);
    adjustPlan(compiled, levels, emas, rng, { capacityMinutes: 90 });
  });

  // a year of reports for one person, recomputed from the log
  const entries: HabitEntryLike[] = [];
  const random = createRng(7);
  for (let d = 0; d < 365; d++) {
    const day = addDays("2025-11-22", d);
    for (const h of HABITS) {
      if (random.next() < 0.6)
        entries.push({ habitId: h.id, day, amount: h.target * (0.5 + random.next()) });
    }
  }
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    emaSeries(HABITS, entries, "2025-11-22", "2026-11-21");
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return {
    parseReportsPerSecond: parsePerSecond,
    heuristicPlusAdjustPlansPerSecond: planPerSecond,
    emaSeriesOneYearSevenHabits: {
      entries: entries.length,
      p50Ms: Number(percentile(times, 0.5).toFixed(3)),
      p95Ms: Number(percentile(times, 0.95).toFixed(3)),
    },
  };
}

async function databaseBenchmark(db: Database) {
  const user = await db.prisma.user.create({
    data: { telegramId: 1n, chatId: 1n, displayName: "bench" },
  });
  const created = await db.prisma.habit.create({
    data: {
      userId: user.id,
      name: "run",
      nameKey: "run",
      kind: "duration",
      target: 30,
      daysPerWeek: 5,
      levels: [0, 15, 30, 45],
    },
  });
  const n = 500;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await db.prisma.habitEntry.create({
      data: {
        userId: user.id,
        habitId: created.id,
        day: new Date(Date.UTC(2026, 0, 1 + (i % 300))),
        amount: 30,
        source: "chat",
        idempotencyKey: `bench:${i}`,
      },
    });
  }
  const insertMs = performance.now() - t0;
  const t1 = performance.now();
  const rows = await db.prisma.habitEntry.findMany({
    where: { userId: user.id, retractedAt: null },
    orderBy: { day: "asc" },
  });
  const readMs = performance.now() - t1;
  return {
    driver: db.kind,
    sequentialEntryInsertsPerSecond: Math.round((n / insertMs) * 1000),
    readAllEntriesMs: Number(readMs.toFixed(2)),
    rows: rows.length,
  };
}

async function main() {
  const includeRl = process.argv.includes("--rl");
  const result: Record<string, unknown> = {
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
    cpus: (await import("node:os")).cpus().length,
    coach: coachBenchmarks(),
  };
  const databases: unknown[] = [];
  const pglite = await createTestDatabase({ postgresUrl: null });
  databases.push(await databaseBenchmark(pglite.db));
  await pglite.dispose();
  const postgresUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (postgresUrl) {
    const pg = await createTestDatabase({ postgresUrl });
    databases.push(await databaseBenchmark(pg.db));
    await pg.dispose();
  }
  result.database = databases;
  result.memory = { rssMb: Math.round(process.memoryUsage().rss / 1e6) };
  if (includeRl) {
    const rl = spawnSync("npm", ["run", "-s", "bench:rl"], { encoding: "utf8" });
    try {
      result.rl = JSON.parse(rl.stdout);
    } catch {
      result.rl = { error: `bench:rl exited ${rl.status}`, stderr: rl.stderr.slice(-2000) };
    }
  }
  console.log(JSON.stringify(result, null, 2));
}

await main();
