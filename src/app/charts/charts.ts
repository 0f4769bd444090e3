// Server-side charts for the chat: a Vega-Lite spec is compiled to Vega, rendered headless to
// SVG, and rasterised to PNG by resvg. Charts are drawn ~1100 px wide with large type so that
// they stay legible when Telegram shows them full width on a phone. No network, no canvas:
// text is laid out by Vega's width estimate and drawn with whatever sans-serif font the system
// has (DejaVu / Liberation / Arial…); without any font the lines still render.
import { renderAsync } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { type LocalDate, wallClockOf } from "../../coach/days.js";

/** Pixel width every chart is rendered at (Telegram downsizes larger photos anyway). */
export const CHART_WIDTH_PX = 1100;

const FONT = "DejaVu Sans, Liberation Sans, Helvetica, Arial, sans-serif";
const BASE_FONT_SIZE = 22;

export interface HabitEmaSeries {
  name: string;
  /** One goal-normalised EMA per day of `days` (1 = exactly on goal); null = not active that day. */
  emas: (number | null)[];
}

export interface StatsChartInput {
  title: string;
  /** Consecutive days, oldest first. */
  days: LocalDate[];
  habits: HabitEmaSeries[];
  /** The daily reward per day of `days`; null on days without any active habit. */
  reward: (number | null)[];
}

export interface MetricChartInput {
  title: string;
  unit: string;
  samples: { at: Date; value: number }[];
  /** IANA zone the time axis is drawn in (the person's), default UTC. */
  timeZone?: string;
  target?: number | null;
  tolerance?: number | null;
}

/** Shared look: big fonts, no chart border, white background. */
function chartConfig(): NonNullable<TopLevelSpec["config"]> {
  return {
    font: FONT,
    background: "white",
    padding: 24,
    view: { stroke: null },
    title: { fontSize: 34, fontWeight: "bold", anchor: "start", offset: 16 },
    axis: {
      labelFontSize: BASE_FONT_SIZE,
      titleFontSize: BASE_FONT_SIZE,
      titleFontWeight: "normal",
      gridColor: "#e6e6e6",
      labelColor: "#333",
      titleColor: "#333",
      domainColor: "#888",
      tickColor: "#888",
    },
    legend: {
      labelFontSize: BASE_FONT_SIZE,
      titleFontSize: BASE_FONT_SIZE,
      symbolSize: 320,
      symbolStrokeWidth: 5,
      labelLimit: 320,
      rowPadding: 8,
      columnPadding: 28,
      orient: "bottom",
      direction: "horizontal",
      columns: 3,
    },
    line: { strokeWidth: 4 },
    concat: { spacing: 40 },
  };
}

/**
 * Ticks on whole days (or months for long periods), about six of them: a short period never gets
 * several ticks, and so several identical labels, within one day.
 */
function calendarTicks(spanDays: number) {
  if (spanDays > 120) return { interval: "month" as const, step: spanDays > 400 ? 2 : 1 };
  return { interval: "day" as const, step: Math.max(1, Math.ceil(spanDays / 6)) };
}

/** x axis for calendar days; label density adapts to the period length. */
function dayAxis(days: readonly string[]) {
  const dayCount = days.length;
  const format = dayCount > 120 ? "%b" : "%d %b";
  const tickCount = calendarTicks(dayCount);
  // days are "YYYY-MM-DD" (parsed as UTC midnight); a UTC scale keeps them on their own date
  // whatever the server's time zone
  return {
    field: "day",
    type: "temporal" as const,
    title: null,
    // the whole period, also when the first days have no data yet (a new habit)
    scale: { type: "utc" as const, domain: [Date.parse(days[0]!), Date.parse(days.at(-1)!)] },
    axis: { format, tickCount, labelAngle: 0, labelOverlap: true },
  };
}

/** Renders a Vega-Lite spec to SVG text (headless, no network). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile(spec).spec;
  // loader with no file or network access: every data set is inline
  const loader = vega.loader({ mode: "file" });
  loader.load = async (uri: string) => {
    throw new Error(`charts never load external data (asked for ${uri})`);
  };
  const view = new vega.View(vega.parse(compiled), { renderer: "none", loader });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Rasterises SVG text to PNG bytes at `widthPx`, on libuv's thread pool (renderAsync) so the
 * ~100–150 ms of rasterising a year-long chart does not block the bot's event loop.
 */
export async function svgToPng(svg: string, widthPx = CHART_WIDTH_PX): Promise<Buffer> {
  const image = await renderAsync(svg, {
    fitTo: { mode: "width", value: widthPx },
    background: "white",
    font: {
      loadSystemFonts: true,
      defaultFontFamily: "DejaVu Sans",
      sansSerifFamily: "DejaVu Sans",
    },
    logLevel: "off",
  });
  return image.asPng();
}

function checkSeriesLength(input: StatsChartInput): void {
  const n = input.days.length;
  if (n === 0) throw new RangeError("a stats chart needs at least one day");
  if (input.reward.length !== n) {
    throw new RangeError(`reward has ${input.reward.length} values for ${n} days`);
  }
  for (const h of input.habits) {
    if (h.emas.length !== n) {
      throw new RangeError(`habit "${h.name}" has ${h.emas.length} EMA values for ${n} days`);
    }
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** With more habits than this, /stats draws one small panel per habit instead of one tangle. */
export const SMALL_MULTIPLES_FROM = 8;

/** The Vega-Lite spec of the /stats chart (exported so tests can inspect it). */
export function statsChartSpec(input: StatsChartInput): TopLevelSpec {
  checkSeriesLength(input);
  const emaRows: { day: string; habit: string; ema: number }[] = [];
  input.habits.forEach((h) => {
    input.days.forEach((day, i) => {
      const ema = h.emas[i];
      if (ema !== null && Number.isFinite(ema))
        emaRows.push({ day, habit: h.name, ema: round3(ema) });
    });
  });
  const rewardRows: { day: string; reward: number }[] = [];
  input.days.forEach((day, i) => {
    const r = input.reward[i];
    if (r !== null && Number.isFinite(r)) rewardRows.push({ day, reward: round3(r) });
  });
  const width = CHART_WIDTH_PX - 2 * 24 - 90;
  const x = dayAxis(input.days);
  const emaMax = Math.max(1.2, ...emaRows.map((r) => r.ema));
  const yDomain = [0, Math.ceil(emaMax * 10) / 10];
  const names = input.habits.map((h) => h.name);
  // A line needs two days: a habit with one day of data (day one) is drawn as a marker.
  const daysPerHabit = new Map<string, number>();
  for (const r of emaRows) daysPerHabit.set(r.habit, (daysPerHabit.get(r.habit) ?? 0) + 1);
  const singleDays = emaRows.filter((r) => daysPerHabit.get(r.habit) === 1);
  /** One colour per habit, in the person's order (lines and day-one markers alike). */
  const habitColour = {
    field: "habit",
    type: "nominal",
    title: null,
    scale: { scheme: "tableau10" },
    sort: names,
  };
  /** All habits in one panel, one colour each (few habits). */
  function overlaid() {
    return {
      width,
      height: 460,
      layer: [
        {
          data: { values: emaRows },
          mark: { type: "line", interpolate: "monotone" },
          encoding: {
            x,
            y: {
              field: "ema",
              type: "quantitative",
              title: "EMA (1 = goal)",
              scale: { domain: yDomain, nice: false },
            },
            color: habitColour,
          },
        },
        {
          data: { values: singleDays },
          mark: { type: "point", filled: true, size: 220, opacity: 1 },
          encoding: {
            x,
            y: { field: "ema", type: "quantitative", scale: { domain: yDomain, nice: false } },
            color: habitColour,
          },
        },
        {
          data: { values: [{ goal: 1 }] },
          mark: { type: "rule", strokeDash: [12, 8], strokeWidth: 3, color: "#222" },
          encoding: { y: { field: "goal", type: "quantitative" } },
        },
        {
          data: { values: [{ goal: 1, label: "goal" }] },
          mark: {
            type: "text",
            align: "right",
            baseline: "bottom",
            dx: -4,
            dy: -6,
            fontSize: BASE_FONT_SIZE,
            fontWeight: "bold",
            color: "#222",
            x: "width",
          },
          encoding: { y: { field: "goal", type: "quantitative" }, text: { field: "label" } },
        },
      ],
    };
  }

  /** One small panel per habit, three per row (many habits: overlaid lines would be a tangle). */
  function smallMultiples() {
    const columns = 3;
    const spacing = 28;
    const panelWidth = Math.floor((width - (columns - 1) * spacing - 40) / columns);
    return {
      data: { values: emaRows },
      facet: {
        field: "habit",
        type: "nominal",
        sort: names,
        title: null,
        header: { labelFontSize: BASE_FONT_SIZE, labelFontWeight: "bold", labelPadding: 4 },
      },
      columns,
      spacing: { row: 20, column: spacing },
      spec: {
        width: panelWidth,
        height: 120,
        layer: [
          {
            mark: { type: "line", interpolate: "monotone", color: "#1f77b4", strokeWidth: 3 },
            encoding: {
              x: {
                ...x,
                axis: { ...x.axis, tickCount: 3, labelFontSize: 18 },
              },
              y: {
                field: "ema",
                type: "quantitative",
                title: null,
                scale: { domain: yDomain, nice: false },
                axis: { values: [0, 0.5, 1], labelFontSize: 18 },
              },
            },
          },
          {
            // a panel with one day of data: a marker instead of a line
            transform: [
              { joinaggregate: [{ op: "count", as: "days" }], groupby: ["habit"] },
              { filter: "datum.days === 1" },
            ],
            mark: { type: "point", filled: true, size: 160, color: "#1f77b4", opacity: 1 },
            encoding: {
              x,
              y: { field: "ema", type: "quantitative", scale: { domain: yDomain, nice: false } },
            },
          },
          {
            mark: { type: "rule", strokeDash: [8, 6], strokeWidth: 2, color: "#222" },
            encoding: { y: { datum: 1 } },
          },
        ],
      },
    };
  }

  const top = input.habits.length > SMALL_MULTIPLES_FROM ? smallMultiples() : overlaid();
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: input.title,
    config: chartConfig(),
    vconcat: [
      top,
      {
        width,
        height: 200,
        data: { values: rewardRows },
        layer: [
          {
            mark: { type: "area", color: "#4c9f70", opacity: 0.25, interpolate: "monotone" },
            encoding: {
              x,
              y: {
                field: "reward",
                type: "quantitative",
                title: "daily reward",
                scale: {
                  domain: [Math.min(0, ...rewardRows.map((r) => r.reward)), 1],
                  nice: false,
                },
              },
            },
          },
          {
            mark: { type: "line", color: "#2e7d4f", interpolate: "monotone" },
            encoding: { x, y: { field: "reward", type: "quantitative" } },
          },
        ],
      },
    ],
  } as TopLevelSpec;
}

/** PNG of per-habit EMAs with the goal line at 1 (top) and the daily reward (bottom). */
export async function renderStatsChart(input: StatsChartInput): Promise<Buffer> {
  return svgToPng(await renderSvg(statsChartSpec(input)));
}

/** The Vega-Lite spec of a metric trend (e.g. body weight) with its target band. */
export function metricChartSpec(input: MetricChartInput): TopLevelSpec {
  if (input.samples.length === 0) throw new RangeError("a metric chart needs at least one sample");
  const zone = input.timeZone ?? "UTC";
  // wall-clock time in the person's zone, written as if it were UTC and drawn on a UTC scale
  const rows = input.samples.map((s) => {
    const wc = wallClockOf(s.at, zone);
    const hh = String(wc.hour).padStart(2, "0");
    const mm = String(wc.minute).padStart(2, "0");
    return { at: `${wc.day}T${hh}:${mm}:00Z`, value: s.value };
  });
  const values = input.samples.map((s) => s.value);
  const target = input.target ?? null;
  const tolerance = input.tolerance ?? null;
  const lows = [...values];
  const highs = [...values];
  if (target !== null) {
    lows.push(target - (tolerance ?? 0));
    highs.push(target + (tolerance ?? 0));
  }
  const lo = Math.min(...lows);
  const hi = Math.max(...highs);
  const pad = Math.max((hi - lo) * 0.1, Math.abs(hi) * 0.005, 0.5);
  const yScale = { domain: [lo - pad, hi + pad], nice: false, zero: false };
  const yTitle = input.unit === "" ? "value" : input.unit;
  const spanDays =
    (input.samples.at(-1)!.at.getTime() - input.samples[0].at.getTime()) / 86_400_000;
  const x = {
    field: "at",
    type: "temporal" as const,
    title: null,
    scale: { type: "utc" as const },
    axis: {
      format: spanDays > 120 ? "%b %Y" : "%d %b",
      tickCount: calendarTicks(spanDays),
      labelAngle: 0,
      labelOverlap: true,
    },
  };
  const layers: unknown[] = [];
  if (target !== null && tolerance !== null && tolerance > 0) {
    layers.push({
      data: { values: [{ lo: target - tolerance, hi: target + tolerance }] },
      mark: { type: "rect", color: "#4c9f70", opacity: 0.15 },
      encoding: {
        y: { field: "lo", type: "quantitative", scale: yScale },
        y2: { field: "hi" },
      },
    });
  }
  if (target !== null) {
    layers.push({
      data: { values: [{ target }] },
      mark: { type: "rule", strokeDash: [12, 8], strokeWidth: 3, color: "#222" },
      encoding: { y: { field: "target", type: "quantitative", scale: yScale } },
    });
  }
  layers.push({
    data: { values: rows },
    mark: { type: "line", color: "#1f77b4", point: { size: 140, filled: true } },
    encoding: { x, y: { field: "value", type: "quantitative", title: yTitle, scale: yScale } },
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: input.title,
    config: chartConfig(),
    width: CHART_WIDTH_PX - 2 * 24 - 100,
    height: 520,
    layer: layers,
  } as TopLevelSpec;
}

/** PNG of a metric's samples over time, with its target line and tolerance band if set. */
export async function renderMetricChart(input: MetricChartInput): Promise<Buffer> {
  return svgToPng(await renderSvg(metricChartSpec(input)));
}

export interface TrainingCurve {
  /** The TrainingMetric name (mean_reward, entropy, approx_kl, …). */
  name: string;
  /** One value per recorded PPO update, by environment step. */
  points: { step: number; value: number }[];
}

export interface TrainingCurvesInput {
  title: string;
  /** One panel per curve, in this order. */
  curves: TrainingCurve[];
}

/** Panels side by side in the training-curves chart. */
const TRAINING_CURVE_COLUMNS = 2;

/**
 * The Vega-Lite spec of a training run's metric curves: one small panel per metric (each with
 * its own y scale), environment steps on x.
 */
export function trainingCurvesSpec(input: TrainingCurvesInput): TopLevelSpec {
  const curves = input.curves.filter((c) => c.points.length > 0);
  if (curves.length === 0) throw new RangeError("a training-curves chart needs at least one point");
  const rows = curves.flatMap((c) =>
    c.points.map((p) => ({ metric: c.name, step: p.step, value: p.value })),
  );
  const columns = Math.min(TRAINING_CURVE_COLUMNS, curves.length);
  const gap = 40;
  const width = Math.floor(
    (CHART_WIDTH_PX - 2 * 24 - 60 * columns - gap * (columns - 1)) / columns,
  );
  const pointsShown = Math.max(...curves.map((c) => c.points.length)) <= 40;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: input.title,
    config: { ...chartConfig(), facet: { spacing: gap } },
    data: { values: rows },
    columns,
    facet: {
      field: "metric",
      type: "nominal",
      sort: curves.map((c) => c.name),
      title: null,
      header: { labelFontSize: BASE_FONT_SIZE + 2, labelFontWeight: "bold", labelPadding: 8 },
    },
    spec: {
      width,
      height: 230,
      mark: { type: "line", color: "#1f77b4", strokeWidth: 3, point: pointsShown },
      encoding: {
        x: {
          field: "step",
          type: "quantitative",
          title: "environment steps",
          axis: { tickCount: 4, format: "~s" },
        },
        y: { field: "value", type: "quantitative", title: null, scale: { zero: false } },
      },
    },
    resolve: { scale: { y: "independent" } },
  } as TopLevelSpec;
}

/** PNG of a training run's metric curves (`coachrl runs show --png`, /runs ID). */
export async function renderTrainingCurvesChart(input: TrainingCurvesInput): Promise<Buffer> {
  return svgToPng(await renderSvg(trainingCurvesSpec(input)));
}

export interface PngSize {
  width: number;
  height: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from a PNG's IHDR chunk; null when the bytes are not a PNG. */
export function pngSize(bytes: Uint8Array): PngSize | null {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 24 || !buf.subarray(0, 8).equals(PNG_SIGNATURE)) return null;
  if (buf.toString("ascii", 12, 16) !== "IHDR") return null;
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

export interface RewardCurvesInput {
  title: string;
  /** One line per planner (arm), mean daily reward per simulated day (index 0 = day 1). */
  lines: { name: string; meanDaily: number[] }[];
}

/** The Vega-Lite spec of `coachrl simulate`'s chart: mean daily reward per arm over the days. */
export function rewardCurvesSpec(input: RewardCurvesInput): TopLevelSpec {
  const rows = input.lines.flatMap((line) =>
    line.meanDaily.map((reward, d) => ({ arm: line.name, day: d + 1, reward: round3(reward) })),
  );
  if (rows.length === 0) throw new RangeError("a reward chart needs at least one day");
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: input.title,
    config: chartConfig(),
    width: CHART_WIDTH_PX - 2 * 24 - 90,
    height: 520,
    data: { values: rows },
    mark: { type: "line", strokeWidth: 3 },
    encoding: {
      x: { field: "day", type: "quantitative", title: "simulated day", axis: { tickCount: 8 } },
      y: {
        field: "reward",
        type: "quantitative",
        title: "mean daily reward",
        scale: { zero: false },
      },
      color: {
        field: "arm",
        type: "nominal",
        title: null,
        sort: input.lines.map((l) => l.name),
      },
    },
  } as TopLevelSpec;
}

/** PNG of `rewardCurvesSpec`. */
export async function renderRewardCurvesChart(input: RewardCurvesInput): Promise<Buffer> {
  return svgToPng(await renderSvg(rewardCurvesSpec(input)));
}
