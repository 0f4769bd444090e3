// /weight and /metric: record a measurement, show its trend chart, set its goal.
//   /weight 72.4            record (kg unless the person's weight is kept in lb)
//   /weight 72,4 kg         comma decimals and a unit are fine
//   /weight                 trend chart + latest value
//   /weight goal 70 1       target 70 with tolerance ±1
//   /metric waist 81 cm     any metric by name (created on first use with that unit)
//   /metric waist           its chart;  /metric  → list of metrics
// The measured-at instant is the Telegram message's own timestamp, so a re-delivered message
// maps to the same (user, metric, instant) row and is stored once.
import { Input, type Telegraf } from "telegraf";
import { inlineChartRenderer } from "../../app/charts/renderer.js";
import { nameProblem, validateMetricGoal } from "../../coach/habits.js";
import type { Database } from "../../db/client.js";
import {
  ensureMetric,
  findMetric,
  listMetrics,
  metricSamples,
  previousSample,
  recordSample,
  setMetricGoal,
} from "../../db/metrics.js";
import type { Metric, User } from "../../generated/prisma/client.js";
import type { CoachContext } from "../context.js";
import { commandArgs, requirePerson } from "../person-guard.js";

export const WEIGHT_METRIC = "weight";
const WEIGHT_UNITS: Record<string, "kg" | "lb"> = {
  kg: "kg",
  kgs: "kg",
  kilo: "kg",
  kilos: "kg",
  lb: "lb",
  lbs: "lb",
  pound: "lb",
  pounds: "lb",
};
const KG_PER_LB = 0.45359237;
/** Plausible body weights; outside them the number is almost surely a typo. */
const WEIGHT_RANGE = { kg: [20, 400], lb: [44, 880] } as const;
/** Any other metric: finite and not absurdly large. */
const MAX_ABS_VALUE = 1e9;
const MAX_UNIT_LENGTH = 12;

export type MetricCommand =
  | { kind: "show" }
  | { kind: "record"; value: number; unit: string | null }
  | { kind: "goal"; target: number; tolerance: number | null };

export type ParseResult<T> = { ok: true; value: T } | { ok: false; message: string };

const NUMBER = /^[+-]?(\d+([.,]\d*)?|[.,]\d+)$/;

/** "72.4", "72,4", "-3", ".5" → number; null for anything else (no exponents, no thousands). */
export function parseDecimal(text: string): number | null {
  if (!NUMBER.test(text)) return null;
  const n = Number(text.replace(",", "."));
  return Number.isFinite(n) ? n : null;
}

/** Splits "72.4kg" into number and unit; whitespace-separated tokens otherwise. */
function tokens(args: string): string[] {
  return args
    .trim()
    .split(/\s+/)
    .filter((t) => t !== "")
    .flatMap((t) => {
      const m = /^([+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+))([^\d.,\s±+-][^\s]*)$/.exec(t);
      return m === null ? [t] : [m[1], m[2]];
    });
}

function notANumber(text: string, example: string): string {
  return `"${text}" is not a number. Send it like ${example} (a dot or comma for decimals).`;
}

/**
 * Parses the text after a metric command's name. `example` is the command as the person should
 * type it (used in messages), e.g. "/weight 72.4".
 */
export function parseMetricArgs(args: string, example: string): ParseResult<MetricCommand> {
  const t = tokens(args);
  if (t.length === 0) return { ok: true, value: { kind: "show" } };
  if (t[0].toLowerCase() === "goal" || t[0].toLowerCase() === "target") {
    const rest = t
      .slice(1)
      .map((x) => x.replace(/^±/, ""))
      .filter((x) => x !== "±");
    const goalExample = `${example.split(" ")[0]} goal 70 1 (target 70, tolerance ±1)`;
    if (rest.length === 0)
      return { ok: false, message: `Which goal? Send it like ${goalExample}.` };
    const target = parseDecimal(rest[0]);
    if (target === null) return { ok: false, message: notANumber(rest[0], goalExample) };
    let tolerance: number | null = null;
    if (rest.length >= 2) {
      tolerance = parseDecimal(rest[1]);
      if (tolerance === null) return { ok: false, message: notANumber(rest[1], goalExample) };
      if (tolerance <= 0) {
        return { ok: false, message: `The tolerance must be more than 0, got ${rest[1]}.` };
      }
    }
    if (rest.length > 2) {
      return {
        ok: false,
        message: `I don't understand "${rest.slice(2).join(" ")}". ${goalExample}.`,
      };
    }
    return { ok: true, value: { kind: "goal", target, tolerance } };
  }
  const value = parseDecimal(t[0]);
  if (value === null) return { ok: false, message: notANumber(t[0], example) };
  if (t.length > 2) {
    return {
      ok: false,
      message: `I don't understand "${t.slice(2).join(" ")}". Send just the number and optionally a unit, like ${example}.`,
    };
  }
  const unit = t.length === 2 ? t[1] : null;
  if (unit !== null && (unit.length > MAX_UNIT_LENGTH || !/^[\p{L}%°/²³]+$/u.test(unit))) {
    return {
      ok: false,
      message: `"${unit}" is not a unit I can store (letters only, at most ${MAX_UNIT_LENGTH}), like ${example}.`,
    };
  }
  return { ok: true, value: { kind: "record", value, unit } };
}

/** Normalises a weight unit ("kgs" → "kg"); null when it is not a weight unit. */
export function weightUnit(unit: string): "kg" | "lb" | null {
  return WEIGHT_UNITS[unit.toLowerCase()] ?? null;
}

/**
 * Checks a value against a metric's unit. Returns the value to store, or the message to send.
 * `storedUnit` is the metric's unit ("" when the metric does not exist yet).
 */
export function checkMetricValue(
  metricName: string,
  value: number,
  typedUnit: string | null,
  storedUnit: string,
): ParseResult<{ value: number; unit: string }> {
  const isWeight = metricName.toLowerCase() === WEIGHT_METRIC;
  if (isWeight) {
    const stored = storedUnit === "" ? null : weightUnit(storedUnit);
    const typed = typedUnit === null ? null : weightUnit(typedUnit);
    if (typedUnit !== null && typed === null) {
      return {
        ok: false,
        message: `"${typedUnit}" is not a weight unit; use kg or lb, like /weight 72.4 kg.`,
      };
    }
    const unit = stored ?? typed ?? "kg";
    if (typed !== null && typed !== unit) {
      const converted = typed === "lb" ? value * KG_PER_LB : value / KG_PER_LB;
      return {
        ok: false,
        message: `Your weight is recorded in ${unit}. ${value} ${typed} is ${round1(converted)} ${unit}: send /weight ${round1(converted)}.`,
      };
    }
    const [lo, hi] = WEIGHT_RANGE[unit];
    if (!(value >= lo && value <= hi)) {
      return {
        ok: false,
        message: `${value} ${unit} is not a plausible body weight (I accept ${lo}–${hi} ${unit}). Send it like /weight 72.4.`,
      };
    }
    return { ok: true, value: { value, unit } };
  }
  if (Math.abs(value) > MAX_ABS_VALUE) {
    return { ok: false, message: `${value} is too large to be a measurement.` };
  }
  if (
    storedUnit !== "" &&
    typedUnit !== null &&
    typedUnit.toLowerCase() !== storedUnit.toLowerCase()
  ) {
    return {
      ok: false,
      message: `${metricName} is recorded in ${storedUnit}, not ${typedUnit}. Send the value in ${storedUnit}, like /metric ${metricName} ${value}.`,
    };
  }
  return { ok: true, value: { value, unit: storedUnit !== "" ? storedUnit : (typedUnit ?? "") } };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function formatValue(value: number, unit: string): string {
  const text = Number.isInteger(value) ? String(value) : String(Math.round(value * 100) / 100);
  return unit === "" ? text : `${text} ${unit}`;
}

function formatWhen(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat("en-GB", {
    timeZone,
    weekday: "short",
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
  }).format(at);
}

function signed(x: number, unit: string): string {
  const r = Math.round(x * 100) / 100;
  return `${r > 0 ? "+" : r < 0 ? "−" : "±"}${formatValue(Math.abs(r), unit)}`;
}

/**
 * The instant a sample was measured: the message's own timestamp (whole seconds), plus the
 * message id modulo 1000 as milliseconds so that two messages sent within the same second stay
 * two samples, while a re-delivered update maps to exactly the same instant (stored once).
 */
export function measuredAtOf(ctx: Pick<CoachContext, "message" | "deps">): Date {
  const message = ctx.message;
  if (message === undefined) return ctx.deps.now();
  return new Date(message.date * 1000 + (message.message_id % 1000));
}

async function recordValue(
  ctx: CoachContext,
  person: User,
  name: string,
  value: number,
  typedUnit: string | null,
): Promise<void> {
  const { db } = ctx.deps;
  const existing = await findMetric(db, person.id, name);
  const checked = checkMetricValue(name, value, typedUnit, existing?.unit ?? "");
  if (!checked.ok) {
    await ctx.reply(checked.message);
    return;
  }
  const { metric } = existing
    ? { metric: existing }
    : await ensureMetric(db, person.id, name, checked.value.unit);
  const measuredAt = measuredAtOf(ctx);
  const { stored, sample } = await recordSample(db, {
    userId: person.id,
    metricId: metric.id,
    value: checked.value.value,
    measuredAt,
    source: "chat",
  });
  if (!stored) {
    await ctx.reply(`Already recorded: ${metric.name} ${formatValue(sample.value, metric.unit)}.`);
    return;
  }
  const previous = await previousSample(db, metric.id, measuredAt);
  const lines = [
    `Recorded ${metric.name} ${formatValue(sample.value, metric.unit)} (${formatWhen(measuredAt, person.timezone)}).`,
  ];
  if (previous !== null) {
    lines.push(
      `Change since ${formatWhen(previous.measuredAt, person.timezone)}: ${signed(sample.value - previous.value, metric.unit)}.`,
    );
  }
  if (metric.target !== null) {
    lines.push(
      `Goal: ${formatValue(metric.target, metric.unit)}${metric.tolerance ? ` ±${metric.tolerance}` : ""} — ${signed(sample.value - metric.target, metric.unit)} from it.`,
    );
  }
  await ctx.reply(lines.join("\n"));
}

async function setGoal(
  ctx: CoachContext,
  person: User,
  name: string,
  target: number,
  tolerance: number | null,
): Promise<void> {
  const { db } = ctx.deps;
  const existing = await findMetric(db, person.id, name);
  const tol = tolerance ?? existing?.tolerance ?? Math.max(Math.abs(target) * 0.01, 0.1);
  // validate before creating anything, so a bad goal leaves no trace
  const validated = validateMetricGoal({
    id: String(existing?.id ?? "new"),
    name: existing?.name ?? name,
    unit: existing?.unit ?? "",
    target,
    tolerance: tol,
    direction: "reach",
  });
  if (!validated.ok) {
    await ctx.reply(validated.problems.map((p) => p.message).join("\n"));
    return;
  }
  const defaultUnit = name.toLowerCase() === WEIGHT_METRIC ? "kg" : "";
  const metric = existing ?? (await ensureMetric(db, person.id, name, defaultUnit)).metric;
  const updated = await setMetricGoal(db, metric.id, {
    target: validated.metric.target,
    tolerance: validated.metric.tolerance,
    direction: validated.metric.direction,
  });
  await ctx.reply(
    `Goal for ${updated.name}: ${formatValue(target, updated.unit)} ±${formatValue(tol, updated.unit)}. The chart shows it as a band.`,
  );
}

/** Replies with the metric's trend chart (last year) and a one-line summary. */
async function showMetric(
  ctx: CoachContext,
  person: User,
  metric: Metric | null,
  name: string,
  example: string,
) {
  if (metric === null) {
    await ctx.reply(`No ${name} recorded yet. Send it like ${example}.`);
    return;
  }
  const since = new Date(ctx.deps.now().getTime() - 365 * 86_400_000);
  const samples = await metricSamples(ctx.deps.db, metric.id, since);
  if (samples.length === 0) {
    await ctx.reply(`No ${metric.name} recorded in the last year. Send it like ${example}.`);
    return;
  }
  const png = await (ctx.deps.charts ?? inlineChartRenderer).metric({
    title: `${metric.name}${metric.unit ? ` (${metric.unit})` : ""}`,
    unit: metric.unit,
    samples: samples.map((s) => ({ at: s.measuredAt, value: s.value })),
    timeZone: person.timezone,
    target: metric.target,
    tolerance: metric.tolerance,
  });
  const last = samples.at(-1)!;
  const first = samples[0];
  const caption = [
    `Latest ${metric.name}: ${formatValue(last.value, metric.unit)} (${formatWhen(last.measuredAt, person.timezone)})`,
    samples.length > 1
      ? `${signed(last.value - first.value, metric.unit)} over ${samples.length} samples since ${formatWhen(first.measuredAt, person.timezone)}`
      : null,
  ]
    .filter((l) => l !== null)
    .join("\n");
  await ctx.replyWithPhoto(Input.fromBuffer(png, `${metric.nameKey.replace(/\s+/g, "-")}.png`), {
    caption,
  });
}

async function handleMetric(ctx: CoachContext, name: string, args: string, example: string) {
  const person = await requirePerson(ctx);
  if (person === undefined) return;
  const parsed = parseMetricArgs(args, example);
  if (!parsed.ok) {
    await ctx.reply(parsed.message);
    return;
  }
  const command = parsed.value;
  if (command.kind === "record") {
    await recordValue(ctx, person, name, command.value, command.unit);
  } else if (command.kind === "goal") {
    await setGoal(ctx, person, name, command.target, command.tolerance);
  } else {
    await showMetric(ctx, person, await findMetric(ctx.deps.db, person.id, name), name, example);
  }
}

async function listPersonMetrics(ctx: CoachContext, db: Database, person: User) {
  const metrics = await listMetrics(db, person.id);
  if (metrics.length === 0) {
    await ctx.reply(
      "No metrics yet. Record one by name, e.g. /weight 72.4 or /metric waist 81 cm; send /metric waist to see its chart.",
    );
    return;
  }
  const lines = metrics.map(({ metric, latest, count }) => {
    const last =
      latest === null
        ? "no samples"
        : `${formatValue(latest.value, metric.unit)} (${formatWhen(latest.measuredAt, person.timezone)})`;
    return `• ${metric.name}: ${last}, ${count} sample${count === 1 ? "" : "s"}`;
  });
  await ctx.reply(`Your metrics:\n${lines.join("\n")}\nSend /metric NAME for a chart.`);
}

/** Splits "/metric waist 81 cm" args into the metric name and the rest; names may be several words only when quoted. */
export function splitMetricName(args: string): ParseResult<{ name: string; rest: string }> {
  const trimmed = args.trim();
  const quoted = /^"([^"]+)"\s*([\s\S]*)$/.exec(trimmed);
  const [name, rest] = quoted
    ? [quoted[1].trim(), quoted[2]]
    : [trimmed.split(/\s+/)[0], trimmed.slice(trimmed.split(/\s+/)[0].length)];
  const problem = nameProblem(name, "A metric name");
  if (problem !== null) return { ok: false, message: `${problem}. Example: /metric waist 81 cm.` };
  if (["goal", "target"].includes(name.toLowerCase())) {
    return { ok: false, message: `Name the metric first, like /metric waist goal 78 2.` };
  }
  return { ok: true, value: { name, rest } };
}

export function register(bot: Telegraf<CoachContext>): void {
  bot.command("weight", async (ctx) => {
    await handleMetric(ctx, WEIGHT_METRIC, commandArgs(ctx), "/weight 72.4");
  });
  bot.command("metric", async (ctx) => {
    const person = await requirePerson(ctx);
    if (person === undefined) return;
    const args = commandArgs(ctx);
    if (args.trim() === "") {
      await listPersonMetrics(ctx, ctx.deps.db, person);
      return;
    }
    const split = splitMetricName(args);
    if (!split.ok) {
      await ctx.reply(split.message);
      return;
    }
    const { name, rest } = split.value;
    await handleMetric(ctx, name, rest, `/metric ${name} 81`);
  });
}
