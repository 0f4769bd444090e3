// Which database failures are transient: the database is unreachable, the connection was reset
// or terminated, a timeout, a serialization conflict. The same work succeeds when tried again
// later. Anything else (a constraint, a missing column, a bug) fails the same way every time.

/** Prisma error codes: can't reach / timed out / server closed / pool timeout / write conflict. */
const TRANSIENT_PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024", "P2034"]);
/** Driver adapter error kinds (@prisma/adapter-pg, pglite-prisma-adapter). */
const TRANSIENT_ADAPTER_KINDS = new Set([
  "DatabaseNotReachable",
  "ConnectionClosed",
  "SocketTimeout",
  "TransactionWriteConflict",
  "TooManyConnections",
]);
/**
 * SQLSTATEs: 08 connection exception, 40 transaction rollback (serialization failure, deadlock),
 * 53 insufficient resources, 57 operator intervention (terminated by an administrator, statement
 * timeout, the server is starting or shutting down), 55P03 lock timeout, 25P03 idle-in-transaction
 * timeout.
 */
const TRANSIENT_SQLSTATE = /^(08|40|53|57)|^55P03$|^25P03$/;
/** Socket error codes of node-postgres and of fetch. */
export const TRANSIENT_NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);
/**
 * node-postgres errors without a code (the connection went away, the pool had none free, a new
 * connection's connect timeout: "timeout expired", the whole message).
 */
const TRANSIENT_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Can't reach database server|server closed the connection unexpectedly|Client has encountered a connection error|Query read timeout|^timeout expired$/i;

/** The error and its causes (Prisma's driver adapter error, `cause`, AggregateError members). */
export function errorChain(error: unknown): Record<string, unknown>[] {
  const chain: Record<string, unknown>[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && chain.length < 20) {
    const item = queue.shift();
    if (typeof item !== "object" || item === null || chain.includes(item as never)) continue;
    const record = item as Record<string, unknown>;
    chain.push(record);
    const meta = record.meta as { driverAdapterError?: unknown } | undefined;
    queue.push(record.cause, meta?.driverAdapterError);
    if (Array.isArray(record.errors)) queue.push(...record.errors);
  }
  return chain;
}

/** True when the database failed in a way that trying again later can fix. */
export function isTransientDatabaseFailure(error: unknown): boolean {
  return errorChain(error).some((e) => {
    const code = typeof e.code === "string" ? e.code : undefined;
    if (code && TRANSIENT_PRISMA_CODES.has(code)) return true;
    if (typeof e.kind === "string" && TRANSIENT_ADAPTER_KINDS.has(e.kind)) return true;
    if (code && /^[0-9A-Z]{5}$/.test(code) && TRANSIENT_SQLSTATE.test(code)) return true;
    if (code && TRANSIENT_NETWORK_CODES.has(code)) return true;
    return typeof e.message === "string" && TRANSIENT_MESSAGES.test(e.message);
  });
}
