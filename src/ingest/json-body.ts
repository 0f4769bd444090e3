// The JSON an automation sends: {"weight": 72.4, "unit": "kg", "measuredAt": "…"} or a list
// of them (also {"samples": [...]}). "measuredAt" is optional and then means now; a weight may
// be a number or a decimal string ("72,4", which phone automations like to send). Pure.
import { parseTimestamp } from "./timestamps.js";
import {
  implausibleWeight,
  type ParseOutcome,
  Problems,
  parseDecimal,
  quote,
  type WeightSample,
  type WeightUnit,
  weightUnitOf,
} from "./weight.js";

export interface WeightJsonOptions {
  timeZone: string;
  now: Date;
  defaultUnit?: "kg" | "lb";
}

function item(
  raw: unknown,
  where: string,
  options: WeightJsonOptions,
  problems: Problems,
): WeightSample | null {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    problems.add(where, 'expected an object like {"weight": 72.4, "unit": "kg"}');
    return null;
  }
  const o = raw as Record<string, unknown>;
  const weightRaw = o.weight ?? o.value;
  let value: number | null = null;
  if (typeof weightRaw === "number") value = Number.isFinite(weightRaw) ? weightRaw : null;
  else if (typeof weightRaw === "string") value = parseDecimal(weightRaw);
  if (weightRaw === undefined || weightRaw === null || weightRaw === "") {
    problems.add(where, 'no "weight"');
    return null;
  }
  if (value === null) {
    problems.add(
      where,
      `weight ${quote(typeof weightRaw === "string" ? weightRaw : (JSON.stringify(weightRaw) ?? ""))} is not a number`,
    );
    return null;
  }
  let unit: WeightUnit = options.defaultUnit ?? "kg";
  if (o.unit !== undefined && o.unit !== null && o.unit !== "") {
    const named = typeof o.unit === "string" ? weightUnitOf(o.unit) : null;
    if (named === null) {
      problems.add(where, `unit ${quote(String(o.unit))} is not a weight unit (kg or lb)`);
      return null;
    }
    unit = named;
  }
  const implausible = implausibleWeight(value, unit);
  if (implausible !== null) {
    problems.add(where, implausible);
    return null;
  }
  const when = o.measuredAt ?? o.measured_at;
  let measuredAt = options.now;
  if (when !== undefined && when !== null && when !== "") {
    if (typeof when !== "string" && typeof when !== "number") {
      problems.add(where, '"measuredAt" must be a date string such as "2026-11-30T07:10:00+01:00"');
      return null;
    }
    const at = parseTimestamp(String(when), options);
    if (!at.ok) {
      problems.add(where, at.message);
      return null;
    }
    measuredAt = at.at;
  }
  return { value, unit, measuredAt, where };
}

export function parseWeightJson(text: string, options: WeightJsonOptions): ParseOutcome {
  const problems = new Problems();
  const samples: WeightSample[] = [];
  let body: unknown;
  try {
    body = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    problems.add("", `the body is not valid JSON (${(error as Error).message.slice(0, 120)})`);
    return { samples, problems: problems.toArray() };
  }
  const list =
    body !== null && typeof body === "object" && !Array.isArray(body) && "samples" in body
      ? (body as { samples: unknown }).samples
      : body;
  if (Array.isArray(list)) {
    if (list.length === 0) problems.add("", "the list of measurements is empty");
    let undated = 0;
    list.forEach((raw, i) => {
      const sample = item(raw, `item ${i + 1}`, options, problems);
      if (sample === null) return;
      // without measuredAt a sample is stamped "now": a second one would be the same instant
      if (sample.measuredAt === options.now && ++undated > 1) {
        problems.add(
          `item ${i + 1}`,
          'no "measuredAt" (only one measurement per request may go without it)',
        );
        return;
      }
      samples.push(sample);
    });
  } else {
    const sample = item(list, "", options, problems);
    if (sample !== null) samples.push(sample);
  }
  return { samples, problems: problems.toArray() };
}
