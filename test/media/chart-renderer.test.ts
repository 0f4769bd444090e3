import { threadId } from "node:worker_threads";
import { afterAll, describe, expect, it } from "vitest";
import { pngSize, type StatsChartInput } from "../../src/app/charts/charts.js";
import {
  ChartRendererClosedError,
  inlineChartRenderer,
  workerChartRenderer,
} from "../../src/app/charts/renderer.js";
import { addDays } from "../../src/coach/days.js";

function statsInput(n: number, level = 0.5): StatsChartInput {
  const days = Array.from({ length: n }, (_, i) => addDays("2026-10-01", i));
  return {
    title: `Last ${n} days`,
    days,
    habits: [
      { name: "run", emas: days.map((_, i) => level + i * 0.01) },
      { name: "violin", emas: days.map(() => 0.9) },
    ],
    reward: days.map(() => 0.7),
  };
}

describe("chart rendering in a worker thread", () => {
  const threads: number[] = [];
  const renderer = workerChartRenderer({ onRendered: (id) => threads.push(id) });
  afterAll(() => renderer.close());

  it("draws the same PNG as in-process rendering, on another thread", async () => {
    const input = statsInput(30);
    const [inWorker, inline] = await Promise.all([
      renderer.stats(input),
      inlineChartRenderer.stats(input),
    ]);
    expect(pngSize(inWorker)?.width).toBe(pngSize(inline)?.width);
    expect(Buffer.compare(inWorker, inline)).toBe(0);
    expect(threads.length).toBe(1);
    expect(threads[0]).not.toBe(threadId);
  }, 60_000);

  it("answers concurrent requests each with its own chart", async () => {
    const inputs = [statsInput(10, 0.1), statsInput(20, 0.4), statsInput(40, 0.8)];
    const metric = renderer.metric({
      title: "weight (kg)",
      unit: "kg",
      samples: [
        { at: new Date("2026-11-01T07:00:00Z"), value: 72.4 },
        { at: new Date("2026-11-08T07:00:00Z"), value: 72.0 },
      ],
      target: 70,
      tolerance: 1,
    });
    const charts = await Promise.all([...inputs.map((i) => renderer.stats(i)), metric]);
    const expected = await Promise.all(inputs.map((i) => inlineChartRenderer.stats(i)));
    for (const [i, png] of expected.entries()) expect(Buffer.compare(charts[i]!, png)).toBe(0);
    expect(new Set(charts.map((c) => c.toString("base64"))).size).toBe(4);
  }, 60_000);

  it("reports a chart that cannot be drawn and keeps working", async () => {
    const broken = { ...statsInput(5), reward: [0.5] };
    await expect(renderer.stats(broken)).rejects.toThrow(/reward/);
    expect(pngSize(await renderer.stats(statsInput(5)))).not.toBeNull();
  }, 60_000);

  it("fails pending and later requests once closed", async () => {
    const other = workerChartRenderer();
    const pending = expect(other.stats(statsInput(365))).rejects.toBeInstanceOf(
      ChartRendererClosedError,
    );
    await other.close();
    await pending;
    await expect(other.stats(statsInput(5))).rejects.toBeInstanceOf(ChartRendererClosedError);
  }, 60_000);
});
