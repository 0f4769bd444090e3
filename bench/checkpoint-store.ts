/**
 * What storing and reading a policy checkpoint costs the process that does it (the app's or the
 * worker's event loop): CPU-milliseconds per operation for a checkpoint the size of a 5-habit
 * one (~66 KB), on embedded PGlite and, when TEST_DATABASE_URL or DATABASE_URL names a server,
 * on a scratch database of that Postgres server (dropped after):
 *   - readRow: Prisma's own read of the row, bytes decoded by the driver adapter (hex, per byte);
 *   - readBase64: policyModelBytes, the checkpoint as base64 text (what the app reads);
 *   - writeAdapter: Prisma's own insert of the row with its bytes (hex, per byte), in a
 *     transaction as the app stores a model;
 *   - writeBase64: storePolicyModel (the row, then its bytes as base64 text; what the app writes:
 *     one statement more).
 * Each is the median of BENCH_CHECKPOINT_ROUNDS (5) rounds of 20 operations after 5 warm-ups.
 *
 *   npm run bench:checkpoints > checkpoints.json     (JSON on stdout)
 */
import os from "node:os";
import { type Database, openPglite, openPostgres } from "../src/db/client.js";
import { migrate } from "../src/db/migrate.js";
import { policyModelBytes, storePolicyModel } from "../src/db/training.js";
import { createEmptyPostgresDatabase } from "../test/support/database.js";
import { bareModel } from "../test/support/policy-models.js";

const SIZE = 66_084;
const rounds = Number(process.env.BENCH_CHECKPOINT_ROUNDS ?? 5);
const serverUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || "";

/** Median CPU-milliseconds (this process) per call of `operation`. */
async function cpuMs(operation: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 5; i++) await operation();
  const perRound: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.cpuUsage();
    for (let i = 0; i < 20; i++) await operation();
    const used = process.cpuUsage(start);
    perRound.push((used.user + used.system) / 1000 / 20);
  }
  perRound.sort((a, b) => a - b);
  return Number(perRound[Math.floor(perRound.length / 2)].toFixed(2));
}

async function measure(db: Database) {
  const bytes = Uint8Array.from({ length: SIZE }, (_, i) => (i * 7919) % 256);
  const model = bareModel(bytes);
  const stored = await storePolicyModel(db, model, false);
  return {
    readRow: await cpuMs(() => db.prisma.policyModel.findUnique({ where: { id: stored.id } })),
    readBase64: await cpuMs(() => policyModelBytes(db, stored.id)),
    writeAdapter: await cpuMs(() =>
      db.prisma.$transaction((tx) =>
        tx.policyModel.create({
          data: { bytes, formatVersion: 1, spec: {}, hyperparameters: {} },
          omit: { bytes: true },
        }),
      ),
    ),
    writeBase64: await cpuMs(() => storePolicyModel(db, model, false)),
  };
}

const results: Record<string, unknown> = {};
const pglite = await openPglite(undefined);
await pglite.withSession((session) => migrate(session));
results.pglite = await measure(pglite);
await pglite.close();
if (serverUrl) {
  const scratch = await createEmptyPostgresDatabase(serverUrl);
  const postgres = openPostgres({ url: scratch.url, poolSize: 2, acquireTimeoutMs: 10_000 });
  try {
    await postgres.withSession((session) => migrate(session));
    results.postgres = await measure(postgres);
  } finally {
    await postgres.close();
    await scratch.drop();
  }
}
console.log(
  JSON.stringify(
    {
      checkpointBytes: SIZE,
      unit: "CPU-milliseconds of this process per operation (median of rounds of 20)",
      ...results,
      loadAverage: os.loadavg(),
      cpu: os.cpus()[0]?.model,
      node: process.version,
    },
    null,
    2,
  ),
);
