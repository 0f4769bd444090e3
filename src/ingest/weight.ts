// What every ingest parser returns (samples plus specific, located problems) and how a problem
// is worded. The body-weight rules themselves (units, conversion, plausible range, decimals)
// live in the coach core (src/coach/weight.ts), shared with /weight. Pure: no I/O, no clock.
import {
  isPlausibleWeight,
  parseDecimal,
  plausibleRangeText,
  type WeightMeasurement,
  type WeightUnit,
  weightText,
  weightUnitOf,
} from "../coach/weight.js";

/** One measured body weight, in the unit it was measured in. */
export interface WeightSample extends WeightMeasurement {
  /** Where it came from in the input ("row 4", "line 1200", "item 2"), for messages. */
  where: string;
}

export interface ParseOutcome {
  samples: WeightSample[];
  /** Specific, located problems ("row 14: weight \"7a.2\" is not a number"); capped. */
  problems: string[];
}

/** Samples one upload may carry (INGEST_MAX_SAMPLES): beyond it the upload is refused whole. */
export const DEFAULT_MAX_SAMPLES = 50_000;

/** An upload with more samples than the limit: refused as a whole, nothing stored. */
export class TooManySamplesError extends Error {
  constructor(readonly limit: number) {
    super(
      `The upload has more than ${limit} weight samples; send at most ${limit} at once (split the file, or export a shorter period).`,
    );
    this.name = "TooManySamplesError";
  }
}

/** Quotes a piece of input for a message, shortened and without control characters. */
export function quote(text: string, max = 40): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, " ");
  return JSON.stringify(clean.length > max ? `${clean.slice(0, max)}…` : clean);
}

/** The message when a unit is not a weight unit. */
export function notAWeightUnit(text: string): string {
  return `unit ${quote(text)} is not a weight unit (kg, lb, g or st)`;
}

/** The message when a weight is outside the plausible range, or null when it is fine. */
export function implausibleWeight(value: number, unit: WeightUnit): string | null {
  if (isPlausibleWeight(value, unit)) return null;
  return `weight ${weightText(value, unit)} is not a plausible body weight (accepted: ${plausibleRangeText("kg")})`;
}

/**
 * A weight written as text ("72,4") with its unit's name ("" when none: `fallbackUnit`), read
 * and checked: the value and unit, or the problem. `shown` is the input quoted in the message.
 */
export function readWeight(
  numberText: string,
  unitText: string,
  fallbackUnit: WeightUnit,
  shown = numberText,
): { ok: true; value: number; unit: WeightUnit } | { ok: false; problem: string } {
  const value = parseDecimal(numberText);
  if (value === null) return { ok: false, problem: `weight ${quote(shown)} is not a number` };
  const unit = unitText === "" ? fallbackUnit : weightUnitOf(unitText);
  if (unit === null) return { ok: false, problem: notAWeightUnit(unitText) };
  const implausible = implausibleWeight(value, unit);
  return implausible === null ? { ok: true, value, unit } : { ok: false, problem: implausible };
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
