// /weight and /metric: record a measurement, show its trend chart, set its goal.
//   /weight 72.4            record (kg unless the person's weight is kept in lb)
//   /weight 72,4 kg         comma decimals and a unit (kg, lb, g, st) are fine
//   /weight                 trend chart + latest value
//   /weight goal 70 1       target 70 with tolerance ±1
//   /metric waist 81 cm     any metric by name (created on first use with that unit)
//   /metric waist           its chart;  /metric  → list of metrics
// The measured-at instant is the Telegram message's own timestamp, so a re-delivered message
// maps to the same (user, metric, instant) row and is stored once.
import { Composer, Input } from "telegraf";
import {
  listMeasurements,
  measurementTrend,
  recordMeasurement,
  setMeasurementGoal,
} from "../../app/weight.js";
import { nameProblem } from "../../coach/habits.js";
import { chatMeasurementInstant } from "../../coach/idempotency.js";
import { parseDecimal, WEIGHT_METRIC } from "../../coach/weight.js";
import type { User } from "../../generated/prisma/client.js";
import type { CoachContext } from "../context.js";
import { commandArgs, requirePerson } from "../person-guard.js";

const MAX_UNIT_LENGTH = 12;

export type MetricCommand =
  | { kind: "show" }
  | { kind: "record"; value: number; unit: string | null }
  | { kind: "goal"; target: number; tolerance: number | null };

export type ParseResult<T> = { ok: true; value: T } | { ok: false; message: string };

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

/** The instant a measurement typed in this message was taken (the same for a re-delivery). */
function measuredAtOf(ctx: CoachContext): Date {
  const message = ctx.message;
  if (message === undefined) return ctx.deps.now();
  return chatMeasurementInstant(message.date, message.message_id);
}

async function recordValue(
  ctx: CoachContext,
  person: User,
  name: string,
  value: number,
  typedUnit: string | null,
): Promise<void> {
  const measuredAt = measuredAtOf(ctx);
  const outcome = await recordMeasurement(ctx.deps, person, name, value, typedUnit, measuredAt);
  if (outcome.kind === "refused") {
    await ctx.reply(outcome.message);
    return;
  }
  const { metric, sample } = outcome;
  if (outcome.kind === "duplicate") {
    await ctx.reply(`Already recorded: ${metric.name} ${formatValue(sample.value, metric.unit)}.`);
    return;
  }
  const lines = [
    `Recorded ${metric.name} ${formatValue(sample.value, metric.unit)} (${formatWhen(measuredAt, person.timezone)}).`,
  ];
  const { previous } = outcome;
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
  const outcome = await setMeasurementGoal(ctx.deps, person, name, target, tolerance);
  if (!outcome.ok) {
    await ctx.reply(outcome.message);
    return;
  }
  const { metric } = outcome;
  await ctx.reply(
    `Goal for ${metric.name}: ${formatValue(outcome.target, metric.unit)} ±${formatValue(outcome.tolerance, metric.unit)}. The chart shows it as a band.`,
  );
}

/** Replies with the metric's trend chart (last year) and a one-line summary. */
async function showMetric(ctx: CoachContext, person: User, name: string, example: string) {
  const trend = await measurementTrend(ctx.deps, person, name);
  if (trend.kind === "no-metric") {
    await ctx.reply(`No ${name} recorded yet. Send it like ${example}.`);
    return;
  }
  const { metric } = trend;
  if (trend.kind === "no-samples") {
    await ctx.reply(`No ${metric.name} recorded in the last year. Send it like ${example}.`);
    return;
  }
  const { samples } = trend;
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
  await ctx.replyWithPhoto(
    Input.fromBuffer(trend.png, `${metric.nameKey.replace(/\s+/g, "-")}.png`),
    { caption },
  );
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
    await showMetric(ctx, person, name, example);
  }
}

async function listPersonMetrics(ctx: CoachContext, person: User) {
  const metrics = await listMeasurements(ctx.deps, person);
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

/** /weight and /metric. */
export const weightCommands = new Composer<CoachContext>();

weightCommands.command("weight", async (ctx) => {
  await handleMetric(ctx, WEIGHT_METRIC, commandArgs(ctx), "/weight 72.4");
});

weightCommands.command("metric", async (ctx) => {
  const person = await requirePerson(ctx);
  if (person === undefined) return;
  const args = commandArgs(ctx);
  if (args.trim() === "") {
    await listPersonMetrics(ctx, person);
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
