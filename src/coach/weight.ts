// Body weight, wherever it comes from (/weight in chat, a scale's export, a phone automation):
// the units people and machines use, the conversion between them, the range of plausible body
// weights and how a decimal number is written. Pure.
import { hasControlCharacters } from "./text.js";

/** The metric body weight is stored in: the one /weight records to and ingest writes into. */
export const WEIGHT_METRIC = "weight";

export const KG_PER_LB = 0.45359237;
export const KG_PER_STONE = 6.35029318;
/** Plausible body weights in kilograms; outside them the number is almost surely a mistake. */
export const WEIGHT_RANGE_KG = [20, 400] as const;

/** A unit a body weight may be given in. */
export type WeightUnit = "kg" | "lb" | "g" | "st";
/** A unit a body weight is kept in (the person's weight metric). */
export type StoredWeightUnit = "kg" | "lb";

const UNIT_NAMES: Record<string, WeightUnit> = {
  kg: "kg",
  kgs: "kg",
  kilo: "kg",
  kilos: "kg",
  kilogram: "kg",
  kilograms: "kg",
  lb: "lb",
  lbs: "lb",
  pound: "lb",
  pounds: "lb",
  g: "g",
  gram: "g",
  grams: "g",
  st: "st",
  stone: "st",
};

/** "kg", "LBS", "pounds", "stone" → the unit; null when it is not a weight unit. */
export function weightUnitOf(text: string): WeightUnit | null {
  return UNIT_NAMES[text.trim().toLowerCase()] ?? null;
}

/** The unit a person's weight metric keeps: "lb" when its unit says so, else "kg". */
export function storedWeightUnitOf(metricUnit: string): StoredWeightUnit {
  return metricUnit.trim().toLowerCase() === "lb" ? "lb" : "kg";
}

export function toKg(value: number, unit: WeightUnit): number {
  switch (unit) {
    case "kg":
      return value;
    case "lb":
      return value * KG_PER_LB;
    case "g":
      return value / 1000;
    case "st":
      return value * KG_PER_STONE;
  }
}

/** A weight expressed in a stored unit (kg or lb), rounded to 0.001. */
export function inUnit(
  weight: { value: number; unit: WeightUnit },
  unit: StoredWeightUnit,
): number {
  const value =
    weight.unit === unit
      ? weight.value
      : unit === "kg"
        ? toKg(weight.value, weight.unit)
        : toKg(weight.value, weight.unit) / KG_PER_LB;
  return Math.round(value * 1000) / 1000;
}

/** The plausible range in a unit, rounded to 0.1 for messages ("44.1–881.8 lb"). */
export function plausibleRangeText(unit: WeightUnit): string {
  const [lo, hi] = WEIGHT_RANGE_KG;
  const per = toKg(1, unit);
  return `${round1(lo / per)}–${round1(hi / per)} ${unit}`;
}

/** True when the weight lies in the plausible range (checked in kilograms). */
export function isPlausibleWeight(value: number, unit: WeightUnit): boolean {
  const kg = toKg(value, unit);
  return kg >= WEIGHT_RANGE_KG[0] && kg <= WEIGHT_RANGE_KG[1];
}

/**
 * A weight as a message shows it: "72.4 kg", or with its value in `shownIn` when it was given in
 * another unit ("30 lb (13.6 kg)").
 */
export function weightText(
  value: number,
  unit: WeightUnit,
  shownIn: StoredWeightUnit = "kg",
): string {
  return unit === shownIn
    ? `${value} ${unit}`
    : `${value} ${unit} (${round1(inUnit({ value, unit }, shownIn))} ${shownIn})`;
}

/** A body weight measured at an instant, in the unit it was measured in. */
export interface WeightMeasurement {
  value: number;
  unit: WeightUnit;
  measuredAt: Date;
}

const DECIMAL = /^[+-]?(\d+([.,]\d*)?|[.,]\d+)$/;

/** "72.4", "72,4", "-3", ".5" → number; null for anything else (no exponents, no thousands). */
export function parseDecimal(text: string): number | null {
  const t = text.trim();
  if (!DECIMAL.test(t)) return null;
  const n = Number(t.replace(",", "."));
  return Number.isFinite(n) ? n : null;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Any other metric: finite and not absurdly large. */
const MAX_ABS_MEASUREMENT = 1e9;

export type MeasurementCheck =
  | { ok: true; value: { value: number; unit: string } }
  | { ok: false; message: string };

/**
 * Checks a value typed for a metric against the metric's unit. Returns the value to store (in
 * the metric's unit), or the message to send. `storedUnit` is the metric's unit ("" when the
 * metric does not exist yet). Body weight takes every weight unit (kg, lb, g, st) and keeps the
 * unit it is recorded in; kilograms and pounds are not mixed silently. Other metrics keep the
 * unit they were created with.
 */
export function checkMetricValue(
  metricName: string,
  value: number,
  typedUnit: string | null,
  storedUnit: string,
): MeasurementCheck {
  if (metricName.toLowerCase() === WEIGHT_METRIC) {
    const typed = typedUnit === null ? null : weightUnitOf(typedUnit);
    if (typedUnit !== null && typed === null) {
      return {
        ok: false,
        message: `"${typedUnit}" is not a weight unit; use kg or lb, like /weight 72.4 kg.`,
      };
    }
    const unit: StoredWeightUnit =
      storedUnit !== ""
        ? storedWeightUnitOf(storedUnit)
        : typed === "kg" || typed === "lb"
          ? typed
          : "kg";
    if ((typed === "kg" || typed === "lb") && typed !== unit) {
      const converted = round1(inUnit({ value, unit: typed }, unit));
      return {
        ok: false,
        message: `Your weight is recorded in ${unit}. ${value} ${typed} is ${converted} ${unit}: send /weight ${converted}.`,
      };
    }
    const given = typed ?? unit;
    if (!isPlausibleWeight(value, given)) {
      return {
        ok: false,
        message: `${weightText(value, given, unit)} is not a plausible body weight (I accept ${plausibleRangeText(unit)}). Send it like /weight 72.4.`,
      };
    }
    return {
      ok: true,
      value: { value: given === unit ? value : inUnit({ value, unit: given }, unit), unit },
    };
  }
  if (Math.abs(value) > MAX_ABS_MEASUREMENT) {
    return { ok: false, message: `${value} is too large to be a measurement.` };
  }
  if (typedUnit !== null && hasControlCharacters(typedUnit)) {
    return {
      ok: false,
      message: "A unit must not contain control characters, like /metric waist 81 cm.",
    };
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
