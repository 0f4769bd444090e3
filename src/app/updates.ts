// Chat deliveries are handled at least once with an exactly-once effect. An update counts as
// processed only when its handler finished: it is claimed (with a lease) before anything runs,
// marked done afterwards, and released when handling failed for a transient reason so that the
// next delivery handles it. A claim whose lease ran out (the instance died, or gave up) is taken
// over by whoever sees the update next. Every write carries an idempotency key, so handling an
// update twice stores nothing twice.
import type { Database } from "../db/client.js";
import { isTransientDatabaseFailure } from "../db/failures.js";
import { pruneSentReplies } from "../db/reply-outbox.js";
import {
  claimUpdate as claimUpdateRow,
  finishUpdate as finishUpdateRow,
  pruneProcessedUpdates,
  releaseUpdate as releaseUpdateRow,
  type UpdateClaim,
} from "../db/updates.js";
import type { AppDeps } from "./deps.js";

export type { UpdateClaim } from "../db/updates.js";

/** How long a claim protects an update that is being handled (the bot's handler timeout). */
export const UPDATE_LEASE_MS = 120_000;
/** How long handled update ids are kept: Telegram re-delivers an update for at most a day. */
export const PROCESSED_UPDATE_RETENTION_MS = 7 * 24 * 3_600_000;

type Deps = Pick<AppDeps, "db">;

/** Claims the update for `holder` (one delivery, with its in-process retries). */
export async function claimUpdate(
  deps: Deps,
  updateId: number,
  holder: string,
): Promise<UpdateClaim> {
  return claimUpdateRow(deps.db, updateId, { holder, leaseMs: UPDATE_LEASE_MS });
}

/** The handler finished (or answered a permanent error): a later delivery is a duplicate. */
export async function finishUpdate(deps: Deps, updateId: number): Promise<void> {
  await finishUpdateRow(deps.db, updateId);
}

/** Attempts at releasing a claim: after a connection reset the pool's first ones may be dead. */
const RELEASE_ATTEMPTS = 4;

/**
 * Handling failed for a transient reason: the next delivery handles the update. When even this
 * fails (the database is down), the claim's lease runs out instead.
 */
export async function releaseUpdate(deps: Deps, updateId: number, holder: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await releaseUpdateRow(deps.db, updateId, holder);
      return;
    } catch (error) {
      if (attempt >= RELEASE_ATTEMPTS || !isTransientDatabaseFailure(error)) throw error;
      // a moment for the pool to drop the connections the server closed
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

/**
 * Forgets updates handled more than the retention ago, and their replies sent from the outbox
 * (src/app/reply-outbox.ts); returns how many updates.
 */
export async function pruneHandledUpdates(db: Database, now: Date): Promise<number> {
  const before = new Date(now.getTime() - PROCESSED_UPDATE_RETENTION_MS);
  await pruneSentReplies(db, before);
  return pruneProcessedUpdates(db, before);
}

export { isTransientDatabaseFailure, TRANSIENT_NETWORK_CODES } from "../db/failures.js";
