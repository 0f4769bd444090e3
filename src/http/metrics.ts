// Prometheus text exposition (format 0.0.4) for the few numbers operators need:
// process, database pool and handled updates.
import type { Database } from "../db/client.js";
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

export class MetricsRegistry {
  private readonly counters = new Map<CounterName, number>();
  private readonly started = Date.now();

  constructor(private readonly db: Database) {}

  increment(name: CounterName, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  value(name: CounterName): number {
    return this.counters.get(name) ?? 0;
  }

  async render(): Promise<string> {
    const lines: string[] = [];
    const gauge = (name: string, help: string, value: number) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`);
    };
    const memory = process.memoryUsage();
    gauge("process_resident_memory_bytes", "Resident memory size in bytes", memory.rss);
    gauge("process_heap_used_bytes", "V8 heap used in bytes", memory.heapUsed);
    gauge(
      "process_uptime_seconds",
      "Seconds since the process started",
      (Date.now() - this.started) / 1000,
    );
    const cpu = process.cpuUsage();
    lines.push(
      "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds",
      "# TYPE process_cpu_seconds_total counter",
      `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`,
    );
    const pool = this.db.poolStats();
    gauge("db_pool_connections", "Open database connections", pool.total);
    gauge("db_pool_idle_connections", "Idle database connections", pool.idle);
    gauge("db_pool_waiting_requests", "Requests waiting for a database connection", pool.waiting);
    gauge("db_pool_max_connections", "Maximum database connections", pool.max);
    // the training queue, from the training runs (the same for pg-boss and in-process)
    const now = Date.now();
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
    for (const name of Object.keys(HELP) as CounterName[]) {
      lines.push(
        `# HELP coachrl_${name}_total ${HELP[name]}`,
        `# TYPE coachrl_${name}_total counter`,
        `coachrl_${name}_total ${this.value(name)}`,
      );
    }
    return `${lines.join("\n")}\n`;
  }
}

/** A Prometheus label value: backslash, double quote and line feed escaped. */
function labelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
