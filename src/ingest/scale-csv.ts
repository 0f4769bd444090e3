// Smart-scale CSV exports (Withings, Renpho, Garmin, Fitbit, spreadsheets): find the header row,
// the date/time column(s), the weight column and its unit, then read every row on its own — a
// broken row becomes a located problem and never stops the rest. Pure: text in, samples out.

import { parseDecimal, type WeightUnit, weightUnitOf } from "../coach/weight.js";
import { CsvReader, type CsvRow } from "./csv.js";
import { parseTimestamp } from "./timestamps.js";
import {
  type ParseOutcome,
  Problems,
  quote,
  readWeight,
  TooManySamplesError,
  type WeightSample,
} from "./weight.js";

export interface ScaleCsvOptions {
  /** IANA zone for times written without an offset. */
  timeZone: string;
  now: Date;
  /** Unit for weights whose unit appears nowhere (header, unit column or value). */
  defaultUnit?: "kg" | "lb";
  /** More samples than this stop the parse with TooManySamplesError. */
  maxSamples?: number;
}

interface Columns {
  weight: number;
  /** Unit named in the weight column's header, e.g. "Weight (lb)". */
  headerUnit: WeightUnit | null;
  /** A date-and-time column, or the date column when the time is separate. */
  date: number;
  /** A separate time column (-1 when none). */
  time: number;
  /** A separate unit column (-1 when none). */
  unit: number;
}

const WEIGHT_NAMES = new Set([
  "weight",
  "body weight",
  "bodyweight",
  "body mass",
  "bodymass",
  "mass",
  "wt",
  "weight value",
  "gewicht",
  "korpergewicht",
  "poids",
  "peso",
]);
const NOT_BODY_WEIGHT =
  /fat|lean|free|muscle|bone|water|hydration|goal|target|change|diff|delta|bmi|skeletal|protein|visceral|ideal|min|max/;

function splitHeader(raw: string): { name: string; unit: WeightUnit | null } {
  let text = raw
    .replace(/^\uFEFF/, "")
    .trim()
    .toLowerCase();
  let unit: WeightUnit | null = null;
  const bracketed = /[([]\s*([a-z]+)\s*[)\]]/.exec(text);
  if (bracketed !== null && weightUnitOf(bracketed[1]) !== null) {
    unit = weightUnitOf(bracketed[1]);
    text = text.replace(bracketed[0], " ");
  } else {
    const suffix = /[\s_-](kgs?|lbs?)$/.exec(text);
    if (suffix !== null) {
      unit = weightUnitOf(suffix[1]);
      text = text.slice(0, suffix.index);
    }
  }
  const name = text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^a-z]+/g, " ")
    .trim();
  return { name, unit };
}

function isCombinedDateTime(name: string): boolean {
  return (
    (/\bdate\b|datum/.test(name) && /\btime\b|zeit/.test(name)) ||
    /timestamp|datetime|measured|recorded|created|time of measurement|measurement time/.test(name)
  );
}

/** The columns of a header row; null when it has no weight or no date column. */
function findColumns(header: string[]): Columns | null {
  const parsed = header.map(splitHeader);
  let weight = parsed.findIndex((h) => WEIGHT_NAMES.has(h.name));
  if (weight < 0) {
    weight = parsed.findIndex(
      (h) => /weight|gewicht|poids|mass/.test(h.name) && !NOT_BODY_WEIGHT.test(h.name),
    );
  }
  if (weight < 0) return null;
  const names = parsed.map((h) => h.name);
  const combined = names.findIndex(isCombinedDateTime);
  const dateOnly = names.findIndex((n) => /\bdate\b|datum|^day$/.test(n));
  const timeOnly = names.findIndex((n) => /\btime\b|zeit/.test(n) && !/\bdate\b|datum/.test(n));
  const unit = names.findIndex((n) => n === "unit" || n === "units" || n === "einheit");
  let date: number;
  let time = -1;
  if (combined >= 0) date = combined;
  else if (dateOnly >= 0) {
    date = dateOnly;
    if (timeOnly >= 0 && timeOnly !== dateOnly) time = timeOnly;
  } else if (timeOnly >= 0) date = timeOnly;
  else return null;
  return { weight, headerUnit: parsed[weight].unit, date, time, unit };
}

/** A header-less file whose first row is "date,weight". */
function headerless(row: CsvRow, options: ScaleCsvOptions): Columns | null {
  if (row.fields.length < 2) return null;
  const at = parseTimestamp(row.fields[0], options);
  if (!at.ok || parseDecimal(splitValueUnit(row.fields[1]).number) === null) return null;
  return { weight: 1, headerUnit: null, date: 0, time: -1, unit: -1 };
}

/** "72.4 kg" → 72.4 and kg; "160lbs" → 160 and lbs; "7x" stays whole (not a number). */
function splitValueUnit(text: string): { number: string; unit: string } {
  const m = /^(.*?\d[.,]?)(\s*)([a-zA-Z]+)\.?$/.exec(text.trim());
  if (m === null || (m[2] === "" && weightUnitOf(m[3]) === null)) {
    return { number: text.trim(), unit: "" };
  }
  return { number: m[1], unit: m[3] };
}

function describeHeader(fields: string[]): string {
  return fields
    .slice(0, 12)
    .map((f) => quote(f.trim(), 30))
    .join(", ");
}

export function parseScaleCsv(text: string, options: ScaleCsvOptions): ParseOutcome {
  const problems = new Problems();
  const samples: WeightSample[] = [];
  const reader = new CsvReader(text);
  const rows = reader.rows();
  // the header may follow a few title lines: only the first ten rows are read before the data
  const head: CsvRow[] = [];
  while (head.length < 10) {
    const r = rows.next();
    if (r.done) break;
    head.push(r.value);
  }
  if (head.length === 0) {
    problems.add("", "the file is empty");
    return { samples, problems: problems.toArray() };
  }
  let headerIndex = -1;
  let columns: Columns | null = null;
  for (let i = 0; i < head.length && columns === null; i++) {
    columns = findColumns(head[i].fields);
    if (columns !== null) headerIndex = i;
  }
  if (columns === null) {
    columns = headerless(head[0], options);
    headerIndex = -1;
  }
  if (columns === null) {
    problems.add(
      "",
      `no weight and date columns found: expected a header such as "Date,Weight (kg)"; the first row is ${describeHeader(head[0].fields)}`,
    );
    return { samples, problems: problems.toArray() };
  }
  const fallbackUnit: WeightUnit = columns.headerUnit ?? options.defaultUnit ?? "kg";
  const maxSamples = options.maxSamples ?? Number.POSITIVE_INFINITY;
  const dataRows = function* () {
    yield* head.slice(headerIndex + 1);
    yield* rows;
  };
  for (const row of dataRows()) {
    const where = `row ${row.line}`;
    const cell = (index: number) => (index >= 0 ? (row.fields[index] ?? "").trim() : "");
    const weightText = cell(columns.weight);
    const dateText = cell(columns.date);
    if (weightText === "" && dateText === "") {
      problems.add(where, "no date and no weight");
      continue;
    }
    if (dateText === "") {
      problems.add(where, "no date");
      continue;
    }
    if (weightText === "") {
      problems.add(where, "no weight");
      continue;
    }
    const { number, unit: valueUnitText } = splitValueUnit(weightText);
    const unitText = valueUnitText !== "" ? valueUnitText : cell(columns.unit);
    const weight = readWeight(number, unitText, fallbackUnit, weightText);
    if (!weight.ok) {
      problems.add(where, weight.problem);
      continue;
    }
    const timeText = cell(columns.time);
    const when = timeText !== "" && !dateText.includes(":") ? `${dateText} ${timeText}` : dateText;
    const at = parseTimestamp(when, options);
    if (!at.ok) {
      problems.add(where, at.message);
      continue;
    }
    if (samples.length >= maxSamples) throw new TooManySamplesError(maxSamples);
    samples.push({ value: weight.value, unit: weight.unit, measuredAt: at.at, where });
  }
  if (reader.unterminatedQuoteLine !== undefined) {
    problems.add(
      `row ${reader.unterminatedQuoteLine}`,
      "a quoted field is never closed (the rest of the file was read as one field)",
    );
  }
  if (samples.length === 0 && problems.count === 0) {
    problems.add("", "the file has a header but no measurements");
  }
  return { samples, problems: problems.toArray() };
}
