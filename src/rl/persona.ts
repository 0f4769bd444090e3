/**
 * Personas: simulated people the policy trains against. A persona is a JSON document holding a
 * habit set in the coach-core format (plus metric goals) and a behaviour model: how likely the
 * person is to do what was planned, how often they do a habit unplanned, how much they do
 * relative to the plan, how many planned habits they can take on, weekday rhythm, lagged
 * cross-habit effects and slow drift of motivation. See docs/personas.md for the format.
 * The same format is meant to describe a model fitted from a real person's history.
 */
import { readFile } from "node:fs/promises";
import {
  assignActorGroups,
  type HabitSpec,
  type MetricGoal,
  type ValidationProblem,
  validateHabit,
  validateHabitSet,
  validateMetricGoal,
} from "../coach/habits.js";

export const PERSONA_FORMAT = 1;

export interface HabitBehaviour {
  /** Probability of doing the habit on a day it is planned (before weekday/overload/drift). */
  compliance: number;
  /** Probability of doing it on a day it is not planned. */
  unplannedRate: number;
  /** Done amount ÷ planned amount (÷ target when unplanned): mean and standard deviation. */
  amountMean: number;
  amountSd: number;
  /** Optional per-habit weekday factors (Monday first), multiplied with the persona's. */
  weekdayFactors?: number[];
}

export interface CrossEffect {
  /** Habit id done today … */
  from: string;
  /** … changes the probability of this habit tomorrow … */
  to: string;
  /** … by this much (added to the probability, result clamped to [0, 1]). */
  effect: number;
}

export interface Drift {
  /** Motivation multiplier change per day (−0.002 = slowly losing interest). */
  perDay: number;
  min: number;
  max: number;
}

export interface PersonaBehaviour {
  /** Planned habits per day the person realistically does. */
  capacity: number;
  /** Compliance lost for each planned habit beyond capacity (0.1 = −10 % per extra habit). */
  overloadPenalty: number;
  /** Compliance factor per weekday, Monday first (7 numbers ≥ 0). */
  weekdayFactors: number[];
  drift: Drift | null;
  habits: Record<string, HabitBehaviour>;
  crossEffects: CrossEffect[];
}

export interface Persona {
  format: 1;
  name: string;
  description: string;
  habits: HabitSpec[];
  metrics: MetricGoal[];
  /** Daily minutes limit passed to the coach core's plan adjustment (null = none). */
  planCapacityMinutes: number | null;
  behaviour: PersonaBehaviour;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function show(x: unknown): string {
  if (typeof x === "string") return JSON.stringify(x);
  if (Array.isArray(x)) return "a list";
  if (isRecord(x)) return "an object";
  return String(x);
}

class Checker {
  readonly problems: ValidationProblem[] = [];

  fail(field: string, message: string): void {
    this.problems.push({ field, message });
  }

  /** A finite number in [min, max]; returns it, or `fallback` after recording a problem. */
  number(value: unknown, field: string, min: number, max: number, fallback = 0): number {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      this.fail(field, `${field} must be a number, got ${show(value)}`);
      return fallback;
    }
    if (value < min || value > max) {
      this.fail(field, `${field} must be between ${min} and ${max}, got ${value}`);
      return fallback;
    }
    return value;
  }

  weekdays(value: unknown, field: string): number[] {
    if (!Array.isArray(value) || value.length !== 7) {
      this.fail(field, `${field} must be a list of 7 numbers (Monday first), got ${show(value)}`);
      return [1, 1, 1, 1, 1, 1, 1];
    }
    return value.map((x, i) => this.number(x, `${field}[${i}]`, 0, 10, 1));
  }
}

/** Validates untrusted persona JSON; every problem names its field. Never throws. */
export function validatePersona(
  input: unknown,
): { ok: true; persona: Persona } | { ok: false; problems: ValidationProblem[] } {
  const c = new Checker();
  if (!isRecord(input)) {
    return {
      ok: false,
      problems: [{ field: "persona", message: "a persona must be a JSON object" }],
    };
  }
  if (input.format !== PERSONA_FORMAT) {
    c.fail("format", `format must be ${PERSONA_FORMAT}, got ${show(input.format)}`);
  }
  const name = typeof input.name === "string" && input.name.trim() !== "" ? input.name.trim() : "";
  if (name === "") c.fail("name", `name must be non-empty text, got ${show(input.name)}`);
  const description = input.description ?? "";
  if (typeof description !== "string") {
    c.fail("description", `description must be text, got ${show(description)}`);
  }

  // Habits: the coach core's format and rules; actor groups assigned by the coach core.
  let habits: HabitSpec[] = [];
  if (!Array.isArray(input.habits) || input.habits.length === 0) {
    c.fail("habits", `habits must be a non-empty list, got ${show(input.habits)}`);
  } else {
    input.habits.forEach((raw, i) => {
      const result = validateHabit(raw);
      if (result.ok) habits.push(result.habit);
      else for (const p of result.problems) c.fail(`habits[${i}].${p.field}`, p.message);
      if (result.ok && result.habit.levels.length < 2) {
        c.fail(`habits[${i}].levels`, `levels must hold at least 2 amounts (0 and one more)`);
      }
    });
    for (const p of validateHabitSet(habits)) c.fail(p.field, p.message);
    habits = assignActorGroups(habits);
  }
  // Ids of every listed habit, valid or not, so behaviour problems are reported in one pass.
  const ids = new Set<string>(
    (Array.isArray(input.habits) ? input.habits : [])
      .map((h) => (isRecord(h) ? h.id : undefined))
      .filter((id): id is string => typeof id === "string" && id !== ""),
  );

  const metrics: MetricGoal[] = [];
  if (input.metrics !== undefined) {
    if (!Array.isArray(input.metrics))
      c.fail("metrics", `metrics must be a list, got ${show(input.metrics)}`);
    else {
      input.metrics.forEach((raw, i) => {
        const result = validateMetricGoal(raw);
        if (result.ok) metrics.push(result.metric);
        else for (const p of result.problems) c.fail(`metrics[${i}].${p.field}`, p.message);
      });
    }
  }

  let planCapacityMinutes: number | null = null;
  if (input.planCapacityMinutes !== undefined && input.planCapacityMinutes !== null) {
    planCapacityMinutes = c.number(input.planCapacityMinutes, "planCapacityMinutes", 1, 24 * 60);
  }

  const b = input.behaviour;
  const behaviour: PersonaBehaviour = {
    capacity: 1,
    overloadPenalty: 0,
    weekdayFactors: [1, 1, 1, 1, 1, 1, 1],
    drift: null,
    habits: {},
    crossEffects: [],
  };
  if (!isRecord(b)) c.fail("behaviour", `behaviour must be an object, got ${show(b)}`);
  else {
    behaviour.capacity = c.number(b.capacity, "behaviour.capacity", 0, 100, 1);
    behaviour.overloadPenalty = c.number(b.overloadPenalty ?? 0, "behaviour.overloadPenalty", 0, 1);
    if (b.weekdayFactors !== undefined) {
      behaviour.weekdayFactors = c.weekdays(b.weekdayFactors, "behaviour.weekdayFactors");
    }
    if (b.drift !== undefined && b.drift !== null) {
      if (!isRecord(b.drift))
        c.fail("behaviour.drift", `behaviour.drift must be an object or null`);
      else {
        const min = c.number(b.drift.min, "behaviour.drift.min", 0, 10, 0.5);
        const max = c.number(b.drift.max, "behaviour.drift.max", 0, 10, 1.5);
        if (min > max)
          c.fail("behaviour.drift.min", `behaviour.drift.min (${min}) exceeds max (${max})`);
        behaviour.drift = {
          perDay: c.number(b.drift.perDay, "behaviour.drift.perDay", -0.1, 0.1),
          min,
          max,
        };
      }
    }
    if (!isRecord(b.habits))
      c.fail("behaviour.habits", `behaviour.habits must map habit ids to behaviour`);
    else {
      for (const key of Object.keys(b.habits)) {
        if (!ids.has(key))
          c.fail(`behaviour.habits.${key}`, `behaviour.habits.${key} names no habit`);
      }
      for (const id of ids) {
        const field = `behaviour.habits.${id}`;
        const h = b.habits[id];
        if (!isRecord(h)) {
          c.fail(field, `${field} is missing (every habit needs a behaviour)`);
          continue;
        }
        const hb: HabitBehaviour = {
          compliance: c.number(h.compliance, `${field}.compliance`, 0, 1),
          unplannedRate: c.number(h.unplannedRate ?? 0, `${field}.unplannedRate`, 0, 1),
          amountMean: c.number(h.amountMean ?? 1, `${field}.amountMean`, 0, 5, 1),
          amountSd: c.number(h.amountSd ?? 0, `${field}.amountSd`, 0, 5),
        };
        if (h.weekdayFactors !== undefined) {
          hb.weekdayFactors = c.weekdays(h.weekdayFactors, `${field}.weekdayFactors`);
        }
        behaviour.habits[id] = hb;
      }
    }
    if (b.crossEffects !== undefined) {
      if (!Array.isArray(b.crossEffects)) {
        c.fail("behaviour.crossEffects", `behaviour.crossEffects must be a list`);
      } else {
        b.crossEffects.forEach((raw, i) => {
          const field = `behaviour.crossEffects[${i}]`;
          if (!isRecord(raw)) {
            c.fail(field, `${field} must be an object with from, to and effect`);
            return;
          }
          for (const end of ["from", "to"] as const) {
            if (typeof raw[end] !== "string" || !ids.has(raw[end] as string)) {
              c.fail(
                `${field}.${end}`,
                `${field}.${end} must be a habit id, got ${show(raw[end])}`,
              );
            }
          }
          behaviour.crossEffects.push({
            from: String(raw.from),
            to: String(raw.to),
            effect: c.number(raw.effect, `${field}.effect`, -1, 1),
          });
        });
      }
    }
  }
  if (c.problems.length > 0) return { ok: false, problems: c.problems };
  return {
    ok: true,
    persona: {
      format: 1,
      name,
      description: description as string,
      habits,
      metrics,
      planCapacityMinutes,
      behaviour,
    },
  };
}

/** Parses and validates persona JSON text; throws one Error listing every problem. */
export function parsePersona(text: string, source = "persona"): Persona {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  const result = validatePersona(json);
  if (!result.ok) {
    const lines = result.problems.map((p) => `  - ${p.field}: ${p.message}`);
    throw new Error(`${source} is not a valid persona:\n${lines.join("\n")}`);
  }
  return result.persona;
}

export async function loadPersonaFile(path: string): Promise<Persona> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new Error(
      `cannot read persona file ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  return parsePersona(text, path);
}
