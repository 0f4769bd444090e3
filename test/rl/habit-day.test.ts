/**
 * The environment's fused end-of-day fast path (src/rl/habit-day.ts) must compute exactly what
 * the coach core's stepEmas, dailyReward, groupRewards and buildObservation compute, bit for
 * bit, for every input the environment can produce (amounts finite and ≥ 0, EMAs ≥ 0).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileHabits } from "../../src/coach/adjust.js";
import { alphaFromSpan, dailyReward, groupRewards, stepEmas } from "../../src/coach/ema.js";
import type { HabitSpec, MetricGoal } from "../../src/coach/habits.js";
import { buildObservation, observationSpec } from "../../src/coach/observation.js";
import { createRng, Sfc32, sfc32Step, TWO_TO_MINUS_32 } from "../../src/coach/rng.js";
import { dayTables, finishDay } from "../../src/rl/habit-day.js";

const habitArb = fc.record({
  kind: fc.constantFrom("duration", "count", "check"),
  target: fc.double({ min: 0.5, max: 120, noNaN: true }),
  daysPerWeek: fc.integer({ min: 1, max: 7 }),
  actorGroup: fc.integer({ min: 0, max: 4 }),
});

const caseArb = fc
  .record({
    habits: fc.array(habitArb, { minLength: 1, maxLength: 25 }),
    metrics: fc.integer({ min: 0, max: 3 }),
    span: fc.integer({ min: 1, max: 60 }),
    weekday: fc.integer({ min: 0, max: 6 }),
  })
  .chain((c) =>
    fc.record({
      c: fc.constant(c),
      emas: fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0, max: 15, noNaN: true })), {
        minLength: c.habits.length,
        maxLength: c.habits.length,
      }),
      amounts: fc.array(
        fc.oneof(
          fc.constant(0),
          fc.constant(1),
          fc.double({ min: 0, max: 500, noNaN: true }),
          fc.integer({ min: 0, max: 300 }),
        ),
        { minLength: c.habits.length, maxLength: c.habits.length },
      ),
    }),
  );

function specs(raw: { kind: string; target: number; daysPerWeek: number; actorGroup: number }[]) {
  return raw.map(
    (h, i): HabitSpec => ({
      id: `h${i}`,
      name: `h${i}`,
      aliases: [],
      kind: h.kind as HabitSpec["kind"],
      unit: "",
      target: h.kind === "check" ? 1 : h.target,
      daysPerWeek: h.daysPerWeek,
      levels: [0, h.kind === "check" ? 1 : h.target],
      exclusiveGroup: null,
      actorGroup: h.actorGroup,
    }),
  );
}

describe("fused end of day (habit-day.ts) = coach core", () => {
  it("gives the same EMAs, reward, group rewards and observation bit for bit", () => {
    fc.assert(
      fc.property(caseArb, ({ c, emas, amounts }) => {
        const habits = specs(c.habits);
        const metrics: MetricGoal[] = Array.from({ length: c.metrics }, (_, m) => ({
          id: `m${m}`,
          name: `m${m}`,
          unit: "kg",
          target: 70,
          tolerance: 1,
          direction: "keep",
        }));
        const compiled = compileHabits(habits);
        const spec = observationSpec(habits, metrics);
        const alpha = alphaFromSpan(c.span);
        const H = habits.length;
        const G = compiled.groupCount;

        // Coach core.
        const coachEmas = Float64Array.from(emas);
        stepEmas(compiled, coachEmas, Float64Array.from(amounts), alpha);
        const coachReward = dailyReward(coachEmas);
        const coachGroups = Float32Array.from(
          groupRewards(coachEmas, compiled.actorGroupOf, G, new Float64Array(G)),
        );
        const coachObs = buildObservation(spec, coachEmas, c.weekday);

        // Fast path, at offsets inside larger buffers.
        const tables = dayTables(compiled, spec, alpha);
        const fastEmas = new Float64Array(H + 3);
        fastEmas.set(emas, 3);
        const fastAmounts = new Float64Array(H + 5);
        fastAmounts.set(amounts, 5);
        const groupOut = new Float32Array(G + 2).fill(9);
        const obs = new Float32Array(spec.size + 4).fill(9);
        const reward = finishDay(
          tables,
          fastEmas,
          3,
          fastAmounts,
          5,
          groupOut,
          2,
          obs,
          4,
          c.weekday,
        );

        expect(Array.from(fastEmas.subarray(3))).toEqual(Array.from(coachEmas));
        expect(reward).toBe(coachReward);
        expect(Array.from(groupOut.subarray(2))).toEqual(Array.from(coachGroups));
        expect(Array.from(obs.subarray(4))).toEqual(Array.from(coachObs));
      }),
      { numRuns: 500, seed: 23 },
    );
  });
});

describe("sfc32 on a shared state", () => {
  it("continues the coach core's generator stream exactly, drawn either way", () => {
    for (const seed of [0, 1, 23, 2 ** 40 + 5]) {
      const a = createRng(seed);
      const state = Int32Array.from(createRng(seed).state());
      const shared = new Sfc32(state);
      for (let i = 0; i < 1000; i++) {
        const x = i % 2 === 0 ? shared.next() : sfc32Step(state) * TWO_TO_MINUS_32;
        expect(x).toBe(a.next());
      }
    }
  });
});
