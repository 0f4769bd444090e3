// The connections of the outgoing-message budget (src/app/send-budget.ts), on the table created
// by migration 20261203150000_telegram_send_budget. The limiter library stamps each statement
// with the time it was built (the window's end is "now + duration"), so a statement that waited
// for a connection would open a window already partly past: the global window gets a connection
// of its own (one statement at a time per process), the per-chat windows share two others.
import pg from "pg";
import type { Database } from "./client.js";

export const SEND_BUDGET_TABLE = "telegram_send_budget";

export interface SendBudgetStore {
  /** What rate-limiter-flexible's Postgres store calls (storeType "pool"): the global window. */
  readonly globalPool: pg.Pool;
  /** The same for the per-chat and per-group windows. */
  readonly chatPool: pg.Pool;
  close(): Promise<void>;
}

export function openSendBudgetStore(url: string): SendBudgetStore {
  const open = (max: number) => {
    const pool = new pg.Pool({
      connectionString: url,
      max,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      statement_timeout: 5_000,
    });
    // a dropped idle connection must not crash the process; the pool replaces it
    pool.on("error", () => {});
    return pool;
  };
  const globalPool = open(1);
  const chatPool = open(2);
  return {
    globalPool,
    chatPool,
    close: async () => {
      await Promise.all([globalPool.end(), chatPool.end()]);
    },
  };
}

/** How many people have each plan time in each time zone (the morning fan-out's shape). */
export async function planTimeGroups(
  db: Database,
): Promise<{ planTime: string; timezone: string; people: number }[]> {
  const groups = await db.prisma.user.groupBy({
    by: ["planTime", "timezone"],
    _count: { _all: true },
  });
  return groups.map((g) => ({ planTime: g.planTime, timezone: g.timezone, people: g._count._all }));
}
