// Prometheus text exposition (format 0.0.4) for the numbers operators need. prom-client keeps
// the process's default metrics (CPU, memory, heap, GC, event-loop lag), the counters and the
// histograms of update handling, webhook answers, Bot API calls (429s counted) and database
// statements; the gauges read from the database (pool, training queue) are written below.
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import type { Database } from "../db/client.js";
import { sheetsMirrorHealth } from "../db/sheets.js";
import { bucketUsage } from "../db/sheets-quota.js";
import { runQueueCounts } from "../db/training-queue.js";

export type CounterName =
  | "telegram_updates_ok"
  | "telegram_updates_error"
  | "telegram_updates_duplicate"
  | "ingest_requests_ok"
  | "ingest_requests_rejected";

const HELP: Record<CounterName, string> = {
  telegram_updates_ok: "Telegram updates handled successfully",
  telegram_updates_error: "Telegram updates whose handler failed",
  telegram_updates_duplicate: "Telegram updates skipped because they were already processed",
  ingest_requests_ok: "Ingest requests accepted",
  ingest_requests_rejected: "Ingest requests rejected (bad token, bad body, too large)",
};

/** Buckets (seconds) for things that should take milliseconds: updates, calls, statements. */
const FAST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class MetricsRegistry {
  /** prom-client's registry: default process metrics, counters, histograms. */
  readonly registry = new Registry();
  private readonly counters = new Map<CounterName, Counter>();
  /** the counters' values, readable synchronously (prom-client's are read asynchronously) */
  private readonly counted = new Map<CounterName, number>();
  private readonly started = Date.now();
  private readonly updateSeconds: Histogram<"outcome">;
  private readonly webhookSeconds: Histogram<"status">;
  private readonly telegramSeconds: Histogram<"method" | "outcome">;
  private readonly telegramRateLimited: Counter<"method">;
  private readonly querySeconds: Histogram<"outcome">;

  constructor(
    private readonly db: Database,
    /** the clock the database-read gauges are computed at (tests pass their own) */
    private readonly clock: () => Date = () => new Date(),
  ) {
    collectDefaultMetrics({ register: this.registry });
    for (const name of Object.keys(HELP) as CounterName[]) {
      this.counters.set(
        name,
        new Counter({
          name: `coachrl_${name}_total`,
          help: HELP[name],
          registers: [this.registry],
        }),
      );
    }
    const histogram = <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Histogram<L>({
        name,
        help,
        labelNames,
        buckets: FAST_BUCKETS,
        registers: [this.registry],
      });
    this.updateSeconds = histogram(
      "coachrl_update_handling_seconds",
      "Time to handle one Telegram update (middleware and command, Bot API calls included)",
      ["outcome"],
    );
    this.webhookSeconds = histogram(
      "coachrl_webhook_response_seconds",
      "Time from a webhook request's arrival to its answer, by HTTP status",
      ["status"],
    );
    this.telegramSeconds = histogram(
      "coachrl_telegram_api_call_seconds",
      "Duration of one outgoing Bot API call (one attempt), by method and outcome",
      ["method", "outcome"],
    );
    this.telegramRateLimited = new Counter({
      name: "coachrl_telegram_api_rate_limited_total",
      help: "Bot API calls answered 429 (Too Many Requests) by Telegram",
      labelNames: ["method"],
      registers: [this.registry],
    });
    this.querySeconds = histogram(
      "coachrl_db_query_seconds",
      "Duration of one statement on the database pool (Postgres)",
      ["outcome"],
    );
    db.observeQueries((seconds, failed) =>
      this.querySeconds.observe({ outcome: failed ? "error" : "ok" }, seconds),
    );
  }

  increment(name: CounterName, by = 1): void {
    this.counters.get(name)!.inc(by);
    this.counted.set(name, this.value(name) + by);
  }

  value(name: CounterName): number {
    return this.counted.get(name) ?? 0;
  }

  observeUpdate(outcome: "ok" | "error" | "duplicate", seconds: number): void {
    this.updateSeconds.observe({ outcome }, seconds);
  }

  observeWebhook(status: number, seconds: number): void {
    this.webhookSeconds.observe({ status: String(status) }, seconds);
  }

  /** One Bot API call attempt; `outcome` "rate-limited" also counts a 429. */
  observeTelegramCall(method: string, outcome: "ok" | "error" | "rate-limited", seconds: number) {
    this.telegramSeconds.observe({ method, outcome }, seconds);
    if (outcome === "rate-limited") this.telegramRateLimited.inc({ method });
  }

  async render(): Promise<string> {
    const lines: string[] = [];
    const gauge = (name: string, help: string, value: number) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`);
    };
    gauge("process_heap_used_bytes", "V8 heap used in bytes", process.memoryUsage().heapUsed);
    gauge(
      "process_uptime_seconds",
      "Seconds since the process started",
      (Date.now() - this.started) / 1000,
    );
    const pool = this.db.poolStats();
    gauge("db_pool_connections", "Open database connections", pool.total);
    gauge("db_pool_idle_connections", "Idle database connections", pool.idle);
    gauge("db_pool_waiting_requests", "Requests waiting for a database connection", pool.waiting);
    gauge("db_pool_max_connections", "Maximum database connections", pool.max);
    // the training queue, from the training runs (the same for pg-boss and in-process)
    const now = this.clock().getTime();
    const queue = await runQueueCounts(this.db, new Date(now)).catch(() => null);
    if (queue !== null) {
      gauge("coachrl_training_queue_waiting", "Retrain jobs waiting in the queue", queue.waiting);
      gauge("coachrl_training_queue_active", "Retrain jobs being trained", queue.active);
      gauge(
        "coachrl_training_queue_failed",
        "Retrain jobs that failed after their retries in the last 24 hours",
        queue.failed,
      );
      gauge(
        "coachrl_training_queue_oldest_waiting_seconds",
        "Age of the oldest waiting retrain job (0 when none waits)",
        queue.oldestWaitingCreatedAt === null
          ? 0
          : Math.max(0, (now - queue.oldestWaitingCreatedAt.getTime()) / 1000),
      );
      gauge(
        "coachrl_training_jobs_finished_per_minute",
        "Retrain jobs that ended trained (succeeded or failed) per minute over the last 15 minutes",
        queue.finishedPerMinute,
      );
      lines.push(
        "# HELP coachrl_training_jobs_finished_by_worker Retrain jobs that ended trained in the last hour, per worker instance",
        "# TYPE coachrl_training_jobs_finished_by_worker gauge",
        ...queue.finishedByWorker.map(
          (w) =>
            `coachrl_training_jobs_finished_by_worker{worker="${labelValue(w.worker)}"} ${w.runs}`,
        ),
      );
    }
    // the Google Sheets mirror: backlog and Google calls per minute per shared quota bucket
    const at = new Date(now);
    const [sheets, buckets] = await Promise.all([
      sheetsMirrorHealth(this.db, at).catch(() => null),
      bucketUsage(this.db, at).catch(() => null),
    ]);
    if (sheets !== null) {
      gauge("coachrl_sheets_linked", "People with a linked Google Sheet", sheets.linked);
      gauge(
        "coachrl_sheets_mirror_backlog",
        "Sheet syncs waiting (pending outbox events)",
        sheets.backlog,
      );
      gauge(
        "coachrl_sheets_mirror_due",
        "Sheet syncs due now (not waiting for a backoff or quota)",
        sheets.due,
      );
    }
    if (buckets !== null) {
      lines.push(
        "# HELP coachrl_sheets_calls_per_minute Google calls in the last full minute, per quota bucket (sheets:read, sheets:write, drive:read)",
        "# TYPE coachrl_sheets_calls_per_minute gauge",
        ...buckets.map(
          (b) => `coachrl_sheets_calls_per_minute{bucket="${labelValue(b.name)}"} ${b.perMinute}`,
        ),
        "# HELP coachrl_sheets_throttled_total Google answers 429 per quota bucket",
        "# TYPE coachrl_sheets_throttled_total counter",
        ...buckets.map(
          (b) => `coachrl_sheets_throttled_total{bucket="${labelValue(b.name)}"} ${b.throttled}`,
        ),
      );
    }
    return `${lines.join("\n")}\n${await this.registry.metrics()}`;
  }
}

/** A Prometheus label value: backslash, double quote and line feed escaped. */
function labelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
