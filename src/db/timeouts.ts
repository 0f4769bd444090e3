// How long anything may wait on Postgres: the one home of the defaults (src/config.ts reads the
// overrides from the environment, src/db/client.ts applies them). Without these bounds a network
// partition makes every request wait for as long as it lasts.

export interface DatabaseTimeouts {
  /** Opening one connection (TCP + TLS + authentication). */
  connectMs: number;
  /**
   * One statement on the server (Postgres `statement_timeout`). The client gives up a little
   * later (`queryTimeoutMs`) when the server cannot even say so (a partition).
   */
  statementMs: number;
  /** A transaction left open with nothing running (Postgres `idle_in_transaction_session_timeout`). */
  idleInTransactionMs: number;
}

export const DEFAULT_DATABASE_TIMEOUTS: DatabaseTimeouts = {
  // a connection on a healthy network opens in milliseconds (tens with TLS across a region);
  // 5 s tolerates a busy server without letting a partition hold a request for long
  connectMs: 5_000,
  // The slowest statements are the largest writes: a trained policy (a few hundred kB of weights
  // in one row, storePolicyModel) and a person's full history for /export or a retrain. They take
  // well under a second; 15 s leaves room for a loaded server and still bounds a stuck one.
  statementMs: 15_000,
  // Prisma ends an interactive transaction after 5 s (its default timeout, which the app keeps);
  // twice that frees the row locks of a client that vanished mid-transaction.
  idleInTransactionMs: 10_000,
};

/** The client's own deadline for an answer: the server's timeout plus a margin for its reply. */
export function queryTimeoutMs(timeouts: DatabaseTimeouts): number {
  return timeouts.statementMs + 1_000;
}

/**
 * TCP keepalive on every connection, probing after this long idle, so that a peer that vanished
 * (a partition, a failed-over server) is noticed by the OS and the connection dropped.
 */
export const KEEPALIVE_INITIAL_DELAY_MS = 10_000;
