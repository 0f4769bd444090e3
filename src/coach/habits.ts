/**
 * Habits and metric goals: the shapes every other coach module works on, their validation
 * (every problem reported with its field and a sentence, never a throw) and the defaults
 * (plannable levels, actor groups).
 */
import { hasControlCharacters } from "./text.js";

export type HabitKind = "duration" | "count" | "check";

export interface HabitSpec {
  /** Stable id (database id as a string, or a persona's key). */
  id: string;
  name: string;
  aliases: string[];
  kind: HabitKind;
  /** "min" for duration, "" for check, "pages", "km", "reps", "times"… for count. */
  unit: string;
  /** Amount per session (minutes or count; 1 for check). */
  target: number;
  /** Sessions per week, 1..7. */
  daysPerWeek: number;
  /** Plannable amounts, strictly ascending, levels[0] === 0. */
  levels: number[];
  exclusiveGroup: string | null;
  /** 0-based actor group; a group holds at most `maxGroupSize` habits. */
  actorGroup: number;
  /** Minutes one session at target takes (duration habits: the amount itself). */
  capacityMinutes?: number;
  /** A group the user named; habits with the same name share actor groups. */
  actorGroupName?: string;
}

export interface MetricGoal {
  id: string;
  name: string;
  unit: string;
  target: number;
  tolerance: number;
  /** reach: get within tolerance of the target; keep: stay as close to the target as possible. */
  direction: "reach" | "keep";
}

export interface ValidationProblem {
  field: string;
  message: string;
}

export const HABIT_KINDS: readonly HabitKind[] = ["duration", "count", "check"];
export const DEFAULT_MAX_GROUP_SIZE = 5;
export const MAX_LEVELS = 20;
export const MAX_NAME_LENGTH = 40;
/** A duration session can't exceed a day. */
export const MAX_DURATION_MINUTES = 24 * 60;

const DEFAULT_UNIT: Record<HabitKind, string> = { duration: "min", count: "times", check: "" };

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function describe(x: unknown): string {
  if (typeof x === "string") return JSON.stringify(x.length > 30 ? `${x.slice(0, 30)}…` : x);
  if (typeof x === "number" || typeof x === "boolean" || x === null || x === undefined) {
    return String(x);
  }
  return Array.isArray(x) ? "a list" : "an object";
}

/** Checks a name or alias; returns a sentence describing the problem, or null. */
export function nameProblem(name: string, what: string): string | null {
  const trimmed = name.trim();
  if (trimmed.length === 0) return `${what} must not be empty`;
  if (trimmed.length > MAX_NAME_LENGTH) {
    return `${what} must be at most ${MAX_NAME_LENGTH} characters, got ${trimmed.length}`;
  }
  if (/[,;\n\r\t]/.test(trimmed))
    return `${what} must not contain commas, semicolons or line breaks`;
  if (hasControlCharacters(trimmed)) return `${what} must not contain control characters`;
  if (!/\p{L}/u.test(trimmed))
    return `${what} must contain at least one letter, got ${describe(name)}`;
  return null;
}

function roundTo(x: number, step: number): number {
  return Math.round(x / step) * step;
}

/**
 * Sensible plannable levels for a kind and target: check → [0, 1]; otherwise half, full and
 * one-and-a-half sessions (duration 30 → [0, 15, 30, 45]). Durations and whole-number counts are
 * rounded to whole units; fractional counts (km) to one decimal.
 */
export function defaultLevels(kind: HabitKind, target: number): number[] {
  if (kind === "check") return [0, 1];
  const whole = kind === "duration" || Number.isInteger(target);
  const step = whole ? 1 : 0.1;
  const raw = [target / 2, target, target * 1.5].map((x) => {
    const r = roundTo(x, step);
    return Math.max(step, Number(r.toFixed(whole ? 0 : 1)));
  });
  const levels = [0];
  for (const x of raw) if (x > levels[levels.length - 1]) levels.push(x);
  return levels;
}

function checkNumber(
  value: unknown,
  field: string,
  label: string,
  problems: ValidationProblem[],
): value is number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    problems.push({ field, message: `${label} must be a number, got ${describe(value)}` });
    return false;
  }
  return true;
}

/**
 * Validates untrusted input (from chat, a file or the database) as a habit. Missing optional
 * fields get defaults: aliases [], unit by kind, target 1 for check, levels from
 * `defaultLevels`, exclusiveGroup null, actorGroup 0. Never throws.
 */
export function validateHabit(
  input: unknown,
): { ok: true; habit: HabitSpec } | { ok: false; problems: ValidationProblem[] } {
  const problems: ValidationProblem[] = [];
  if (!isRecord(input)) {
    return {
      ok: false,
      problems: [{ field: "habit", message: `a habit must be an object, got ${describe(input)}` }],
    };
  }
  const id = input.id;
  if (typeof id !== "string" || id.length === 0) {
    problems.push({ field: "id", message: `id must be a non-empty string, got ${describe(id)}` });
  }
  let name = "";
  if (typeof input.name !== "string") {
    problems.push({ field: "name", message: `name must be text, got ${describe(input.name)}` });
  } else {
    name = input.name.trim();
    const p = nameProblem(input.name, "name");
    if (p) problems.push({ field: "name", message: p });
  }
  let aliases: string[] = [];
  if (input.aliases !== undefined) {
    if (!Array.isArray(input.aliases)) {
      problems.push({
        field: "aliases",
        message: `aliases must be a list of names, got ${describe(input.aliases)}`,
      });
    } else {
      input.aliases.forEach((a, i) => {
        if (typeof a !== "string") {
          problems.push({
            field: `aliases[${i}]`,
            message: `alias ${i + 1} must be text, got ${describe(a)}`,
          });
          return;
        }
        const p = nameProblem(a, `alias ${describe(a)}`);
        if (p) problems.push({ field: `aliases[${i}]`, message: p });
        else aliases.push(a.trim());
      });
      const seen = new Set([foldName(name)]);
      aliases = aliases.filter((a) => {
        const f = foldName(a);
        if (seen.has(f)) return false;
        seen.add(f);
        return true;
      });
    }
  }
  const kind = input.kind as HabitKind;
  const kindOk = typeof kind === "string" && HABIT_KINDS.includes(kind);
  if (!kindOk) {
    problems.push({
      field: "kind",
      message: `kind must be one of duration, count or check, got ${describe(input.kind)}`,
    });
  }
  let unit = kindOk ? DEFAULT_UNIT[kind] : "";
  if (input.unit !== undefined) {
    if (typeof input.unit !== "string" || input.unit.length > 20) {
      problems.push({
        field: "unit",
        message: `unit must be text of at most 20 characters, got ${describe(input.unit)}`,
      });
    } else if (hasControlCharacters(input.unit)) {
      problems.push({ field: "unit", message: "unit must not contain control characters" });
    } else if (kind === "duration" && input.unit !== "min") {
      problems.push({
        field: "unit",
        message: `a duration habit is measured in "min", got ${describe(input.unit)}`,
      });
    } else {
      unit = input.unit.trim();
    }
  }
  let target = 1;
  if (kind === "check") {
    if (input.target !== undefined && input.target !== 1) {
      problems.push({
        field: "target",
        message: `a check habit's target is 1 (done), got ${describe(input.target)}`,
      });
    }
  } else if (input.target === undefined) {
    problems.push({ field: "target", message: "target is required (amount per session)" });
  } else if (checkNumber(input.target, "target", "target", problems)) {
    target = input.target;
    if (target <= 0) {
      problems.push({ field: "target", message: `target must be more than 0, got ${target}` });
    } else if (kind === "duration" && target > MAX_DURATION_MINUTES) {
      problems.push({
        field: "target",
        message: `a session can't be longer than 24 h (1440 min), got ${target}`,
      });
    } else if (target > 1e6) {
      problems.push({ field: "target", message: `target is too large, got ${target}` });
    }
  }
  const dpw = input.daysPerWeek;
  if (checkNumber(dpw, "daysPerWeek", "days per week", problems)) {
    if (!Number.isInteger(dpw) || dpw < 1 || dpw > 7) {
      problems.push({ field: "daysPerWeek", message: `days per week must be 1–7, got ${dpw}` });
    }
  }
  let levels: number[] = [];
  if (input.levels === undefined) {
    if (kindOk && target > 0) levels = defaultLevels(kind, target);
  } else if (!Array.isArray(input.levels)) {
    problems.push({
      field: "levels",
      message: `levels must be a list of amounts, got ${describe(input.levels)}`,
    });
  } else {
    levels = input.levels as number[];
    const bad = levels.findIndex((x) => typeof x !== "number" || !Number.isFinite(x) || x < 0);
    if (bad >= 0) {
      problems.push({
        field: `levels[${bad}]`,
        message: `level ${bad + 1} must be a number ≥ 0, got ${describe(levels[bad])}`,
      });
    } else if (levels.length < 2 || levels.length > MAX_LEVELS) {
      problems.push({
        field: "levels",
        message: `levels must hold 2–${MAX_LEVELS} amounts, got ${levels.length}`,
      });
    } else if (levels[0] !== 0) {
      problems.push({ field: "levels", message: `the first level must be 0, got ${levels[0]}` });
    } else {
      const i = levels.findIndex((x, k) => k > 0 && x <= levels[k - 1]);
      if (i > 0) {
        problems.push({
          field: "levels",
          message: `levels must be strictly ascending, but ${levels[i]} follows ${levels[i - 1]}`,
        });
      } else if (kind === "check" && (levels.length !== 2 || levels[1] !== 1)) {
        problems.push({ field: "levels", message: "a check habit's levels are [0, 1]" });
      } else if (kind === "duration" && levels[levels.length - 1] > MAX_DURATION_MINUTES) {
        problems.push({ field: "levels", message: "a level can't be longer than 24 h (1440 min)" });
      }
    }
    levels = [...levels];
  }
  let exclusiveGroup: string | null = null;
  if (input.exclusiveGroup !== undefined && input.exclusiveGroup !== null) {
    if (typeof input.exclusiveGroup !== "string" || input.exclusiveGroup.trim() === "") {
      problems.push({
        field: "exclusiveGroup",
        message: `exclusive group must be a non-empty name or null, got ${describe(input.exclusiveGroup)}`,
      });
    } else if (hasControlCharacters(input.exclusiveGroup)) {
      problems.push({
        field: "exclusiveGroup",
        message: "exclusive group must not contain control characters",
      });
    } else {
      exclusiveGroup = input.exclusiveGroup.trim();
    }
  }
  let actorGroup = 0;
  if (input.actorGroup !== undefined) {
    const g = input.actorGroup;
    if (typeof g !== "number" || !Number.isInteger(g) || g < 0 || g > 1000) {
      problems.push({
        field: "actorGroup",
        message: `actor group must be a whole number ≥ 0, got ${describe(g)}`,
      });
    } else {
      actorGroup = g;
    }
  }
  let capacityMinutes: number | undefined;
  if (input.capacityMinutes !== undefined) {
    const c = input.capacityMinutes;
    if (typeof c !== "number" || !Number.isFinite(c) || c < 0 || c > MAX_DURATION_MINUTES) {
      problems.push({
        field: "capacityMinutes",
        message: `minutes per session must be 0–1440, got ${describe(c)}`,
      });
    } else {
      capacityMinutes = c;
    }
  }
  let actorGroupName: string | undefined;
  if (input.actorGroupName !== undefined) {
    if (typeof input.actorGroupName !== "string" || input.actorGroupName.trim() === "") {
      problems.push({
        field: "actorGroupName",
        message: `actor group name must be a non-empty name, got ${describe(input.actorGroupName)}`,
      });
    } else {
      actorGroupName = input.actorGroupName.trim();
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  const habit: HabitSpec = {
    id: id as string,
    name,
    aliases,
    kind,
    unit,
    target,
    daysPerWeek: dpw as number,
    levels,
    exclusiveGroup,
    actorGroup,
  };
  if (capacityMinutes !== undefined) habit.capacityMinutes = capacityMinutes;
  if (actorGroupName !== undefined) habit.actorGroupName = actorGroupName;
  return { ok: true, habit };
}

/** Case-, accent- and whitespace-insensitive form of a name, used for uniqueness and parsing. */
export function foldName(name: string): string {
  return name
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

/**
 * Checks a whole habit set: unique ids, and no name or alias shared by two habits (so a report
 * can always say which habit it means). Problems name the habit by position.
 */
export function validateHabitSet(habits: HabitSpec[]): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const ids = new Map<string, number>();
  const names = new Map<string, number>();
  habits.forEach((h, i) => {
    const prev = ids.get(h.id);
    if (prev !== undefined) {
      problems.push({
        field: `habits[${i}].id`,
        message: `habit id "${h.id}" is used twice (habits ${prev + 1} and ${i + 1})`,
      });
    } else ids.set(h.id, i);
    for (const n of [h.name, ...h.aliases]) {
      const f = foldName(n);
      const other = names.get(f);
      if (other !== undefined && other !== i) {
        problems.push({
          field: `habits[${i}].name`,
          message: `"${n}" is already the name or alias of "${habits[other].name}"`,
        });
      } else names.set(f, i);
    }
  });
  return problems;
}

export function validateMetricGoal(
  input: unknown,
): { ok: true; metric: MetricGoal } | { ok: false; problems: ValidationProblem[] } {
  if (!isRecord(input)) {
    return {
      ok: false,
      problems: [
        { field: "metric", message: `a metric must be an object, got ${describe(input)}` },
      ],
    };
  }
  const problems: ValidationProblem[] = [];
  if (typeof input.id !== "string" || input.id === "") {
    problems.push({
      field: "id",
      message: `id must be a non-empty string, got ${describe(input.id)}`,
    });
  }
  if (typeof input.name !== "string") {
    problems.push({ field: "name", message: `name must be text, got ${describe(input.name)}` });
  } else {
    const p = nameProblem(input.name, "name");
    if (p) problems.push({ field: "name", message: p });
  }
  const unit = input.unit ?? "";
  if (typeof unit !== "string" || unit.length > 20) {
    problems.push({ field: "unit", message: `unit must be text of at most 20 characters` });
  } else if (hasControlCharacters(unit)) {
    problems.push({ field: "unit", message: "unit must not contain control characters" });
  }
  checkNumber(input.target, "target", "target", problems);
  if (checkNumber(input.tolerance, "tolerance", "tolerance", problems) && input.tolerance <= 0) {
    problems.push({
      field: "tolerance",
      message: `tolerance must be more than 0, got ${input.tolerance}`,
    });
  }
  if (input.direction !== "reach" && input.direction !== "keep") {
    problems.push({
      field: "direction",
      message: `direction must be "reach" or "keep", got ${describe(input.direction)}`,
    });
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    metric: {
      id: input.id as string,
      name: (input.name as string).trim(),
      unit: unit as string,
      target: input.target as number,
      tolerance: input.tolerance as number,
      direction: input.direction as "reach" | "keep",
    },
  };
}

/**
 * Assigns actor groups in a stable way: habits are taken in the given order (the user's sort
 * order); habits without a user-named group fill "auto" groups of `maxGroupSize` in order, and
 * habits sharing an `actorGroupName` fill their own groups. Group numbers are given in order of
 * first use, so appending a habit never moves an existing one. Returns new habit objects.
 */
export function assignActorGroups(
  habits: HabitSpec[],
  maxGroupSize = DEFAULT_MAX_GROUP_SIZE,
): HabitSpec[] {
  if (!Number.isInteger(maxGroupSize) || maxGroupSize < 1) {
    throw new RangeError(`maxGroupSize must be a whole number ≥ 1, got ${maxGroupSize}`);
  }
  const open = new Map<string, { group: number; size: number }>();
  let groupCount = 0;
  return habits.map((h) => {
    const key = h.actorGroupName === undefined ? "\u0000auto" : `name:${h.actorGroupName}`;
    let slot = open.get(key);
    if (slot === undefined || slot.size >= maxGroupSize) {
      slot = { group: groupCount++, size: 0 };
      open.set(key, slot);
    }
    slot.size++;
    return { ...h, actorGroup: slot.group };
  });
}
