// Token buckets shared by every instance (sheets_quota), one per Google quota: Sheets reads,
// Sheets writes, Drive reads. Taking a token is one UPDATE that refills the bucket for the time
// elapsed (at `ratePerMinute`, up to `capacity`) and takes one when there is one, so instances
// on one Postgres never spend more than the project's quota together. A 429 from Google blocks
// the bucket for everyone until `blockedUntil`. Each row also counts the calls of the current and
// the previous minute (the rate /status and /metrics show). Times come from the caller's clock.
import type { Database } from "./client.js";

export interface BucketRule {
  /** tokens added per minute */
  ratePerMinute: number;
  /** most tokens held at once (the largest burst) */
  capacity: number;
}

export type TakeOutcome = { granted: true } | { granted: false; waitMs: number };

const minuteOf = (at: Date) => new Date(Math.floor(at.getTime() / 60_000) * 60_000);

/** Takes one token from bucket `name` at `now`, or says how long until one is there. */
export async function takeToken(
  db: Database,
  name: string,
  now: Date,
  rule: BucketRule,
): Promise<TakeOutcome> {
  const minute = minuteOf(now);
  const previousMinute = new Date(minute.getTime() - 60_000);
  await db.prisma.$executeRaw`
    INSERT INTO sheets_quota (name, tokens, refilled_at, window_start)
    VALUES (${name}, ${rule.capacity}, ${now}, ${minute})
    ON CONFLICT (name) DO NOTHING`;
  const taken = await db.prisma.$queryRaw<{ tokens: number }[]>`
    UPDATE sheets_quota SET
      tokens = least(${rule.capacity}::float8, tokens + greatest(0, extract(epoch FROM (${now}::timestamptz - refilled_at))) * ${rule.ratePerMinute}::float8 / 60) - 1,
      refilled_at = greatest(refilled_at, ${now}::timestamptz),
      previous_used = CASE WHEN window_start = ${minute}::timestamptz THEN previous_used
                           WHEN window_start = ${previousMinute}::timestamptz THEN window_used
                           ELSE 0 END,
      window_used = CASE WHEN window_start = ${minute}::timestamptz THEN window_used + 1 ELSE 1 END,
      window_start = greatest(window_start, ${minute}::timestamptz)
    WHERE name = ${name}
      AND (blocked_until IS NULL OR blocked_until <= ${now}::timestamptz)
      AND least(${rule.capacity}::float8, tokens + greatest(0, extract(epoch FROM (${now}::timestamptz - refilled_at))) * ${rule.ratePerMinute}::float8 / 60) >= 1
    RETURNING tokens`;
  if (taken.length === 1) return { granted: true };
  const row = await db.prisma.sheetsQuota.findUnique({ where: { name } });
  if (row === null) return { granted: false, waitMs: 1_000 };
  if (row.blockedUntil !== null && row.blockedUntil > now) {
    return { granted: false, waitMs: row.blockedUntil.getTime() - now.getTime() };
  }
  const elapsed = Math.max(0, now.getTime() - row.refilledAt.getTime());
  const tokens = Math.min(rule.capacity, row.tokens + (elapsed * rule.ratePerMinute) / 60_000);
  const waitMs = Math.ceil(((1 - tokens) * 60_000) / rule.ratePerMinute);
  return { granted: false, waitMs: Math.max(1, waitMs) };
}

/** Google answered 429: nobody takes from the bucket until `until`, and it starts empty then. */
export async function blockBucket(db: Database, name: string, until: Date): Promise<void> {
  await db.prisma.$executeRaw`
    INSERT INTO sheets_quota (name, tokens, refilled_at, window_start, blocked_until, throttled)
    VALUES (${name}, 0, ${until}, ${minuteOf(until)}, ${until}, 1)
    ON CONFLICT (name) DO UPDATE SET
      blocked_until = greatest(coalesce(sheets_quota.blocked_until, ${until}::timestamptz), ${until}::timestamptz),
      tokens = 0,
      refilled_at = greatest(sheets_quota.refilled_at, ${until}::timestamptz),
      throttled = sheets_quota.throttled + 1`;
}

export interface BucketUsage {
  name: string;
  /** calls in the last full minute (or the current one when it is the only one counted) */
  perMinute: number;
  /** 429s answered by Google since the bucket was created */
  throttled: number;
  blockedUntil: Date | null;
}

/** Calls per minute of each bucket as of `now` (0 when no call in the last two minutes). */
export async function bucketUsage(db: Database, now: Date): Promise<BucketUsage[]> {
  const rows = await db.prisma.sheetsQuota.findMany({ orderBy: { name: "asc" } });
  const minute = minuteOf(now).getTime();
  return rows.map((r) => {
    const start = r.windowStart.getTime();
    const perMinute =
      start === minute ? r.previousUsed : start === minute - 60_000 ? r.windowUsed : 0;
    return {
      name: r.name,
      perMinute,
      throttled: r.throttled,
      blockedUntil: r.blockedUntil !== null && r.blockedUntil > now ? r.blockedUntil : null,
    };
  });
}
