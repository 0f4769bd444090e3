/**
 * The cost of a retrain, for sizing a deployment (docs/operations.md, "Sizing"):
 *   - CPU-seconds per retrain for a 5-habit (personas/steady.json) and a 23-habit
 *     (personas/seed-23.json) person, measured as production measures it: the retrain's worker
 *     thread (workerThreadRunner) reports the job's own CPU time on it (RetrainCost, see
 *     threadCpuSeconds in src/app/training/retrain-job.ts), training and evaluation together,
 *     without the thread's start (threads are kept for the next job: retrain-worker-pool.ts);
 *   - people retrained per hour per core (3600 / CPU-seconds per retrain);
 *   - throughput with 1 and 2 worker threads in one process (2 trainings at a time, as
 *     `coachrl worker --concurrency 2` runs them), and the scaling ratio, with the load average
 *     before and after (the machine may be shared: a busy machine lowers the ratio);
 *   - throughput with 1 and 2 `coachrl worker` processes (concurrency 1 each) draining one
 *     pg-boss queue on real Postgres (when a server is given): people per hour from the first
 *     training's start to the last one's end (process start-up excluded), and the scaling ratio;
 *   - the queue's overhead per job: enqueue → the training starts, on an idle in-process queue
 *     over embedded PGlite (the whole job path: run row, person, habits, history fit);
 *   - the same on pg-boss over real Postgres when TEST_DATABASE_URL or DATABASE_URL is set (in a
 *     scratch database created on that server and dropped after; skipped with a note otherwise):
 *     K tiny jobs queued at once for one worker (concurrency 1) — the first job's enqueue →
 *     start (an idle worker polls every 2 s) and, per following job, the gap from the previous
 *     training's end to the next one's start (the queue's and the job path's overhead when busy).
 *
 *   npm run bench:train > train.json        (JSON on stdout, progress on stderr)
 *
 * The default budget is small so that the whole run takes a few minutes; multiply the CPU-seconds
 * by RETRAIN_STEPS / steps for the training share at the production budget (see the docs).
 * Environment: BENCH_TRAIN_STEPS (20000), BENCH_TRAIN_NUM_ENVS (64), BENCH_TRAIN_EVAL_EPISODES
 * (8), BENCH_TRAIN_EVAL_DAYS (90), BENCH_TRAIN_REPEATS (2 per persona), BENCH_TRAIN_SCALING_JOBS
 * (4), BENCH_TRAIN_QUEUE_JOBS (5, also the K of the pg-boss measurement), BENCH_TRAIN_PROCESS_JOBS
 * (6 per worker-process measurement), BENCH_TRAIN_COST_ONLY=1 (only the CPU-seconds per retrain:
 * e.g. the nightly budget against 200,000 steps at the product's evaluation of 32 × 365 days).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { seedSimulatedPeople } from "../src/app/simulated-people.js";
import { createInProcessQueue } from "../src/app/training/in-process-queue.js";
import { createPgBossQueue } from "../src/app/training/pg-boss-queue.js";
import { waitForRun } from "../src/app/training/queue.js";
import { type RetrainRunner, workerThreadRunner } from "../src/app/training/retrain.js";
import {
  personaFor,
  type RetrainCost,
  type RetrainJobRequest,
} from "../src/app/training/retrain-job.js";
import { parseConfig } from "../src/config.js";
import { type Database, openPglite, openPostgres } from "../src/db/client.js";
import { migrate } from "../src/db/migrate.js";
import { createLogger } from "../src/logger.js";
import { loadPersonaFile } from "../src/rl/persona.js";
import { createEmptyPostgresDatabase } from "../test/support/database.js";

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const STEPS = env("BENCH_TRAIN_STEPS", 20_000);
const NUM_ENVS = env("BENCH_TRAIN_NUM_ENVS", 64);
const EVAL = {
  episodes: env("BENCH_TRAIN_EVAL_EPISODES", 8),
  days: env("BENCH_TRAIN_EVAL_DAYS", 90),
};
const REPEATS = env("BENCH_TRAIN_REPEATS", 2);
const SCALING_JOBS = env("BENCH_TRAIN_SCALING_JOBS", 4);
const QUEUE_JOBS = env("BENCH_TRAIN_QUEUE_JOBS", 5);
const PROCESS_JOBS = env("BENCH_TRAIN_PROCESS_JOBS", 6);

const progress = (message: string) => process.stderr.write(`${message}\n`);
const loadAverage = () => os.loadavg().map((l) => Number(l.toFixed(2)));
const round = (x: number, digits = 3) => Number(x.toFixed(digits));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function requestFor(file: string, seed: number): Promise<RetrainJobRequest> {
  const persona = await loadPersonaFile(file);
  // the persona's own behaviour stands for a behaviour fitted to the person's history
  const p = personaFor(persona.habits, persona.planCapacityMinutes, persona.behaviour);
  return {
    habits: p.habits,
    planCapacityMinutes: persona.planCapacityMinutes,
    behaviour: p.behaviour,
    steps: STEPS,
    cpuSecondsBudget: null,
    seed,
    numEnvs: NUM_ENVS,
    activeCheckpoint: null,
    evaluation: { ...EVAL, seed: 1_000_003 + seed },
  };
}

async function retrain(request: RetrainJobRequest): Promise<{ cost: RetrainCost; wall: number }> {
  const t0 = performance.now();
  const result = await workerThreadRunner(request, () => {}, new AbortController().signal);
  if (!result.cost) throw new Error("the worker reported no cost");
  return { cost: result.cost, wall: (performance.now() - t0) / 1000 };
}

async function costOf(file: string) {
  const runs: { cost: RetrainCost; wall: number }[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const request = await requestFor(file, 100 + i);
    runs.push(await retrain(request));
    const last = runs.at(-1)!;
    progress(
      `${file} #${i + 1}: ${last.cost.cpuSeconds.toFixed(2)} CPU-s (training ${last.cost.trainingCpuSeconds.toFixed(2)}), ${last.wall.toFixed(2)} s wall`,
    );
  }
  const cpu = mean(runs.map((r) => r.cost.cpuSeconds));
  return {
    habits: (await requestFor(file, 0)).habits.length,
    cpuSecondsPerRetrain: round(cpu),
    trainingCpuSeconds: round(mean(runs.map((r) => r.cost.trainingCpuSeconds))),
    setUpAndEvaluationCpuSeconds: round(
      mean(runs.map((r) => r.cost.cpuSeconds - r.cost.trainingCpuSeconds)),
    ),
    wallSecondsPerRetrain: round(mean(runs.map((r) => r.wall))),
    peoplePerHourPerCore: Math.round(3600 / cpu),
    clock: runs[0]!.cost.clock,
    runs: runs.length,
  };
}

/** `jobs` retrains of the 5-habit person, `threads` at a time; people per hour (wall clock). */
async function throughput(threads: number) {
  const requests = await Promise.all(
    Array.from({ length: SCALING_JOBS }, (_, i) => requestFor("personas/steady.json", 200 + i)),
  );
  const loadBefore = loadAverage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: threads }, async () => {
      while (next < requests.length) await retrain(requests[next++]!);
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const result = {
    threads,
    jobs: requests.length,
    wallSeconds: round(wall),
    peoplePerHour: Math.round((requests.length / wall) * 3600),
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadAverage(),
  };
  progress(`${threads} thread(s): ${result.peoplePerHour} people/hour`);
  return result;
}

/** A migrated database with `people` simulated 5-habit people (14 days each), and its deps. */
async function seededDatabase(db: Database, people: number, seed: number) {
  await db.withSession((session) => migrate(session, {}));
  const config = parseConfig({ LOG_LEVEL: "silent", RETRAIN_CRON: "off" });
  const log = createLogger({ level: "silent", pretty: false, secrets: [] });
  const deps = { config, db, log, now: () => new Date() };
  const persona = await loadPersonaFile("personas/steady.json");
  const seeded = await seedSimulatedPeople(deps, persona, { people, days: 14, seed });
  return { deps, userIds: seeded.people.map((p) => p.personId) };
}

/** Enqueue → start of training on an idle in-process queue over PGlite, one job at a time. */
async function queueOverhead() {
  const dir = mkdtempSync(join(os.tmpdir(), "coachrl-bench-train-"));
  const db = await openPglite(dir);
  try {
    const {
      deps,
      userIds: [userId],
    } = await seededDatabase(db, 1, 1);
    let startedAt = 0;
    const queue = createInProcessQueue(deps, {
      runner: (request, onProgress, signal) => {
        startedAt = performance.now();
        return workerThreadRunner(request, onProgress, signal);
      },
    });
    await queue.work(1);
    const overheads: number[] = [];
    for (let i = 0; i < QUEUE_JOBS; i++) {
      const t0 = performance.now();
      const queued = await queue.enqueue({
        userId,
        trigger: "cli",
        steps: 1_000,
        numEnvs: 8,
        evalEpisodes: 2,
        evalDays: 7,
      });
      if (queued.kind !== "queued") throw new Error("the job was not queued");
      await waitForRun(deps, queued.runId, { pollMs: 20, timeoutMs: 120_000 });
      overheads.push((startedAt - t0) / 1000);
    }
    await queue.stop();
    progress(`queue overhead: ${overheads.map((s) => s.toFixed(3)).join(", ")} s`);
    return {
      queue: "in-process (PGlite)",
      jobs: overheads.length,
      medianSeconds: round(median(overheads)),
      maxSeconds: round(Math.max(...overheads)),
    };
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * pg-boss over real Postgres: K tiny jobs queued at once, one worker (concurrency 1, the
 * production polling interval). Reports the first job's enqueue → start and the gaps between
 * one training's end and the next one's start; `{ skipped }` with a note when no Postgres
 * server is given.
 */
async function pgBossOverhead(): Promise<object> {
  const server = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (!server) {
    return { skipped: "set TEST_DATABASE_URL or DATABASE_URL to a Postgres server to measure it" };
  }
  const scratch = await createEmptyPostgresDatabase(server);
  const db = openPostgres({ url: scratch.url, poolSize: 4, acquireTimeoutMs: 10_000 });
  try {
    const {
      deps,
      userIds: [userId],
    } = await seededDatabase(db, 1, 1);
    // the runner's request seed is the run id
    const startedAt = new Map<number, number>();
    const endedAt = new Map<number, number>();
    const runner: RetrainRunner = async (request, onProgress, signal) => {
      startedAt.set(request.seed, performance.now());
      const result = await workerThreadRunner(request, onProgress, signal);
      endedAt.set(request.seed, performance.now());
      return result;
    };
    const queue = await createPgBossQueue(deps, { url: scratch.url, runner, instance: "bench" });
    try {
      const enqueuedAt = new Map<number, number>();
      for (let i = 0; i < QUEUE_JOBS; i++) {
        const t0 = performance.now();
        const queued = await queue.enqueue({
          userId,
          trigger: "cli",
          steps: 1_000,
          numEnvs: 8,
          evalEpisodes: 2,
          evalDays: 7,
        });
        if (queued.kind !== "queued") throw new Error("the job was not queued");
        enqueuedAt.set(queued.runId, t0);
      }
      await queue.work(1);
      for (const runId of enqueuedAt.keys()) {
        await waitForRun(deps, runId, { pollMs: 20, timeoutMs: 300_000 });
      }
      const order = [...startedAt.entries()].sort((a, b) => a[1] - b[1]).map(([id]) => id);
      if (order.length !== enqueuedAt.size) throw new Error("not every job was trained");
      const first = order[0]!;
      const gaps = order
        .slice(1)
        .map((id, i) => (startedAt.get(id)! - endedAt.get(order[i]!)!) / 1000);
      progress(
        `pg-boss: first job ${((startedAt.get(first)! - enqueuedAt.get(first)!) / 1000).toFixed(3)} s; gaps ${gaps.map((g) => g.toFixed(3)).join(", ")} s`,
      );
      return {
        queue: "pg-boss (Postgres), one worker, concurrency 1",
        jobs: order.length,
        firstJobEnqueueToStartSeconds: round(
          (startedAt.get(first)! - enqueuedAt.get(first)!) / 1000,
        ),
        gapBetweenJobsMedianSeconds: gaps.length ? round(median(gaps)) : null,
        gapBetweenJobsMaxSeconds: gaps.length ? round(Math.max(...gaps)) : null,
      };
    } finally {
      await queue.stop();
    }
  } finally {
    await db.close();
    await scratch.drop();
  }
}

/**
 * `coachrl worker` processes (concurrency 1 each, as on a machine per core) draining PROCESS_JOBS
 * retrains of seeded 5-habit people from one pg-boss queue on real Postgres. Throughput is
 * counted from the first training's start to the last one's end (the runs' own timestamps), so
 * process start-up is excluded and the queue's hand-over between jobs is included.
 */
async function workerProcessThroughput(processes: number): Promise<object> {
  const server = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (!server) {
    return { skipped: "set TEST_DATABASE_URL or DATABASE_URL to a Postgres server to measure it" };
  }
  const scratch = await createEmptyPostgresDatabase(server);
  const db = openPostgres({ url: scratch.url, poolSize: 4, acquireTimeoutMs: 10_000 });
  const children: ReturnType<typeof spawn>[] = [];
  try {
    const { deps, userIds } = await seededDatabase(db, PROCESS_JOBS, 7);
    // a queue that only enqueues (no work() here): the worker processes take the jobs
    const queue = await createPgBossQueue(deps, { url: scratch.url, instance: "bench-enqueue" });
    const runIds: number[] = [];
    try {
      for (const userId of userIds) {
        const queued = await queue.enqueue({
          userId,
          trigger: "cli",
          steps: STEPS,
          numEnvs: NUM_ENVS,
          evalEpisodes: EVAL.episodes,
          evalDays: EVAL.days,
        });
        if (queued.kind !== "queued") throw new Error("the job was not queued");
        runIds.push(queued.runId);
      }
    } finally {
      await queue.stop();
    }
    const loadBefore = loadAverage();
    const childEnv = { ...process.env };
    for (const key of Object.keys(childEnv)) {
      if (/^(RETRAIN_|COACHRL_|npm_)/.test(key)) delete childEnv[key];
    }
    for (let i = 0; i < processes; i++) {
      children.push(
        spawn(process.execPath, ["--import", "tsx", "src/cli.ts", "worker", "--concurrency", "1"], {
          env: { ...childEnv, DATABASE_URL: scratch.url, LOG_LEVEL: "warn", RETRAIN_CRON: "off" },
          stdio: ["ignore", "ignore", "inherit"],
        }),
      );
    }
    for (const runId of runIds)
      await waitForRun(deps, runId, { pollMs: 200, timeoutMs: 1_800_000 });
    const rows = await db.prisma.trainingRun.findMany({
      where: { id: { in: runIds } },
      select: { status: true, startedAt: true, finishedAt: true, trainedBy: true },
    });
    if (rows.some((r) => r.status !== "succeeded")) throw new Error("a retrain did not succeed");
    const first = Math.min(...rows.map((r) => r.startedAt!.getTime()));
    const last = Math.max(...rows.map((r) => r.finishedAt!.getTime()));
    const wall = (last - first) / 1000;
    const result = {
      processes,
      jobs: rows.length,
      wallSeconds: round(wall),
      peoplePerHour: Math.round((rows.length / wall) * 3600),
      workersThatTrained: new Set(rows.map((r) => r.trainedBy)).size,
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadAverage(),
    };
    progress(`${processes} worker process(es): ${result.peoplePerHour} people/hour`);
    return result;
  } finally {
    for (const child of children) child.kill("SIGTERM");
    await Promise.all(
      children.map((c) =>
        c.exitCode !== null ? undefined : new Promise((resolve) => c.once("exit", resolve)),
      ),
    );
    await db.close();
    await scratch.drop();
  }
}

const started = performance.now();
const loadAtStart = loadAverage();
const five = await costOf("personas/steady.json");
const twentyThree = await costOf("personas/seed-23.json");
/** What every report starts with: the machine, the budget and the cost per retrain. */
const costReport = () => ({
  machine: {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model ?? null,
    node: process.version,
    loadAverageAtStart: loadAtStart,
    loadAverageAtEnd: loadAverage(),
  },
  budget: { steps: STEPS, numEnvs: NUM_ENVS, evalEpisodes: EVAL.episodes, evalDays: EVAL.days },
  perRetrain: { habits5: five, habits23: twentyThree },
});
if (process.env.BENCH_TRAIN_COST_ONLY === "1") {
  const benchSeconds = round((performance.now() - started) / 1000, 1);
  process.stdout.write(`${JSON.stringify({ ...costReport(), benchSeconds }, null, 2)}\n`);
  process.exit(0);
}
const one = await throughput(1);
const two = await throughput(2);
const oneProcess = (await workerProcessThroughput(1)) as { peoplePerHour?: number };
const twoProcesses = (await workerProcessThroughput(2)) as { peoplePerHour?: number };
const overhead = await queueOverhead();
const pgBoss = await pgBossOverhead();
process.stdout.write(
  `${JSON.stringify(
    {
      ...costReport(),
      scaling: {
        persona: "personas/steady.json",
        oneThread: one,
        twoThreads: two,
        ratio: round(two.peoplePerHour / one.peoplePerHour, 2),
      },
      workerProcesses: {
        persona: "personas/steady.json",
        oneProcess,
        twoProcesses,
        ratio:
          oneProcess.peoplePerHour && twoProcesses.peoplePerHour
            ? round(twoProcesses.peoplePerHour / oneProcess.peoplePerHour, 2)
            : null,
      },
      queueOverheadPerJob: { inProcess: overhead, pgBoss },
      benchSeconds: round((performance.now() - started) / 1000, 1),
    },
    null,
    2,
  )}\n`,
);
