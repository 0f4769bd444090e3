import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  addDays,
  alphaFromSpan,
  compileHabits,
  type DayState,
  DEFAULT_EMA_SPAN_DAYS,
  dailyAmounts,
  dailyReward,
  dayAmount,
  daysBetween,
  emaSeries,
  emaStep,
  groupRewards,
  type HabitEntryLike,
  type HabitSpec,
  habitStartDay,
  INITIAL_EMA,
  lifetimeOptions,
  maxNormalisedValue,
  metricDeviation,
  metricDistance,
  NORMALISED_CAP,
  nextDayState,
  normalisedValue,
  rewardWithMetrics,
  stepEmas,
} from "../../src/coach/index.js";
import { habit } from "./fixtures.js";

const run = { target: 30, daysPerWeek: 5 };

describe("normalisation", () => {
  it("scales by target and days per week (worked numbers in docs/method.md)", () => {
    expect(normalisedValue(run, 30)).toBeCloseTo(1.4, 12);
    expect(normalisedValue(run, 15)).toBeCloseTo(0.7, 12);
    expect(normalisedValue({ target: 60, daysPerWeek: 1 }, 60)).toBe(7);
    expect(normalisedValue({ target: 1, daysPerWeek: 7 }, 1)).toBe(1);
  });

  it("caps one day at NORMALISED_CAP sessions", () => {
    expect(NORMALISED_CAP).toBe(2);
    expect(normalisedValue(run, 90)).toBeCloseTo(2.8, 12);
    expect(normalisedValue(run, 240)).toBeCloseTo(2.8, 12);
    expect(maxNormalisedValue(run)).toBeCloseTo(2.8, 12);
    expect(maxNormalisedValue({ daysPerWeek: 1 })).toBe(14);
  });

  it("counts nothing for missing, negative or NaN amounts", () => {
    expect(normalisedValue(run, 0)).toBe(0);
    expect(normalisedValue(run, -30)).toBe(0);
    expect(normalisedValue(run, Number.NaN)).toBe(0);
  });
});

describe("EMA", () => {
  it("uses α = 2 / (span + 1) with a 14-day default span and starts at 0", () => {
    expect(DEFAULT_EMA_SPAN_DAYS).toBe(14);
    expect(alphaFromSpan(14)).toBeCloseTo(2 / 15, 15);
    expect(INITIAL_EMA).toBe(0);
    expect(() => alphaFromSpan(0)).toThrow(RangeError);
  });

  it("steps: 0.8 then a session at target (n = 1.4) → 0.88", () => {
    expect(emaStep(0.8, 1.4, alphaFromSpan(14))).toBeCloseTo(0.88, 12);
  });

  it("5 of 7 days at target converges to an EMA oscillating around 1", () => {
    const alpha = alphaFromSpan(DEFAULT_EMA_SPAN_DAYS);
    let ema = INITIAL_EMA;
    const byDay: number[] = [];
    for (let d = 0; d < 20 * 7; d++) {
      ema = emaStep(ema, normalisedValue(run, d % 7 < 5 ? 30 : 0), alpha);
      byDay.push(ema);
    }
    // From scratch: a week, two weeks, four weeks.
    expect(byDay[6]).toBeCloseTo(0.5374, 4);
    expect(byDay[13]).toBeCloseTo(0.7348, 4);
    expect(byDay[27]).toBeCloseTo(0.8339, 4);
    // The last week: Monday … Sunday.
    const week = byDay.slice(-7);
    const expected = [0.9227, 0.9864, 1.0415, 1.0893, 1.1307, 0.98, 0.8493];
    week.forEach((x, i) => {
      expect(x).toBeCloseTo(expected[i], 4);
    });
    expect(Math.min(...week)).toBeLessThan(1);
    expect(Math.max(...week)).toBeGreaterThan(1);
    expect(week.reduce((s, x) => s + x, 0) / 7).toBeCloseTo(1, 6);
  });

  it("any 5 days a week at target (days vary) keeps the long-run mean at 1", () => {
    fc.assert(
      fc.property(
        fc.array(fc.shuffledSubarray([0, 1, 2, 3, 4, 5, 6], { minLength: 5, maxLength: 5 }), {
          minLength: 60,
          maxLength: 60,
        }),
        (weeks) => {
          const alpha = alphaFromSpan(DEFAULT_EMA_SPAN_DAYS);
          let ema = 1;
          let sum = 0;
          let lo = Number.POSITIVE_INFINITY;
          let hi = 0;
          weeks.forEach((days, w) => {
            for (let d = 0; d < 7; d++) {
              ema = emaStep(ema, normalisedValue(run, days.includes(d) ? 30 : 0), alpha);
              if (w >= 4) {
                sum += ema;
                lo = Math.min(lo, ema);
                hi = Math.max(hi, ema);
              }
            }
          });
          const mean = sum / (56 * 7);
          expect(Math.abs(mean - 1)).toBeLessThan(0.02);
          expect(lo).toBeGreaterThan(0.55);
          expect(hi).toBeLessThan(1.5);
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe("reward", () => {
  it("is 1 − mean |1 − ema| (worked numbers)", () => {
    expect(dailyReward([0.88, 1.2, 0.5])).toBeCloseTo(1 - (0.12 + 0.2 + 0.5) / 3, 12);
    expect(dailyReward([0.88, 1.2, 0.5])).toBeCloseTo(0.72667, 5);
    expect(dailyReward([1, 1])).toBe(1);
    expect(dailyReward([])).toBe(0);
  });

  it("per actor group, writing into a reused buffer", () => {
    const out = new Float64Array(3);
    const res = groupRewards([0.88, 1.2, 0.5], [0, 0, 1], 3, out);
    expect(res).toBe(out);
    expect(res[0]).toBeCloseTo(0.84, 12);
    expect(res[1]).toBeCloseTo(0.5, 12);
    expect(res[2]).toBe(0);
    groupRewards([1, 1, 1], [0, 0, 1], 3, out);
    expect([...out]).toEqual([1, 1, 0]);
    expect([...groupRewards([0.5], [0], 1)]).toEqual([0.5]);
  });

  it("group rewards average to the daily reward when groups are equal in size (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 3, noNaN: true }), { minLength: 10, maxLength: 10 }),
        (emas) => {
          const g = groupRewards(emas, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1], 2);
          expect((g[0] + g[1]) / 2).toBeCloseTo(dailyReward(emas), 10);
        },
      ),
    );
  });

  it("metric terms: distance from target in tolerance units, weight 0.05", () => {
    const weight = {
      id: "w",
      name: "weight",
      unit: "kg",
      target: 70,
      tolerance: 1,
      direction: "reach" as const,
    };
    expect(metricDeviation(weight, 72.4)).toBeCloseTo(2.4, 12);
    expect(metricDistance(weight, 72.4)).toBeCloseTo(1.4, 12);
    expect(metricDistance(weight, 70.6)).toBe(0);
    expect(metricDistance({ ...weight, direction: "keep" }, 72.4)).toBeCloseTo(2.4, 12);
    expect(metricDistance({ ...weight, direction: "keep" }, 80)).toBe(3);
    expect(rewardWithMetrics(0.9, [1.4])).toBeCloseTo(0.83, 12);
    expect(rewardWithMetrics(0.9, [1.4, Number.NaN])).toBeCloseTo(0.83, 12);
    expect(rewardWithMetrics(0.9, [])).toBe(0.9);
    expect(rewardWithMetrics(0.9, [10], 0.1)).toBeCloseTo(0.6, 12);
  });
});

describe("stepEmas (compiled, in place)", () => {
  it("equals emaStep(normalisedValue) habit by habit", () => {
    const habits = [
      habit({ id: "a", name: "a", kind: "duration", target: 30, daysPerWeek: 5 }),
      habit({ id: "b", name: "b", kind: "check", daysPerWeek: 3 }),
      habit({ id: "c", name: "c", kind: "count", unit: "km", target: 5, daysPerWeek: 2 }),
    ];
    const compiled = compileHabits(habits);
    const alpha = alphaFromSpan(14);
    const emas = Float64Array.from([0.3, 1.2, 0]);
    const amounts = [45, 3, 12]; // a check habit reported three times counts once
    const expected = habits.map((h, i) =>
      emaStep(emas[i], normalisedValue(h, dayAmount(h, amounts[i])), alpha),
    );
    expect(expected[1]).toBeCloseTo(emaStep(1.2, 7 / 3, alpha), 12);
    expect([...stepEmas(compiled, emas, amounts, alpha)]).toEqual(expected);
  });
});

describe("emaSeries", () => {
  const habits: HabitSpec[] = [
    habit({ id: "run", name: "run", kind: "duration", target: 30, daysPerWeek: 5, actorGroup: 0 }),
    habit({ id: "med", name: "meditate", kind: "check", actorGroup: 1 }),
  ];

  it("sums a day's entries, ignores retracted entries and unknown habits", () => {
    const entries: HabitEntryLike[] = [
      { habitId: "run", day: "2026-11-02", amount: 20 },
      { habitId: "run", day: "2026-11-02", amount: 10 },
      { habitId: "run", day: "2026-11-02", amount: 30, retracted: true },
      { habitId: "ghost", day: "2026-11-02", amount: 30 },
      { habitId: "med", day: "2026-11-03", amount: 1 },
      { habitId: "med", day: "2026-11-03", amount: 1 }, // done twice still counts once
    ];
    const s = emaSeries(habits, entries, "2026-11-02", "2026-11-03");
    const a = 2 / 15;
    expect(s.map((x) => x.day)).toEqual(["2026-11-02", "2026-11-03"]);
    expect(s[0].emas.run).toBeCloseTo(a * 1.4, 12);
    expect(s[0].emas.med).toBe(0);
    expect(s[1].emas.run).toBeCloseTo((1 - a) * a * 1.4, 12);
    expect(s[1].emas.med).toBeCloseTo(a, 12);
    expect(s[1].reward).toBeCloseTo(1 - (2 - s[1].emas.run - s[1].emas.med) / 2, 12);
    expect(s[1].groupRewards[0]).toBeCloseTo(s[1].emas.run, 12);
    expect(s[1].groupRewards[1]).toBeCloseTo(a, 12);
  });

  it("new habits enter the mean on their start day at the initial EMA; archived ones leave it", () => {
    const s = emaSeries(
      habits,
      [{ habitId: "med", day: "2026-11-01", amount: 1 }],
      "2026-11-01",
      "2026-11-04",
      {
        startDays: { med: "2026-11-02" },
        endDays: { run: "2026-11-04" },
      },
    );
    expect(Object.keys(s[0].emas)).toEqual(["run"]); // the entry before med's start is ignored
    expect(s[1].emas).toEqual({ run: 0, med: 0 });
    expect(Object.keys(s[3].emas)).toEqual(["med"]);
    expect(s[3].groupRewards).toEqual([0, 0]); // group 0 has no active habit
    expect(s[3].reward).toBe(0);
  });

  it("continues from a stored state exactly", () => {
    const entries: HabitEntryLike[] = [
      { habitId: "run", day: "2026-11-01", amount: 30 },
      { habitId: "run", day: "2026-11-05", amount: 45 },
      { habitId: "med", day: "2026-11-06", amount: 1 },
    ];
    const whole = emaSeries(habits, entries, "2026-11-01", "2026-11-10");
    const tail = emaSeries(habits, entries, "2026-11-04", "2026-11-10", { initialState: whole[2] });
    expect(tail).toEqual(whole.slice(3));
    expect(emaSeries(habits, entries, "2026-11-10", "2026-11-01")).toEqual([]);
  });

  it("incremental day-by-day updates equal a full recomputation (property: back-dated entries, retractions, archived and new habits)", () => {
    const all: HabitSpec[] = [
      habit({ id: "a", name: "a", kind: "duration", target: 30, daysPerWeek: 5, actorGroup: 0 }),
      habit({
        id: "b",
        name: "b",
        kind: "count",
        unit: "km",
        target: 5,
        daysPerWeek: 3,
        actorGroup: 1,
      }),
      habit({ id: "c", name: "c", kind: "check", daysPerWeek: 7, actorGroup: 0 }),
      habit({ id: "d", name: "d", kind: "duration", target: 10, daysPerWeek: 2, actorGroup: 1 }),
    ];
    const first = "2026-01-01";
    const event = fc.oneof(
      fc.record({
        kind: fc.constant("entry" as const),
        habit: fc.integer({ min: 0, max: 3 }),
        back: fc.integer({ min: 0, max: 7 }),
        amount: fc.double({ min: 0.1, max: 100, noNaN: true }),
      }),
      fc.record({ kind: fc.constant("retract" as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(event, { maxLength: 4 }), { minLength: 5, maxLength: 40 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 1, max: 40 }),
        (ticks, addC, addD, archiveB) => {
          const startDays = { c: addDays(first, addC), d: addDays(first, addD) };
          const endDays = { b: addDays(first, archiveB) };
          const log: HabitEntryLike[] = [];
          const states: DayState[] = [];
          const optionsAt = (t: number) => ({
            // Only what the shell knows at tick t: habits added so far, archives done so far.
            startDays,
            endDays: archiveB <= t ? endDays : {},
          });
          const habitsAt = (t: number) =>
            all.filter(
              (h) => !(h.id in startDays) || startDays[h.id as "c" | "d"] <= addDays(first, t),
            );
          ticks.forEach((events, t) => {
            const today = addDays(first, t);
            let dirtyFrom = t;
            for (const e of events) {
              if (e.kind === "entry") {
                const back = Math.min(e.back, t);
                log.push({
                  habitId: all[e.habit].id,
                  day: addDays(today, -back),
                  amount: e.amount,
                });
                dirtyFrom = Math.min(dirtyFrom, t - back);
              } else if (log.length > 0) {
                const entry = log[e.pick % log.length];
                if (entry.retracted !== true) {
                  entry.retracted = true;
                  dirtyFrom = Math.min(dirtyFrom, t - daysBetween(entry.day, today));
                }
              }
            }
            // Recompute the affected past days, then add today's state.
            if (dirtyFrom < t) {
              const redo = emaSeries(
                habitsAt(t),
                log,
                addDays(first, dirtyFrom),
                addDays(today, -1),
                {
                  ...optionsAt(t),
                  initialState: dirtyFrom > 0 ? states[dirtyFrom - 1] : null,
                },
              );
              states.splice(dirtyFrom, redo.length, ...redo);
            }
            states[t] = nextDayState(
              habitsAt(t),
              t > 0 ? states[t - 1] : null,
              today,
              dailyAmounts(log, today),
              optionsAt(t),
            );
          });
          const last = ticks.length - 1;
          const full = emaSeries(all, log, first, addDays(first, last), optionsAt(last));
          expect(states).toEqual(full);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("habit lifetimes", () => {
  it("a habit starts on its creation day, or earlier when a report was back-dated", () => {
    expect(habitStartDay("2026-03-10")).toBe("2026-03-10");
    expect(habitStartDay("2026-03-10", "2026-03-12")).toBe("2026-03-10");
    expect(habitStartDay("2026-03-10", "2026-03-08")).toBe("2026-03-08");
  });

  it("turns lifetimes into emaSeries options: only archived habits get an end", () => {
    const a = habit({ id: "a", name: "run", kind: "duration", target: 30 });
    const b = habit({ id: "b", name: "read", kind: "count", unit: "pages", target: 10 });
    expect(
      lifetimeOptions([
        { spec: a, startDay: "2026-03-01", endDay: null },
        { spec: b, startDay: "2026-03-05", endDay: "2026-03-20" },
      ]),
    ).toEqual({
      startDays: { a: "2026-03-01", b: "2026-03-05" },
      endDays: { b: "2026-03-20" },
    });
  });
});
