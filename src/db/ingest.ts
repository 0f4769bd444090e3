// Stores ingested body weights: the person is found by the hash of their ingest token (made and
// checked in src/app/people.ts), the samples go into their "weight" metric (the one /weight uses, created in kg if missing) with
// ON CONFLICT DO NOTHING on (user, metric, measured-at), so a re-delivered request or a
// re-imported file adds nothing and the caller learns how many samples were new.
import {
  inUnit,
  type StoredWeightUnit,
  storedWeightUnitOf,
  WEIGHT_METRIC,
  type WeightMeasurement,
} from "../coach/weight.js";
import type { User } from "../generated/prisma/client.js";
import type { EntrySource } from "../generated/prisma/enums.js";
import type { Database } from "./client.js";
import { ensureMetric, findMetric } from "./metrics.js";

const BATCH = 10_000;

/** The person whose stored ingest-token hash is `hash`, or null. */
export async function findUserByIngestTokenHash(db: Database, hash: string): Promise<User | null> {
  return db.prisma.user.findUnique({ where: { ingestTokenHash: hash } });
}

/** The unit the person's weight is kept in: "lb" when their weight metric says so, else "kg". */
export async function weightUnitOfPerson(db: Database, userId: number): Promise<StoredWeightUnit> {
  const metric = await findMetric(db, userId, WEIGHT_METRIC);
  return storedWeightUnitOf(metric?.unit ?? "");
}

export interface StoreResult {
  /** Samples that were new. */
  stored: number;
  /** Samples whose instant was already recorded (re-delivery, re-import, or twice in one file). */
  duplicates: number;
  metricId: number;
  unit: StoredWeightUnit;
}

/**
 * Inserts weight samples idempotently; `source` is "ingest" (HTTP) or "import" (files). One
 * statement per BATCH samples with the values as array parameters (unnest): 50,000 samples cost
 * a few statements, not 50 ORM batches of query building on the app's event loop.
 */
export async function storeWeightSamples(
  db: Database,
  userId: number,
  samples: readonly WeightMeasurement[],
  source: Extract<EntrySource, "ingest" | "import">,
): Promise<StoreResult> {
  const { metric } = await ensureMetric(db, userId, WEIGHT_METRIC, "kg");
  const unit = storedWeightUnitOf(metric.unit);
  let stored = 0;
  for (let i = 0; i < samples.length; i += BATCH) {
    const batch = samples.slice(i, i + BATCH);
    // the column keeps milliseconds
    const instants = batch.map((s) => new Date(Math.floor(s.measuredAt.getTime())).toISOString());
    const values = batch.map((s) => inUnit(s, unit));
    stored += await db.prisma.$executeRaw`
      INSERT INTO metric_samples (user_id, metric_id, value, measured_at, source)
      SELECT ${userId}, ${metric.id}, v, m, ${source}::"EntrySource"
      FROM unnest(${values}::float8[], ${instants}::timestamptz[]) AS s(v, m)
      ON CONFLICT (user_id, metric_id, measured_at) DO NOTHING`;
  }
  return { stored, duplicates: samples.length - stored, metricId: metric.id, unit };
}
