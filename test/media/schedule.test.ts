import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  NIGHTLY_RETRAIN_JOB,
  PLAN_PUSH_JOB,
  startSchedules,
} from "../../src/app/scheduling/schedule.js";
import type {
  RetrainOutcome,
  RetrainRequest,
  RetrainService,
} from "../../src/app/training/retrain.js";
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

describe("morning plan push", () => {
  it("pushes each due plan once even when two instances tick at the same moment", async () => {
    const sent: string[] = [];
    const sendPlan = async (person: { id: number }, day: string) => {
      await new Promise((r) => setTimeout(r, 10));
      sent.push(`${person.id}:${day}`);
    };
    const a = startSchedules(deps, sendPlan, { manual: true, instance: "a" });
    const b = startSchedules(deps, sendPlan, { manual: true, instance: "b" });
    // 06:31 UTC = 07:31 in Berlin (due), 15:31 in Tokyo (8 h late: not pushed late)
    const now = new Date("2026-01-15T06:31:00Z");
    const [ra, rb] = await Promise.all([a.tickPlans(now), b.tickPlans(now)]);
    expect(sent).toEqual([`${ids.berlin}:2026-01-15`]);
    expect(ra.sent + rb.sent).toBe(1);
    expect(ra.skipped + rb.skipped).toBe(1);
    // the next minute's tick finds it claimed
    const later = await a.tickPlans(new Date("2026-01-15T06:32:00Z"));
    expect(later).toEqual({ due: 1, sent: 0, skipped: 1, failed: 0 });
    expect(sent).toHaveLength(1);
    const claims = await t.db.prisma.jobRun.findMany({ where: { job: PLAN_PUSH_JOB } });
    expect(claims.map((c) => c.key)).toEqual([`${ids.berlin}:2026-01-15`]);
    expect(claims[0].finishedAt).not.toBeNull();
    await Promise.all([a.stop(), b.stop()]);
  });

  it("pushes Tokyo's plan at Tokyo's 07:30 and records a failed send without retrying it", async () => {
    const s = startSchedules(
      deps,
      async () => {
        throw new Error("chat not found");
      },
      { manual: true, instance: "c" },
    );
    // 22:30 UTC on the 15th is 07:30 on the 16th in Tokyo
    const result = await s.tickPlans(new Date("2026-01-15T22:30:00Z"));
    expect(result).toEqual({ due: 1, sent: 0, skipped: 0, failed: 1 });
    const claim = await t.db.prisma.jobRun.findUniqueOrThrow({
      where: { job_key: { job: PLAN_PUSH_JOB, key: `${ids.tokyo}:2026-01-16` } },
    });
    expect(claim.error).toBe("chat not found");
    expect((await s.tickPlans(new Date("2026-01-15T22:31:00Z"))).failed).toBe(0);
    await s.stop();
  });
});

describe("nightly retrain", () => {
  it("runs once per scheduled occurrence across instances, for everyone with active habits", async () => {
    const requests: RetrainRequest[] = [];
    const service: RetrainService = {
      async enqueue(request) {
        requests.push(request);
        await new Promise((r) => setTimeout(r, 10));
        return { userId: request.userId, status: "succeeded", activated: true } as RetrainOutcome;
      },
      isBusy: () => false,
      status: () => ({ running: null, queued: 0 }),
      whenIdle: async () => {},
      shutdown: async () => {},
    };
    deps.retrain = service;
    const a = startSchedules(deps, async () => {}, { manual: true, instance: "a" });
    const b = startSchedules(deps, async () => {}, { manual: true, instance: "b" });
    const at = new Date("2026-01-16T02:30:00Z");
    const [ra, rb] = await Promise.all([a.runNightly(at), b.runNightly(at)]);
    expect([ra.ran, rb.ran].sort()).toEqual([false, true]);
    expect(requests.map((r) => r.userId).sort()).toEqual(
      [ids.berlin, ids.tokyo, ids.newcomer].sort(),
    );
    expect(requests.every((r) => r.trigger === "nightly")).toBe(true);
    const claim = await t.db.prisma.jobRun.findUniqueOrThrow({
      where: { job_key: { job: NIGHTLY_RETRAIN_JOB, key: nightlyKey(at) } },
    });
    expect(claim.key).toBe("2026-01-16T02:30Z");
    expect(claim.finishedAt).not.toBeNull();
    // the next night is a new occurrence
    const next = await a.runNightly(new Date("2026-01-17T02:30:00Z"));
    expect(next.ran).toBe(true);
    await Promise.all([a.stop(), b.stop()]);
  });

  it("registers real node-schedule jobs and cancels them on stop", async () => {
    const s = startSchedules(deps, async () => {}, { instance: "real" });
    await s.stop();
  });
});
