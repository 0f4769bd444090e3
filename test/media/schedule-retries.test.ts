// Morning plans always arrive: the real bot (long polling against the Bot API emulator, which
// fails calls on request), the real plan sender and schedules, a real database (PGlite, or
// Postgres with TEST_DATABASE_URL), and the test clock instead of real waiting.
import { afterEach, describe, expect, it } from "vitest";
import {
  PLAN_PUSH_JOB,
  type PlanTickResult,
  type Schedules,
  startSchedules,
} from "../../src/app/scheduling/schedule.js";
import { createPlanSender } from "../../src/bot/commands/plan.js";
import { planPushKey } from "../../src/coach/idempotency.js";
import { claimAttempt, dueAttemptKeys } from "../../src/db/jobs.js";
import { onboard, startTestBot, type TestBot } from "../support/telegram-bot.js";

const ANNA = 601;
const BEN = 602;
// UTC people with the default plan time 07:30: the cut-off is 12:30
const MONDAY = "2026-11-23";
const at = (time: string, day = MONDAY) => new Date(`${day}T${time}Z`);

let t: TestBot;
/** sendMessage calls made before the mornings under test (onboarding's replies) */
let onboardingCalls = 0;
const running: Schedules[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
  await t?.stop();
});

async function botWith(...people: number[]): Promise<TestBot> {
  t = await startTestBot({ now: "2026-11-22T18:00:00Z" });
  for (const id of people) await onboard(t, id, { habits: ["run 30min 5/week"] });
  onboardingCalls = t.emulator.callsOf("sendMessage").length;
  return t;
}

/** A running instance of the app's schedules (ticked by hand), sending through the real bot. */
function instance(name: string): Schedules {
  const s = startSchedules(t.deps, createPlanSender(t.bot.telegram, t.deps), {
    manual: true,
    instance: name,
  });
  running.push(s);
  return s;
}

/** Ticks every instance at once at `time` (the test clock is set there first). */
async function tickAt(time: Date, ...instances: Schedules[]): Promise<PlanTickResult[]> {
  t.clock.set(time);
  return Promise.all(instances.map((s) => s.tickPlans(time)));
}

const morningPlans = (userId: number) =>
  t.emulator.botMessages(userId).filter((m) => m.text?.startsWith("Good morning!"));

/** Attempts to message the person since onboarding (failed ones too). */
const sendsTo = (userId: number) =>
  t.emulator
    .callsOf("sendMessage")
    .slice(onboardingCalls)
    .filter((c) => Number(c.payload.chat_id) === userId).length;

async function pushRecord(userId: number, day = MONDAY) {
  const person = await t.db.prisma.user.findUniqueOrThrow({
    where: { telegramId: BigInt(userId) },
  });
  return t.db.prisma.jobRun.findUniqueOrThrow({
    where: { job_key: { job: PLAN_PUSH_JOB, key: planPushKey(person.id, day) } },
  });
}

const sum = (results: PlanTickResult[], field: keyof PlanTickResult) =>
  results.reduce((total, r) => total + r[field], 0);

describe("a failed morning push", () => {
  it("is retried after a 500 and arrives once", async () => {
    await botWith(ANNA);
    const s = instance("a");
    t.emulator.failNext("sendMessage", { code: 500, description: "Internal Server Error" });
    const [first] = await tickAt(at("07:30:00"), s);
    expect(first).toMatchObject({ due: 1, sent: 0, failed: 1 });
    expect(morningPlans(ANNA)).toHaveLength(0);
    const failed = await pushRecord(ANNA);
    expect(failed).toMatchObject({ attempts: 1, finishedAt: null });
    expect(failed.error).toContain("500");
    // the first retry is a minute later
    expect(failed.nextAttemptAt!.getTime() - at("07:30:00").getTime()).toBeGreaterThanOrEqual(
      60_000,
    );
    expect(failed.nextAttemptAt!.getTime() - at("07:30:00").getTime()).toBeLessThan(70_000);
    await tickAt(at("07:30:40"), s);
    expect(sendsTo(ANNA)).toBe(1);
    const [retry] = await tickAt(at("07:31:15"), s);
    expect(retry).toMatchObject({ sent: 1, failed: 0 });
    expect(morningPlans(ANNA)).toHaveLength(1);
    expect(await pushRecord(ANNA)).toMatchObject({ attempts: 2, error: null, nextAttemptAt: null });
    // done: later ticks leave it alone
    await tickAt(at("07:45:00"), s);
    await tickAt(at("09:00:00"), s);
    expect(morningPlans(ANNA)).toHaveLength(1);
    expect(sendsTo(ANNA)).toBe(2);
  });

  it("waits as long as a 429's retry_after asks (120 s), not the shorter backoff", async () => {
    await botWith(ANNA);
    const s = instance("a");
    t.emulator.failNext("sendMessage", {
      code: 429,
      description: "Too Many Requests: retry after 120",
      parameters: { retry_after: 120 },
    });
    await tickAt(at("07:30:00"), s);
    expect(sendsTo(ANNA)).toBe(1);
    // too long to wait for in-process: the Telegram client gave up at once, the schedule waits
    expect(t.sleeps).toEqual([]);
    for (const time of ["07:31:00", "07:31:30", "07:31:59"]) {
      await tickAt(at(time), s);
      expect(sendsTo(ANNA), time).toBe(1);
    }
    const [retry] = await tickAt(at("07:32:10"), s);
    expect(retry.sent).toBe(1);
    expect(morningPlans(ANNA)).toHaveLength(1);
  });

  it("is retried with growing waits until it goes through", async () => {
    await botWith(ANNA);
    const s = instance("a");
    for (let i = 0; i < 3; i++)
      t.emulator.failNext("sendMessage", { code: 502, description: "Bad Gateway" });
    await tickAt(at("07:30:00"), s); // fails; next at 07:31
    await tickAt(at("07:31:05"), s); // fails; next at 07:33
    await tickAt(at("07:32:30"), s); // not yet
    expect(sendsTo(ANNA)).toBe(2);
    await tickAt(at("07:33:10"), s); // fails; next at 07:37
    await tickAt(at("07:36:30"), s); // not yet
    expect(sendsTo(ANNA)).toBe(3);
    await tickAt(at("07:37:15"), s);
    expect(morningPlans(ANNA)).toHaveLength(1);
    expect(await pushRecord(ANNA)).toMatchObject({ attempts: 4, error: null });
  });
});

describe("a person who blocked the bot", () => {
  it("is marked on 403, gets no more pushes, and is unmarked when they write again", async () => {
    await botWith(ANNA, BEN);
    const s = instance("a");
    t.emulator.block(ANNA);
    const [monday] = await tickAt(at("07:30:00"), s);
    expect(monday).toMatchObject({ due: 2, sent: 1, unreachable: 1, failed: 0 });
    const anna = await t.db.prisma.user.findUniqueOrThrow({ where: { telegramId: BigInt(ANNA) } });
    expect(anna.blockedAt).toEqual(at("07:30:00"));
    const record = await pushRecord(ANNA);
    expect(record.finishedAt).not.toBeNull();
    expect(record.error).toMatch(/403.*blocked/);
    // not retried, and not pushed the next mornings; Ben still is
    await tickAt(at("07:35:00"), s);
    await tickAt(at("07:30:00", "2026-11-24"), s);
    await tickAt(at("08:00:00", "2026-11-24"), s);
    expect(sendsTo(ANNA)).toBe(1);
    expect(morningPlans(BEN)).toHaveLength(2);
    // Anna unblocks the bot and writes: she is reachable again, and Wednesday's plan arrives
    t.emulator.unblock(ANNA);
    t.clock.set(at("18:00:00", "2026-11-24"));
    await t.emulator.ask(ANNA, "/plan");
    const back = await t.db.prisma.user.findUniqueOrThrow({ where: { telegramId: BigInt(ANNA) } });
    expect(back.blockedAt).toBeNull();
    const [wednesday] = await tickAt(at("07:30:00", "2026-11-25"), s);
    expect(wednesday).toMatchObject({ due: 2, sent: 2 });
    expect(morningPlans(ANNA)).toHaveLength(1);
  });
});

describe("several instances", () => {
  it("send each plan exactly once when they tick at the same moment, retries included", async () => {
    await botWith(ANNA, BEN);
    const a = instance("a");
    const b = instance("b");
    const c = instance("c");
    t.emulator.failNext("sendMessage", { code: 500, description: "Internal Server Error" });
    const first = await tickAt(at("07:30:00"), a, b, c);
    // one attempt per person: one of them failed, the other went out
    expect(sum(first, "sent")).toBe(1);
    expect(sum(first, "failed")).toBe(1);
    expect(sendsTo(ANNA) + sendsTo(BEN)).toBe(2);
    const retries = await tickAt(at("07:31:15"), a, b, c);
    expect(sum(retries, "sent")).toBe(1);
    for (const time of ["07:31:30", "07:40:00", "12:00:00"]) await tickAt(at(time), a, b, c);
    expect(morningPlans(ANNA)).toHaveLength(1);
    expect(morningPlans(BEN)).toHaveLength(1);
    expect(sendsTo(ANNA) + sendsTo(BEN)).toBe(3);
    const plans = await t.db.prisma.plan.findMany({ where: { sentAt: { not: null } } });
    expect(plans).toHaveLength(2);
  });
});

describe("a restart", () => {
  it("continues a pending retry in the new instance", async () => {
    await botWith(ANNA);
    const before = instance("before-restart");
    t.emulator.failNext("sendMessage", { code: 500, description: "Internal Server Error" });
    await tickAt(at("07:30:00"), before);
    await before.stop();
    const after = instance("after-restart");
    await tickAt(at("07:31:15"), after);
    expect(morningPlans(ANNA)).toHaveLength(1);
    expect(await pushRecord(ANNA)).toMatchObject({ attempts: 2, instance: "after-restart" });
  });

  it("retries an attempt whose instance died mid-send once its lease has run out", async () => {
    await botWith(ANNA);
    const person = await t.db.prisma.user.findUniqueOrThrow({
      where: { telegramId: BigInt(ANNA) },
    });
    const key = planPushKey(person.id, MONDAY);
    // an instance claimed the attempt at 07:30 and was killed before it sent anything
    await dueAttemptKeys(t.db, PLAN_PUSH_JOB, [key], "killed", at("07:30:00"));
    const claimed = await claimAttempt(
      t.db,
      PLAN_PUSH_JOB,
      key,
      "killed",
      at("07:30:00"),
      at("07:40:00"),
    );
    expect(claimed).not.toBeNull();
    const s = instance("survivor");
    await tickAt(at("07:35:00"), s);
    expect(sendsTo(ANNA)).toBe(0);
    await tickAt(at("07:40:00"), s);
    expect(morningPlans(ANNA)).toHaveLength(1);
    expect(await pushRecord(ANNA)).toMatchObject({ attempts: 2, instance: "survivor" });
  });
});

describe("the cut-off (5 h after the plan time)", () => {
  it("still pushes a plan whose time passed during downtime, but not after the cut-off", async () => {
    await botWith(ANNA);
    const s = instance("a");
    // the app was down from 07:00 to 12:29: 4 h 59 min late is still worth it
    const [late] = await tickAt(at("12:29:00"), s);
    expect(late.sent).toBe(1);
    // the next day it comes back at 12:30: nothing is pushed that day
    const [tooLate] = await tickAt(at("12:30:00", "2026-11-24"), s);
    expect(tooLate.due).toBe(0);
    await tickAt(at("15:00:00", "2026-11-24"), s);
    expect(morningPlans(ANNA)).toHaveLength(1);
  });

  it("stops retrying when the next attempt would come after the cut-off", async () => {
    await botWith(ANNA);
    const s = instance("a");
    t.emulator.failNext("sendMessage", { code: 500, description: "Internal Server Error" });
    await tickAt(at("12:29:30"), s);
    const gaveUp = await pushRecord(ANNA);
    expect(gaveUp.finishedAt).not.toBeNull();
    expect(gaveUp.nextAttemptAt).toBeNull();
    expect(gaveUp.error).toMatch(/500.*cut-off/);
    for (const time of ["12:30:30", "12:31:00", "18:00:00"]) await tickAt(at(time), s);
    expect(sendsTo(ANNA)).toBe(1);
    expect(morningPlans(ANNA)).toHaveLength(0);
  });
});
