import { inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  CHART_WIDTH_PX,
  metricChartSpec,
  pngSize,
  renderMetricChart,
  renderStatsChart,
  renderSvg,
  statsChartSpec,
} from "../../src/app/charts/charts.js";
import { addDays } from "../../src/coach/days.js";

function days(n: number, from = "2026-01-01"): string[] {
  return Array.from({ length: n }, (_, i) => addDays(from, i));
}

/** Concatenated, inflated IDAT data: proves the image body is a complete zlib stream. */
function decodeIdat(png: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 8;
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString("ascii", offset + 4, offset + 8);
    if (type === "IDAT") parts.push(png.subarray(offset + 8, offset + 8 + length));
    if (type === "IEND") break;
    offset += 12 + length;
  }
  return inflateSync(Buffer.concat(parts));
}

/** The text of every axis label in an SVG rendered by Vega (tick labels, not titles). */
function dayLabels(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>(\d{2} [A-Z][a-z]{2})<\/text>/g)].map((m) => m[1]!);
}

describe("calendar axes", () => {
  it.each([2, 3, 8, 30, 90])("label each day once over %i days", async (n) => {
    const spec = statsChartSpec({
      title: `${n} days`,
      days: days(n, "2026-11-20"),
      habits: [{ name: "walk", emas: Array.from({ length: n }, () => 0.5) }],
      reward: Array.from({ length: n }, () => 0.5),
    });
    const labels = dayLabels(await renderSvg(spec));
    expect(labels.length).toBeGreaterThan(0);
    // two panels share the axis: each label appears once per panel, never twice in one
    const counts = new Map<string, number>();
    for (const label of labels) counts.set(label, (counts.get(label) ?? 0) + 1);
    for (const count of counts.values()) expect(count).toBeLessThanOrEqual(2);
    expect(labels.length).toBeLessThanOrEqual(2 * 8);
  });

  it("spans the whole period when the first days have no data yet", async () => {
    const n = 30;
    const spec = statsChartSpec({
      title: "new habit",
      days: days(n, "2026-11-01"),
      habits: [{ name: "walk", emas: Array.from({ length: n }, (_, i) => (i < 28 ? null : 0.3)) }],
      reward: Array.from({ length: n }, (_, i) => (i < 28 ? null : 0.2)),
    });
    const labels = dayLabels(await renderSvg(spec));
    expect(labels).toContain("01 Nov");
    expect(new Set(labels).size).toBeGreaterThanOrEqual(4);
  });

  it("labels a weight trend of a few hours with its day once", async () => {
    const at = (h: number) => new Date(Date.UTC(2026, 10, 30, h));
    const spec = metricChartSpec({
      title: "weight (kg)",
      unit: "kg",
      samples: [
        { at: at(6), value: 72.4 },
        { at: at(9), value: 72.1 },
        { at: at(20), value: 72.6 },
      ],
    });
    const labels = dayLabels(await renderSvg(spec));
    expect(new Set(labels).size).toBe(labels.length);
  });
});

describe("stats chart", () => {
  const n = 30;
  const input = {
    title: "Last 30 days",
    days: days(n),
    habits: [
      { name: "run", emas: Array.from({ length: n }, (_, i) => 0.3 + i * 0.03) },
      { name: "violin", emas: Array.from({ length: n }, (_, i) => 1.2 - i * 0.01) },
    ],
    reward: Array.from({ length: n }, (_, i) => 0.5 + i * 0.01),
  };

  it("renders a phone-legible PNG that decodes", async () => {
    const png = await renderStatsChart(input);
    const size = pngSize(png);
    expect(size).not.toBeNull();
    expect(size!.width).toBe(CHART_WIDTH_PX);
    expect(size!.height).toBeGreaterThan(600);
    expect(size!.height).toBeLessThan(1600);
    // RGBA rows of width*4 bytes plus one filter byte each
    const raw = decodeIdat(png);
    expect(raw.length).toBeGreaterThanOrEqual(size!.height * (size!.width * 3 + 1));
  });

  it("draws the goal line at 1 and one series per habit", () => {
    const spec = statsChartSpec(input) as unknown as { vconcat: { layer: unknown[] }[] };
    const text = JSON.stringify(spec);
    expect(text).toContain('"goal":1');
    expect(text).toContain('"habit":"violin"');
    expect(text).toContain('"habit":"run"');
    expect(spec.vconcat).toHaveLength(2);
  });

  it("refuses series whose length does not match the days", () => {
    expect(() => statsChartSpec({ ...input, reward: [1] })).toThrow(
      /reward has 1 values for 30 days/,
    );
  });

  it("handles a whole year with many habits", async () => {
    const year = days(365);
    const habits = Array.from({ length: 12 }, (_, h) => ({
      name: `habit ${h + 1}`,
      emas: year.map((_, i) => 0.5 + 0.5 * Math.sin((i + h * 10) / 30)),
    }));
    const png = await renderStatsChart({
      title: "Last 365 days",
      days: year,
      habits,
      reward: year.map(() => 0.7),
    });
    const size = pngSize(png)!;
    expect(size.width).toBe(CHART_WIDTH_PX);
    // one small panel per habit (4 rows of 3) above the reward
    expect(size.height).toBeGreaterThan(1000);
    const spec = statsChartSpec({
      title: "",
      days: year,
      habits,
      reward: year.map(() => 0.7),
    }) as unknown as {
      vconcat: { facet?: { field: string }; columns?: number }[];
    };
    expect(spec.vconcat[0].facet?.field).toBe("habit");
    expect(spec.vconcat[0].columns).toBe(3);
  });

  it("overlays up to eight habits in one panel", () => {
    const spec = statsChartSpec(input) as unknown as {
      vconcat: { facet?: unknown; layer?: unknown[] }[];
    };
    expect(spec.vconcat[0].facet).toBeUndefined();
    // lines, day-one markers (issue 13: a habit with one day of data has no line), goal, label
    expect(spec.vconcat[0].layer).toHaveLength(4);
    expect(spec.vconcat[0].layer?.[1]).toMatchObject({ mark: { type: "point" } });
  });
});

describe("metric chart", () => {
  it("renders a weight trend with its target band", async () => {
    const samples = [72.4, 72.1, 71.9, 72.3, 71.5].map((value, i) => ({
      at: new Date(Date.UTC(2026, 0, 1 + i * 3, 7)),
      value,
    }));
    const spec = JSON.stringify(
      metricChartSpec({ title: "weight", unit: "kg", samples, target: 70, tolerance: 1 }),
    );
    expect(spec).toContain('"lo":69');
    expect(spec).toContain('"hi":71');
    const png = await renderMetricChart({
      title: "weight",
      unit: "kg",
      samples,
      target: 70,
      tolerance: 1,
    });
    const size = pngSize(png)!;
    expect(size.width).toBe(CHART_WIDTH_PX);
    expect(size.height).toBeGreaterThan(400);
  });

  it("renders a single sample without a target", async () => {
    const png = await renderMetricChart({
      title: "weight",
      unit: "kg",
      samples: [{ at: new Date("2026-01-01T07:00:00Z"), value: 72.4 }],
    });
    expect(pngSize(png)).not.toBeNull();
  });
});

describe("pngSize", () => {
  it("rejects bytes that are not a PNG", () => {
    expect(pngSize(Buffer.from("GIF89a............................"))).toBeNull();
  });
});
