/**
 * Personas: simulated people the policy trains against. A persona is a JSON document holding a
 * habit set in the coach-core format (plus metric goals) and a behaviour model: how likely the
 * person is to do what was planned, how often they do a habit unplanned, how much they do
 * relative to the plan, how many planned habits they can take on, weekday rhythm, lagged
 * cross-habit effects and slow drift of motivation. See docs/personas.md for the format.
 * The same format is meant to describe a model fitted from a real person's history.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
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

// The persona file's shape. Messages are completed with the field's path (`behaviour.capacity
// must be between 0 and 100, got 120`); habits and metric goals are checked by the coach core.
const number = (min: number, max: number) =>
  z
    .number({ error: (issue) => `must be a number, got ${show(issue.input)}` })
    .min(min, { error: (issue) => `must be between ${min} and ${max}, got ${issue.input}` })
    .max(max, { error: (issue) => `must be between ${min} and ${max}, got ${issue.input}` });

const weekdayFactors = z
  .array(number(0, 10), {
    error: (issue) => `must be a list of 7 numbers (Monday first), got ${show(issue.input)}`,
  })
  .length(7, {
    error: (issue) => `must be a list of 7 numbers (Monday first), got ${show(issue.input)}`,
  });

const habitBehaviour = z.object(
  {
    compliance: number(0, 1),
    unplannedRate: number(0, 1).default(0),
    amountMean: number(0, 5).default(1),
    amountSd: number(0, 5).default(0),
    weekdayFactors: weekdayFactors.optional(),
  },
  { error: "is missing (every habit needs a behaviour)" },
);

const behaviourSchema = z.object(
  {
    capacity: number(0, 100),
    overloadPenalty: number(0, 1).default(0),
    weekdayFactors: weekdayFactors.default([1, 1, 1, 1, 1, 1, 1]),
    drift: z
      .object(
        { perDay: number(-0.1, 0.1), min: number(0, 10), max: number(0, 10) },
        { error: "must be an object or null" },
      )
      .refine((d) => d.min <= d.max, {
        path: ["min"],
        error: (issue) => {
          const d = issue.input as Drift;
          return `(${d.min}) exceeds max (${d.max})`;
        },
      })
      .nullable()
      .default(null),
    habits: z.record(z.string(), habitBehaviour.optional(), {
      error: "must map habit ids to behaviour",
    }),
    crossEffects: z
      .array(
        z.object(
          { from: z.string(), to: z.string(), effect: number(-1, 1) },
          { error: "must be an object with from, to and effect" },
        ),
        { error: "must be a list" },
      )
      .default([]),
  },
  { error: (issue) => `must be an object, got ${show(issue.input)}` },
);

const personaSchema = z.object({
  format: z.literal(PERSONA_FORMAT, {
    error: (issue) => `must be ${PERSONA_FORMAT}, got ${show(issue.input)}`,
  }),
  name: z
    .string({ error: (issue) => `must be non-empty text, got ${show(issue.input)}` })
    .trim()
    .min(1, { error: "must be non-empty text" }),
  description: z.string({ error: (issue) => `must be text, got ${show(issue.input)}` }).default(""),
  habits: z
    .array(z.unknown(), { error: (issue) => `must be a non-empty list, got ${show(issue.input)}` })
    .min(1, { error: "must be a non-empty list, got an empty list" }),
  metrics: z
    .array(z.unknown(), { error: (issue) => `must be a list, got ${show(issue.input)}` })
    .default([]),
  planCapacityMinutes: number(1, 24 * 60)
    .nullable()
    .default(null),
  behaviour: behaviourSchema,
});

/** `behaviour.crossEffects[0].to` from zod's path. */
function fieldOf(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) => (typeof key === "number" ? `[${key}]` : `${i === 0 ? "" : "."}${String(key)}`))
    .join("");
}

/** Validates untrusted persona JSON; every problem names its field. Never throws. */
export function validatePersona(
  input: unknown,
): { ok: true; persona: Persona } | { ok: false; problems: ValidationProblem[] } {
  if (!isRecord(input)) {
    return {
      ok: false,
      problems: [{ field: "persona", message: "a persona must be a JSON object" }],
    };
  }
  const problems: ValidationProblem[] = [];
  const fail = (field: string, message: string) => problems.push({ field, message });
  const parsed = personaSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = fieldOf(issue.path);
      fail(field, `${field} ${issue.message}`);
    }
  }

  // Habits: the coach core's format and rules; actor groups assigned by the coach core.
  let habits: HabitSpec[] = [];
  if (Array.isArray(input.habits)) {
    input.habits.forEach((raw, i) => {
      const result = validateHabit(raw);
      if (result.ok) habits.push(result.habit);
      else for (const p of result.problems) fail(`habits[${i}].${p.field}`, p.message);
      if (result.ok && result.habit.levels.length < 2) {
        fail(`habits[${i}].levels`, `levels must hold at least 2 amounts (0 and one more)`);
      }
    });
    for (const p of validateHabitSet(habits)) fail(p.field, p.message);
    habits = assignActorGroups(habits);
  }
  const metrics: MetricGoal[] = [];
  if (Array.isArray(input.metrics)) {
    input.metrics.forEach((raw, i) => {
      const result = validateMetricGoal(raw);
      if (result.ok) metrics.push(result.metric);
      else for (const p of result.problems) fail(`metrics[${i}].${p.field}`, p.message);
    });
  }

  // Behaviour refers to habits by id: ids of every listed habit, valid or not, so every problem
  // is reported in one pass.
  const ids = new Set<string>(
    (Array.isArray(input.habits) ? input.habits : [])
      .map((h) => (isRecord(h) ? h.id : undefined))
      .filter((id): id is string => typeof id === "string" && id !== ""),
  );
  const b = input.behaviour;
  if (isRecord(b) && isRecord(b.habits)) {
    for (const key of Object.keys(b.habits)) {
      if (!ids.has(key)) fail(`behaviour.habits.${key}`, `behaviour.habits.${key} names no habit`);
    }
    for (const id of ids) {
      const field = `behaviour.habits.${id}`;
      if (b.habits[id] === undefined) {
        fail(field, `${field} is missing (every habit needs a behaviour)`);
      }
    }
  }
  if (isRecord(b) && Array.isArray(b.crossEffects)) {
    b.crossEffects.forEach((raw, i) => {
      if (!isRecord(raw)) return;
      for (const end of ["from", "to"] as const) {
        if (typeof raw[end] !== "string" || !ids.has(raw[end] as string)) {
          const field = `behaviour.crossEffects[${i}].${end}`;
          if (!problems.some((p) => p.field === field))
            fail(field, `${field} must be a habit id, got ${show(raw[end])}`);
        }
      }
    });
  }
  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  const data = parsed.data;
  return {
    ok: true,
    persona: {
      format: 1,
      name: data.name,
      description: data.description,
      habits,
      metrics,
      planCapacityMinutes: data.planCapacityMinutes,
      behaviour: {
        ...data.behaviour,
        habits: data.behaviour.habits as Record<string, HabitBehaviour>,
      },
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
