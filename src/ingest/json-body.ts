// The JSON an automation sends: {"weight": 72.4, "unit": "kg", "measuredAt": "…"} or a list
// of them (also {"samples": [...]}). "measuredAt" is optional and then means now; a weight may
// be a number or a decimal string ("72,4", which phone automations like to send). Each item is
// checked with zod, and the first problem of an item is named. Pure.
import { z } from "zod";
import { parseDecimal, type WeightUnit, weightUnitOf } from "../coach/weight.js";
import { parseTimestamp } from "./timestamps.js";
import {
  implausibleWeight,
  notAWeightUnit,
  type ParseOutcome,
  Problems,
  quote,
  TooManySamplesError,
  type WeightSample,
} from "./weight.js";

export interface WeightJsonOptions {
  timeZone: string;
  now: Date;
  defaultUnit?: "kg" | "lb";
  /** A list longer than this is refused whole with TooManySamplesError. */
  maxSamples?: number;
}

const OBJECT_EXAMPLE = 'expected an object like {"weight": 72.4, "unit": "kg"}';
const DATE_EXAMPLE = '"measuredAt" must be a date string such as "2026-11-30T07:10:00+01:00"';

/** null and "" mean "not given", like a missing field. */
const blankToUndefined = (value: unknown) => (value === null || value === "" ? undefined : value);

function shown(input: unknown): string {
  return quote(typeof input === "string" ? input : (JSON.stringify(input) ?? ""));
}

/** A weight: a number, or a decimal string ("72,4", which phone automations like to send). */
const weightNumber = z
  .preprocess(blankToUndefined, z.unknown())
  .refine((value) => value !== undefined, { error: 'no "weight"', abort: true })
  .pipe(
    z.union([z.number(), z.string().transform(parseDecimal).pipe(z.number())], {
      error: (issue) => `weight ${shown(issue.input)} is not a number`,
    }),
  );

const notAUnit = (issue: { input?: unknown }) => notAWeightUnit(String(issue.input));

/** A weight unit by any of its names ("kg", "lbs", "stone"). */
const weightUnit = z
  .string({ error: notAUnit })
  .refine((name) => weightUnitOf(name) !== null, { error: notAUnit })
  .transform((name) => weightUnitOf(name) as WeightUnit);

/** One measurement of a body, checked field by field in the order the problems are named. */
function measurementSchema(options: WeightJsonOptions) {
  const measuredAt = z
    .preprocess(
      blankToUndefined,
      z.union([z.string(), z.number(), z.undefined()], { error: DATE_EXAMPLE }),
    )
    .transform((when, ctx) => {
      // without a date the sample is stamped now (the very `now` object: see parseWeightJson)
      if (when === undefined) return options.now;
      const at = parseTimestamp(String(when), options);
      if (at.ok) return at.at;
      ctx.addIssue({ code: "custom", message: at.message });
      return z.NEVER;
    });
  return z
    .object(
      {
        weight: z.unknown().optional(),
        value: z.unknown().optional(),
        unit: z.unknown().optional(),
        measuredAt: z.unknown().optional(),
        measured_at: z.unknown().optional(),
      },
      { error: OBJECT_EXAMPLE },
    )
    .transform((o): { value: unknown; unit?: unknown; measuredAt: unknown } => ({
      value: o.weight ?? o.value,
      unit: o.unit,
      measuredAt: o.measuredAt ?? o.measured_at,
    }))
    .pipe(
      z.object({
        value: weightNumber,
        unit: z
          .preprocess(blankToUndefined, weightUnit.optional())
          .transform((unit): WeightUnit => unit ?? options.defaultUnit ?? "kg"),
        measuredAt: z.unknown(),
      }),
    )
    .superRefine(({ value, unit }, ctx) => {
      const implausible = implausibleWeight(value, unit);
      if (implausible !== null) ctx.addIssue({ code: "custom", message: implausible });
    })
    .pipe(z.object({ value: z.number(), unit: z.custom<WeightUnit>(), measuredAt }));
}

function item(
  raw: unknown,
  where: string,
  schema: ReturnType<typeof measurementSchema>,
  problems: Problems,
): WeightSample | null {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ...parsed.data, where };
  problems.add(where, parsed.error.issues[0]?.message ?? OBJECT_EXAMPLE);
  return null;
}

export function parseWeightJson(text: string, options: WeightJsonOptions): ParseOutcome {
  const problems = new Problems();
  const samples: WeightSample[] = [];
  const schema = measurementSchema(options);
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
    if (options.maxSamples !== undefined && list.length > options.maxSamples) {
      throw new TooManySamplesError(options.maxSamples);
    }
    if (list.length === 0) problems.add("", "the list of measurements is empty");
    let undated = 0;
    list.forEach((raw, i) => {
      const sample = item(raw, `item ${i + 1}`, schema, problems);
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
    const sample = item(list, "", schema, problems);
    if (sample !== null) samples.push(sample);
  }
  return { samples, problems: problems.toArray() };
}
