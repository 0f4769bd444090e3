// `npm run soak`: the soak with faults against real Postgres (see docs/operations.md, "Soak with
// faults"). Sizes and faults from the environment:
//   SOAK_PEOPLE (50), SOAK_DAYS (7), SOAK_KILLS (1), SOAK_TRAINING_KILLS (1),
//   SOAK_BLACKHOLE_SECONDS (30), SOAK_DUPLICATE_RATE (0.05), SOAK_CONCURRENCY (8),
//   SOAK_NIGHTLY_CRON ("30 2 * * *"), SOAK_WEIGHT_SHARE (0.2), SOAK_SHEET_SHARE (0.2),
//   SOAK_SHEETS_OUTAGE_MINUTES (60), SOAK_TRAINING_WORKERS (1: the app's COACHRL_WORKERS), SOAK_SEED;
//   TEST_DATABASE_URL or DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test): the
//   server the soak creates (and drops) its own database on.
// Prints one JSON summary on stdout, progress on stderr; exits 1 when anything (a report, a plan
// tap, a weight) was lost or doubled, a plan is missing or doubled, a night's retrain is missing,
// doubled or failed, a linked sheet differs from the database, the app logged an unexpected error,
// or /healthz did not report the outage and the recovery.
import { runSoak } from "../test/support/soak/harness.js";

const number = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    console.error(`${name} must be a non-negative number, got "${raw}"`);
    process.exit(2);
  }
  return value;
};

const serverUrl =
  process.env.TEST_DATABASE_URL ||
  process.env.DATABASE_URL ||
  "postgresql://postgres@127.0.0.1:5432/test";

const summary = await runSoak({
  serverUrl,
  people: number("SOAK_PEOPLE", 50),
  days: number("SOAK_DAYS", 7),
  kills: number("SOAK_KILLS", 1),
  trainingKills: number("SOAK_TRAINING_KILLS", 1),
  nightlyCron: process.env.SOAK_NIGHTLY_CRON || "30 2 * * *",
  weightShare: number("SOAK_WEIGHT_SHARE", 0.2),
  trainingWorkers: number("SOAK_TRAINING_WORKERS", 1),
  sheetShare: number("SOAK_SHEET_SHARE", 0.2),
  sheetsOutageMinutes: number("SOAK_SHEETS_OUTAGE_MINUTES", 60),
  blackHoleMs: number("SOAK_BLACKHOLE_SECONDS", 30) * 1000,
  duplicateRate: number("SOAK_DUPLICATE_RATE", 0.05),
  concurrency: number("SOAK_CONCURRENCY", 8),
  seed: number("SOAK_SEED", 20261130),
  progress: (line) => console.error(`soak: ${line}`),
});
console.log(JSON.stringify(summary, null, 2));
const failed =
  summary.lost > 0 ||
  summary.duplicated > 0 ||
  summary.wrongEntries > 0 ||
  summary.undoMismatches > 0 ||
  summary.plansMissing > 0 ||
  summary.plansDoubled > 0 ||
  summary.planTapsMissing > 0 ||
  summary.planTapsDoubled > 0 ||
  summary.weightsLost > 0 ||
  summary.weightsDuplicated > 0 ||
  summary.mirrorDiffs > 0 ||
  summary.nightlyRuns.missing > 0 ||
  summary.nightlyRuns.notSucceeded > 0 ||
  summary.nightlyRuns.doubled > 0 ||
  Object.keys(summary.appErrors.unexpected).length > 0 ||
  !summary.healthz.outageSeen ||
  !summary.healthz.recoverySeen;
process.exit(failed ? 1 : 0);
