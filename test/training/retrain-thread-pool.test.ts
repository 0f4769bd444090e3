// The retrain worker threads are kept for the next job (src/app/training/retrain-worker-pool.ts):
// real trainings in real worker threads. A thread runs job after job with the same results as a
// fresh one and without growing its tensors; a stopped job ends its thread; idle threads end;
// a thread is retired after its quota of jobs.
import { afterEach, describe, expect, it } from "vitest";
import { personaFor, type RetrainJobRequest } from "../../src/app/training/retrain-job.js";
import { RetrainThreadPool } from "../../src/app/training/retrain-worker-pool.js";
import { decodeAnyCheckpoint } from "../../src/rl/checkpoint.js";
import { loadPersonaFile } from "../../src/rl/persona.js";

async function request(seed: number): Promise<RetrainJobRequest> {
  const steady = await loadPersonaFile("personas/steady.json");
  return {
    habits: personaFor(steady.habits, null).habits,
    planCapacityMinutes: null,
    steps: 1024,
    seed,
    numEnvs: 8,
    activeCheckpoint: null,
    evaluation: { episodes: 4, days: 30, seed: 1 },
  };
}

const pools: RetrainThreadPool[] = [];
function pool(options?: ConstructorParameters<typeof RetrainThreadPool>[0]) {
  const p = new RetrainThreadPool(options);
  pools.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

const never = () => new AbortController().signal;

/** A checkpoint's weights and what it was trained for (its header also records the wall time). */
function trained(checkpoint: Uint8Array) {
  const { header, weights } = decodeAnyCheckpoint(checkpoint);
  const { training, ...rest } = header as typeof header & { training?: object };
  const {
    elapsedSeconds: _,
    samplesPerSecond: __,
    ...run
  } = (training ?? {}) as Record<string, unknown>;
  return { ...rest, training: run, weights };
}

describe("retrain thread pool", () => {
  it("runs job after job on one thread, with the results of a fresh thread and no tensors piling up", async () => {
    const reused = pool();
    const first = await reused.run(await request(1), () => {}, never());
    const tensorsAfterFirst = reused.stats().tensorsAfterLastJob;
    const second = await reused.run(await request(2), () => {}, never());
    const tensorsAfterSecond = reused.stats().tensorsAfterLastJob;
    const again = await reused.run(await request(1), () => {}, never());
    expect(reused.stats()).toMatchObject({ started: 1, idle: 1 });
    // the same job on a used thread trains the same policy, weight for weight
    expect(trained(again.checkpoint)).toEqual(trained(first.checkpoint));
    expect(again.evaluation).toEqual(first.evaluation);
    const fresh = await pool().run(await request(1), () => {}, never());
    expect(trained(fresh.checkpoint)).toEqual(trained(first.checkpoint));
    expect(trained(again.checkpoint)).not.toEqual(trained(second.checkpoint));
    // whatever a job leaves alive (cached constants) does not grow from job to job
    expect(tensorsAfterFirst).not.toBeNull();
    expect(tensorsAfterSecond).toBe(tensorsAfterFirst);
    expect(reused.stats().tensorsAfterLastJob).toBe(tensorsAfterFirst);
    // a job's CPU is its own, not the thread's since its start
    expect(again.cost!.cpuSeconds).toBeLessThan(first.cost!.cpuSeconds + 5);
    expect(again.cost!.cpuSeconds).toBeGreaterThanOrEqual(again.cost!.trainingCpuSeconds);
  });

  it("ends the thread of a stopped job; the next job gets a new thread", async () => {
    const threads = pool();
    const stop = new AbortController();
    const long = { ...(await request(3)), steps: 1_000_000 };
    const stopped = threads.run(long, () => stop.abort("shutdown"), stop.signal);
    await expect(stopped).rejects.toThrow(/stopped/);
    expect(threads.stats()).toMatchObject({ started: 1, idle: 0 });
    const next = await threads.run(await request(3), () => {}, never());
    expect(next.training).toMatchObject({ steps: 1024 });
    expect(threads.stats()).toMatchObject({ started: 2, idle: 1 });
  });

  it("a failed job ends its thread; idle threads end; a thread is retired after its quota", async () => {
    const threads = pool({ jobsPerThread: 2, idleMs: 300 });
    await expect(
      threads.run({ ...(await request(4)), habits: [] }, () => {}, never()),
    ).rejects.toThrow();
    expect(threads.stats()).toMatchObject({ started: 1, idle: 0 });
    await threads.run(await request(4), () => {}, never());
    await threads.run(await request(5), () => {}, never());
    // two jobs: retired, not kept
    expect(threads.stats()).toMatchObject({ started: 2, idle: 0 });
    await threads.run(await request(6), () => {}, never());
    expect(threads.stats()).toMatchObject({ started: 3, idle: 1 });
    const deadline = Date.now() + 30_000;
    while (threads.stats().idle > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(threads.stats().idle).toBe(0);
  });
});
