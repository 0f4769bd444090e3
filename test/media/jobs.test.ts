import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimedKeys, claimJob, lastJobRun, runOnce } from "../../src/db/jobs.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.dispose();
});

describe("JobRun claims", () => {
  it("gives a (job, key) to exactly one of many concurrent claimers", async () => {
    const claims = await Promise.all(
      ["a", "b", "c", "d", "e", "f"].map((instance) =>
        claimJob(t.db, "nightly-retrain", "2026-01-15", instance),
      ),
    );
    const winners = claims.filter((c) => c !== null);
    expect(winners).toHaveLength(1);
    expect(
      await t.db.prisma.jobRun.count({ where: { job: "nightly-retrain", key: "2026-01-15" } }),
    ).toBe(1);
    // another key of the same job is free
    expect(await claimJob(t.db, "nightly-retrain", "2026-01-16", "a")).not.toBeNull();
  });

  it("runs the work once when two instances race, and records the finish", async () => {
    let runs = 0;
    const work = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 20));
      return "sent";
    };
    const [first, second] = await Promise.all([
      runOnce(t.db, "plan-push", "1:2026-01-15", "instance-1", work),
      runOnce(t.db, "plan-push", "1:2026-01-15", "instance-2", work),
    ]);
    expect(runs).toBe(1);
    expect([first.ran, second.ran].sort()).toEqual([false, true]);
    const row = await lastJobRun(t.db, "plan-push");
    expect(row?.finishedAt).toBeInstanceOf(Date);
    expect(row?.error).toBeNull();
    expect(await claimedKeys(t.db, "plan-push", ["1:2026-01-15", "2:2026-01-15"])).toEqual(
      new Set(["1:2026-01-15"]),
    );
  });

  it("records the error of a failed run and does not run it again", async () => {
    await expect(
      runOnce(t.db, "plan-push", "2:2026-01-15", "i", async () => {
        throw new Error("telegram down");
      }),
    ).rejects.toThrow("telegram down");
    const row = await t.db.prisma.jobRun.findUnique({
      where: { job_key: { job: "plan-push", key: "2:2026-01-15" } },
    });
    expect(row?.error).toBe("telegram down");
    const again = await runOnce(t.db, "plan-push", "2:2026-01-15", "i", async () => 1);
    expect(again.ran).toBe(false);
  });
});
