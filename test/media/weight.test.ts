import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseMetricArgs, splitMetricName } from "../../src/bot/commands/weight.js";
import { checkMetricValue, parseDecimal } from "../../src/coach/weight.js";
import { ensureMetric, listMetrics, metricSamples, recordSample } from "../../src/db/metrics.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { onboard, startTestBot, type TestBot } from "../support/telegram-bot.js";

describe("numbers", () => {
  it("accepts dot and comma decimals, rejects the rest", () => {
    expect(parseDecimal("72.4")).toBe(72.4);
    expect(parseDecimal("72,4")).toBe(72.4);
    expect(parseDecimal("-3")).toBe(-3);
    expect(parseDecimal(".5")).toBe(0.5);
    for (const bad of ["abc", "72.4.1", "1e3", "7 2", "", "NaN", "Infinity", "72..4", "0x10"]) {
      expect(parseDecimal(bad), bad).toBeNull();
    }
  });
});

describe("/weight arguments", () => {
  const ex = "/weight 72.4";
  it("records a value, with or without a unit", () => {
    expect(parseMetricArgs("72.4", ex)).toEqual({
      ok: true,
      value: { kind: "record", value: 72.4, unit: null },
    });
    expect(parseMetricArgs(" 72,4  kg ", ex)).toEqual({
      ok: true,
      value: { kind: "record", value: 72.4, unit: "kg" },
    });
    expect(parseMetricArgs("160lb", ex)).toEqual({
      ok: true,
      value: { kind: "record", value: 160, unit: "lb" },
    });
  });

  it("shows the chart when there is no argument", () => {
    expect(parseMetricArgs("", ex)).toEqual({ ok: true, value: { kind: "show" } });
  });

  it("sets a goal with an optional tolerance", () => {
    expect(parseMetricArgs("goal 70 1", ex)).toEqual({
      ok: true,
      value: { kind: "goal", target: 70, tolerance: 1 },
    });
    expect(parseMetricArgs("goal 70 ±1.5", ex)).toEqual({
      ok: true,
      value: { kind: "goal", target: 70, tolerance: 1.5 },
    });
    expect(parseMetricArgs("goal 70", ex)).toEqual({
      ok: true,
      value: { kind: "goal", target: 70, tolerance: null },
    });
  });

  it("explains each mistake precisely", () => {
    const msg = (args: string) => {
      const r = parseMetricArgs(args, ex);
      return r.ok ? "" : r.message;
    };
    expect(msg("seventy")).toBe(
      '"seventy" is not a number. Send it like /weight 72.4 (a dot or comma for decimals).',
    );
    expect(msg("72.4.1")).toContain('"72.4.1" is not a number');
    expect(msg("72.4 kg yesterday")).toContain('I don\'t understand "yesterday"');
    expect(msg("72 k9")).toContain('"k9" is not a unit');
    expect(msg("goal")).toContain("Which goal?");
    expect(msg("goal 70 0")).toBe("The tolerance must be more than 0, got 0.");
    expect(msg("goal abc")).toContain('"abc" is not a number');
  });

  it("checks weights for plausibility and unit mismatches", () => {
    expect(checkMetricValue("weight", 72.4, null, "")).toEqual({
      ok: true,
      value: { value: 72.4, unit: "kg" },
    });
    expect(checkMetricValue("weight", 160, "lbs", "")).toEqual({
      ok: true,
      value: { value: 160, unit: "lb" },
    });
    const typo = checkMetricValue("weight", 724, null, "kg");
    expect(typo.ok ? "" : typo.message).toBe(
      "724 kg is not a plausible body weight (I accept 20–400 kg). Send it like /weight 72.4.",
    );
    const negative = checkMetricValue("weight", -70, null, "kg");
    expect(negative.ok).toBe(false);
    const mismatch = checkMetricValue("weight", 160, "lb", "kg");
    expect(mismatch.ok ? "" : mismatch.message).toBe(
      "Your weight is recorded in kg. 160 lb is 72.6 kg: send /weight 72.6.",
    );
    const notWeight = checkMetricValue("weight", 70, "cm", "kg");
    expect(notWeight.ok ? "" : notWeight.message).toContain('"cm" is not a weight unit');
  });

  it("keeps other metrics in the unit they were created with", () => {
    expect(checkMetricValue("waist", 81, "cm", "")).toEqual({
      ok: true,
      value: { value: 81, unit: "cm" },
    });
    expect(checkMetricValue("waist", 81, null, "cm")).toEqual({
      ok: true,
      value: { value: 81, unit: "cm" },
    });
    const r = checkMetricValue("waist", 32, "in", "cm");
    expect(r.ok ? "" : r.message).toContain("waist is recorded in cm, not in");
    expect(checkMetricValue("pulse", 2e9, null, "").ok).toBe(false);
  });

  it("splits /metric arguments into a name and the rest", () => {
    expect(splitMetricName("waist 81 cm")).toEqual({
      ok: true,
      value: { name: "waist", rest: " 81 cm" },
    });
    expect(splitMetricName('"resting pulse" 52')).toEqual({
      ok: true,
      value: { name: "resting pulse", rest: "52" },
    });
    const numeric = splitMetricName("81");
    expect(numeric.ok ? "" : numeric.message).toContain("must contain at least one letter");
  });
});

describe("/weight takes every unit the ingest takes", () => {
  let bot: TestBot;
  beforeAll(async () => {
    bot = await startTestBot({ now: "2026-11-22T09:00:00Z" });
    await onboard(bot, 501);
    await onboard(bot, 502);
    await bot.emulator.ask(502, "/weight 160 lb");
  });
  afterAll(async () => {
    await bot?.stop();
  });

  it("records grams and stones in the person's unit", async () => {
    const [grams] = await bot.emulator.ask(501, "/weight 72400 g");
    expect(grams.text).toMatch(/^Recorded weight 72\.4 kg/);
    const [stones] = await bot.emulator.ask(501, "/weight 11.4 st");
    expect(stones.text).toMatch(/^Recorded weight 72\.39 kg/);
    const [inPounds] = await bot.emulator.ask(502, "/weight 11,4 stone");
    expect(inPounds.text).toMatch(/^Recorded weight 159\.6 lb/);
    const [tooLight] = await bot.emulator.ask(501, "/weight 7240 g");
    expect(tooLight.text).toBe(
      "7240 g (7.2 kg) is not a plausible body weight (I accept 20–400 kg). Send it like /weight 72.4.",
    );
  });

  it("checks plausibility in kilograms whatever the unit", () => {
    expect(checkMetricValue("weight", 72400, "g", "")).toEqual({
      ok: true,
      value: { value: 72.4, unit: "kg" },
    });
    expect(checkMetricValue("weight", 11.4, "st", "lb")).toEqual({
      ok: true,
      value: { value: 159.6, unit: "lb" },
    });
    const light = checkMetricValue("weight", 40, "lb", "lb");
    expect(light.ok ? "" : light.message).toBe(
      "40 lb is not a plausible body weight (I accept 44.1–881.8 lb). Send it like /weight 72.4.",
    );
  });
});

describe("metric samples", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it("stores a re-delivered sample once, and creates a metric once under concurrency", async () => {
    const user = await t.db.prisma.user.create({
      data: { telegramId: 77n, chatId: 77n, displayName: "W" },
    });
    const [a, b] = await Promise.all([
      ensureMetric(t.db, user.id, "Weight", "kg"),
      ensureMetric(t.db, user.id, "weight", "kg"),
    ]);
    expect(a.metric.id).toBe(b.metric.id);
    const at = new Date("2026-03-01T07:00:00Z");
    const sample = {
      userId: user.id,
      metricId: a.metric.id,
      value: 72.4,
      measuredAt: at,
      source: "chat" as const,
    };
    const first = await recordSample(t.db, sample);
    const again = await recordSample(t.db, { ...sample, value: 99 });
    expect(first.stored).toBe(true);
    expect(again.stored).toBe(false);
    expect(again.sample.value).toBe(72.4);
    expect(await metricSamples(t.db, a.metric.id)).toHaveLength(1);
    const list = await listMetrics(t.db, user.id);
    expect(list).toHaveLength(1);
    expect(list[0].count).toBe(1);
    expect(list[0].latest?.value).toBe(72.4);
  });
});
