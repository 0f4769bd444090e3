import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  PLAN_PUSH_JOB,
  type SendMorningPlan,
  startSchedules,
} from "../../src/app/scheduling/schedule.js";
import { createInProcessQueue } from "../../src/app/training/in-process-queue.js";
import {
  enqueueNightly,
  NIGHTLY_RETRAIN_JOB,
  nightlyRetrainKey,
} from "../../src/app/training/nightly.js";
import type { BotDeps } from "../../src/bot/context.js";
import { nightlyKey } from "../../src/coach/idempotency.js";
import { parseConfig } from "../../src/config.js";
import { testBotDeps } from "../support/bot-deps.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

let t: TestDatabase;
let deps: BotDeps;
let ids: { berlin: number; tokyo: number; newcomer: number; noHabits: number };

beforeAll(async () => {
  t = await createTestDatabase();
  deps = testBotDeps(t.db, {
    config: parseConfig({ RETRAIN_CRON: "30 2 * * *" }),
    now: () => new Date("2026-01-15T06:31:00Z"),
  });
  const person = async (
    telegramId: bigint,
    timezone: string,
    onboarded: boolean,
    habit: boolean,
  ) => {
    const user = await t.db.prisma.user.create({
      data: {
        telegramId,
        chatId: telegramId,
        displayName: `P${telegramId}`,
        timezone,
        planTime: "07:30",
        onboardedAt: onboarded ? new Date("2026-01-01T00:00:00Z") : null,
      },
    });
    if (habit) {
      await t.db.prisma.habit.create({
        data: {
          userId: user.id,
          name: "run",
          nameKey: "run",
          kind: "duration",
          target: 30,
          daysPerWeek: 5,
          levels: [0, 15, 30],
        },
      });
    }
    return user.id;
  };
  ids = {
    berlin: await person(1n, "Europe/Berlin", true, true),
    tokyo: await person(2n, "Asia/Tokyo", true, true),
    newcomer: await person(3n, "Europe/Berlin", false, true),
    noHabits: await person(4n, "Europe/Berlin", true, false),
  };
});
afterAll(async () => {
  await t?.dispose();
});

/** For schedules whose plan pushes a test does not look at. */
const noPlanPush: SendMorningPlan = async () => ({ kind: "not-needed", reason: "test" });

describe("morning plan push", () => {
  it("pushes each due plan once even when two instances tick at the same moment", async () => {
    const sent: string[] = [];
    const sendPlan: SendMorningPlan = async (person, day) => {
      await new Promise((r) => setTimeout(r, 10));
      sent.push(`${person.id}:${day}`);
      return { kind: "sent" };
    };
    const a = startSchedules(deps, sendPlan, { manual: true, instance: "a" });
    const b = startSchedules(deps, sendPlan, { manual: true, instance: "b" });
    // 06:31 UTC = 07:31 in Berlin (due), 15:31 in Tokyo (8 h late, after the cut-off: not pushed)
    const now = new Date("2026-01-15T06:31:00Z");
    const [ra, rb] = await Promise.all([a.tickPlans(now), b.tickPlans(now)]);
    expect(sent).toEqual([`${ids.berlin}:2026-01-15`]);
    expect(ra.sent + rb.sent).toBe(1);
    expect(ra.skipped + rb.skipped).toBe(1);
    // the next minute's tick finds it claimed
    const later = await a.tickPlans(new Date("2026-01-15T06:32:00Z"));
    expect(later).toEqual({ due: 1, sent: 0, skipped: 1, failed: 0, unreachable: 0 });
    expect(sent).toHaveLength(1);
    const claims = await t.db.prisma.jobRun.findMany({ where: { job: PLAN_PUSH_JOB } });
    expect(claims.map((c) => c.key)).toEqual([`${ids.berlin}:2026-01-15`]);
    expect(claims[0].finishedAt).not.toBeNull();
    expect(claims[0].attempts).toBe(1);
    await Promise.all([a.stop(), b.stop()]);
  });

  it("pushes Tokyo's plan at Tokyo's 07:30 and records a failed send, retried a minute later", async () => {
    let failures = 1;
    const s = startSchedules(
      deps,
      async () => {
        if (failures-- > 0) throw new Error("connection reset");
        return { kind: "sent" };
      },
      { manual: true, instance: "c" },
    );
    // 22:30 UTC on the 15th is 07:30 on the 16th in Tokyo
    const result = await s.tickPlans(new Date("2026-01-15T22:30:00Z"));
    expect(result).toEqual({ due: 1, sent: 0, skipped: 0, failed: 1, unreachable: 0 });
    const claim = await t.db.prisma.jobRun.findUniqueOrThrow({
      where: { job_key: { job: PLAN_PUSH_JOB, key: `${ids.tokyo}:2026-01-16` } },
    });
    expect(claim).toMatchObject({ error: "connection reset", attempts: 1, finishedAt: null });
    expect((await s.tickPlans(new Date("2026-01-15T22:30:50Z"))).skipped).toBe(1);
    expect((await s.tickPlans(new Date("2026-01-15T22:31:30Z"))).sent).toBe(1);
    await s.stop();
  });
});

describe("nightly retrain", () => {
  it("queues one job per person with active habits and night, however many instances fire", async () => {
    const queueA = createInProcessQueue(deps, { instance: "a" });
    const queueB = createInProcessQueue(deps, { instance: "b" });
    const at = new Date("2026-01-16T02:30:00Z");
    const [ra, rb] = await Promise.all([
      enqueueNightly(deps, queueA, at, "a"),
      enqueueNightly(deps, queueB, at, "b"),
    ]);
    expect(ra.queued + rb.queued).toBe(3);
    expect(ra.alreadyQueued + rb.alreadyQueued).toBe(3);
    const runs = await t.db.prisma.trainingRun.findMany({ where: { trigger: "nightly" } });
    expect(runs.map((r) => r.userId).sort()).toEqual([ids.berlin, ids.tokyo, ids.newcomer].sort());
    expect(runs.map((r) => r.jobKey).sort()).toEqual(
      [ids.berlin, ids.tokyo, ids.newcomer].map((id) => nightlyRetrainKey(id, at)).sort(),
    );
    expect(runs.every((r) => r.status === "queued")).toBe(true);
    const claim = await t.db.prisma.jobRun.findUniqueOrThrow({
      where: { job_key: { job: NIGHTLY_RETRAIN_JOB, key: nightlyKey(at) } },
    });
    expect(claim.key).toBe("2026-01-16T02:30Z");
    expect(claim.finishedAt).not.toBeNull();
    // the next night is a new occurrence
    const next = await enqueueNightly(deps, queueA, new Date("2026-01-17T02:30:00Z"), "a");
    expect(next.queued).toBe(3);
    await Promise.all([queueA.stop(), queueB.stop()]);
  });

  it("registers real schedules and cancels them on stop", async () => {
    const s = startSchedules(deps, noPlanPush, { instance: "real" });
    await s.stop();
    const queue = createInProcessQueue(deps);
    await queue.scheduleNightly("30 2 * * *");
    await expect(queue.scheduleNightly("99 99 * * *")).rejects.toThrow(/RETRAIN_CRON/);
    await queue.stop();
  });
});
