import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NIGHTLY_RETRAIN_JOB } from "../../src/app/training/nightly.js";
import { parseRetrainArgs, statusReport } from "../../src/bot/commands/admin.js";
import type { BotDeps } from "../../src/bot/context.js";
import { parseConfig } from "../../src/config.js";
import { testBotDeps } from "../support/bot-deps.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

let t: TestDatabase;
let deps: BotDeps;
beforeAll(async () => {
  t = await createTestDatabase();
  deps = testBotDeps(t.db, {
    config: parseConfig({ RETRAIN_CRON: "30 2 * * *" }),
    now: () => new Date("2026-11-22T09:00:00Z"),
  });
});
afterAll(async () => {
  await t?.dispose();
});

describe("/status", () => {
  it("says when the nightly retrain has not run yet and the outbox is empty", async () => {
    const text = await statusReport(deps);
    expect(text).toContain("Database: reachable (");
    expect(text).toContain("People: 0 (0 with active habits)");
    expect(text).toContain("Nightly retrain (30 2 * * * UTC): has not run yet");
    expect(text).toContain("Outbox: empty");
  });

  it("summarises the last nightly run and the backlog", async () => {
    const user = await t.db.prisma.user.create({
      data: { telegramId: 1n, chatId: 1n, displayName: "A" },
    });
    await t.db.prisma.jobRun.create({
      data: {
        job: NIGHTLY_RETRAIN_JOB,
        key: "2026-11-22T02:30Z",
        instance: "host:1",
        startedAt: new Date("2026-11-22T02:30:00Z"),
        finishedAt: new Date("2026-11-22T02:41:00Z"),
      },
    });
    const run = (status: "succeeded" | "failed", activated: boolean, minute: number) =>
      t.db.prisma.trainingRun.create({
        data: {
          userId: user.id,
          trigger: "nightly",
          status,
          hyperparameters: {},
          summary: { activated },
          createdAt: new Date(`2026-11-22T02:${minute}:00Z`),
        },
      });
    await run("succeeded", true, 31);
    await run("succeeded", false, 35);
    await run("failed", false, 38);
    await t.db.prisma.outboxEvent.createMany({
      data: [
        { kind: "sheets_mirror", payload: {}, createdAt: new Date("2026-11-22T08:00:00Z") },
        { kind: "sheets_mirror", payload: {}, attempts: 3, lastError: "503 from Sheets" },
        { kind: "notification", payload: {}, doneAt: new Date() },
        {
          kind: "sheets_mirror",
          payload: {},
          attempts: 10,
          doneAt: new Date("2026-11-22T07:00:00Z"),
          lastError: "gave up after 10 attempts: share the sheet with x@y (Editor)",
        },
        {
          kind: "sheets_mirror",
          payload: {},
          attempts: 10,
          doneAt: new Date("2026-11-20T07:00:00Z"), // older than a day: not counted
          lastError: "gave up after 10 attempts: old",
        },
      ],
    });
    const text = await statusReport(deps);
    expect(text).toContain(
      "Last nightly retrain: 2026-11-22T02:30Z, started 2026-11-22 02:30 UTC by host:1, finished 2026-11-22 02:41 UTC; 3 runs (2 succeeded, 1 failed), 1 activated",
    );
    expect(text).toMatch(/Last training run: #\d+ \(nightly\) failed, created \d+ h ago/);
    expect(text).toContain(
      "Outbox backlog: 2 pending, oldest created 60 min ago; 1 retrying (last error: 503 from Sheets)",
    );
    expect(text).toContain(
      "Outbox gave up on 1 event in the last 24 h (latest: gave up after 10 attempts: share the sheet with x@y (Editor))",
    );
  });
});

describe("/retrain arguments", () => {
  it("reads the target and the options", () => {
    expect(parseRetrainArgs("")).toEqual({
      ok: true,
      value: { target: { kind: "me" }, steps: null, numEnvs: null },
    });
    expect(parseRetrainArgs("all steps=50k")).toEqual({
      ok: true,
      value: { target: { kind: "all" }, steps: 50_000, numEnvs: null },
    });
    expect(parseRetrainArgs("123456789 envs=16")).toEqual({
      ok: true,
      value: { target: { kind: "telegramId", telegramId: 123456789n }, steps: null, numEnvs: 16 },
    });
    expect(parseRetrainArgs("@ada")).toEqual({
      ok: true,
      value: { target: { kind: "name", name: "ada" }, steps: null, numEnvs: null },
    });
  });
  it("names bad options", () => {
    const r = parseRetrainArgs("steps=10");
    expect(r.ok ? "" : r.message).toBe(
      'steps must be a whole number from 512 to 100,000,000, got "10".',
    );
    const e = parseRetrainArgs("envs=0");
    expect(e.ok ? "" : e.message).toBe('envs must be a whole number from 1 to 1024, got "0".');
  });
});
