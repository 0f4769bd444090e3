// Body weights as they arrive from machines: the unit, the conversion to kilograms, the range of
// plausible values and the outcome every parser returns (samples plus specific problems).
// Pure: no I/O, no clock.

/** The metric body weight is stored in: the same name /weight records to. */
export const WEIGHT_METRIC_NAME = "weight";

export const KG_PER_LB = 0.45359237;
export const KG_PER_STONE = 6.35029318;
/** Plausible body weights in kilograms; outside them the number is almost surely a mistake. */
export const WEIGHT_RANGE_KG = [20, 400] as const;

export type WeightUnit = "kg" | "lb" | "g" | "st";

/** One measured body weight, in the unit it was measured in. */
export interface WeightSample {
  value: number;
  unit: WeightUnit;
  measuredAt: Date;
  /** Where it came from in the input ("row 4", "line 1200", "item 2"), for messages. */
  where: string;
}

export interface ParseOutcome {
  samples: WeightSample[];
  /** Specific, located problems ("row 14: weight \"7a.2\" is not a number"); capped. */
  problems: string[];
}

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

/** "kg", "LBS", "pounds" → the unit; null when it is not a weight unit. */
export function weightUnitOf(text: string): WeightUnit | null {
  return UNIT_NAMES[text.trim().toLowerCase()] ?? null;
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

/** A value in kilograms expressed in the stored metric's unit (kg or lb), rounded to 0.001. */
export function inUnit(sample: Pick<WeightSample, "value" | "unit">, unit: "kg" | "lb"): number {
  const value =
    sample.unit === unit
      ? sample.value
      : unit === "kg"
        ? toKg(sample.value, sample.unit)
        : toKg(sample.value, sample.unit) / KG_PER_LB;
  return Math.round(value * 1000) / 1000;
}

const DECIMAL = /^[+-]?(\d+([.,]\d*)?|[.,]\d+)$/;

/** "72.4", "72,4" → 72.4; null for anything else (no exponents, no thousands separators). */
export function parseDecimal(text: string): number | null {
  const t = text.trim();
  if (!DECIMAL.test(t)) return null;
  const n = Number(t.replace(",", "."));
  return Number.isFinite(n) ? n : null;
}

/** Quotes a piece of input for a message, shortened and without control characters. */
export function quote(text: string, max = 40): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, " ");
  return JSON.stringify(clean.length > max ? `${clean.slice(0, max)}…` : clean);
}

/** The message when a weight is outside the plausible range, or null when it is fine. */
export function implausibleWeight(value: number, unit: WeightUnit): string | null {
  const kg = toKg(value, unit);
  const [lo, hi] = WEIGHT_RANGE_KG;
  if (kg >= lo && kg <= hi) return null;
  const shown = unit === "kg" ? `${value} kg` : `${value} ${unit} (${Math.round(kg * 10) / 10} kg)`;
  return `weight ${shown} is not a plausible body weight (accepted: ${lo}–${hi} kg)`;
}

/** Collects problems, keeping the first `limit` and counting the rest. */
export class Problems {
  private readonly list: string[] = [];
  private dropped = 0;
  constructor(private readonly limit = 100) {}
  add(where: string, message: string): void {
    if (this.list.length < this.limit)
      this.list.push(where === "" ? message : `${where}: ${message}`);
    else this.dropped += 1;
  }
  get count(): number {
    return this.list.length + this.dropped;
  }
  toArray(): string[] {
    return this.dropped === 0
      ? [...this.list]
      : [...this.list, `… and ${this.dropped} more problem${this.dropped === 1 ? "" : "s"}`];
  }
}
