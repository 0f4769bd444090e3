import { type HabitSpec, validateHabit } from "../../src/coach/index.js";

/** Builds a habit through validation, so fixtures get the same defaults real habits do. */
export function habit(input: Record<string, unknown>): HabitSpec {
  const r = validateHabit({ daysPerWeek: 7, ...input });
  if (!r.ok) throw new Error(`bad fixture ${JSON.stringify(input)}: ${JSON.stringify(r.problems)}`);
  return r.habit;
}

/** The habit set the parser tests speak to. */
export const HABITS: HabitSpec[] = [
  habit({ id: "run", name: "run", aliases: ["jog"], kind: "duration", target: 30, daysPerWeek: 5 }),
  habit({ id: "violin", name: "violin", kind: "duration", target: 20, daysPerWeek: 6 }),
  habit({ id: "meditate", name: "meditate", aliases: ["sit"], kind: "check" }),
  habit({ id: "pushups", name: "push-ups", kind: "count", unit: "reps", target: 60 }),
  habit({ id: "read", name: "read", kind: "count", unit: "pages", target: 20 }),
  habit({
    id: "spanish",
    name: "learn Spanish",
    aliases: ["español"],
    kind: "duration",
    target: 15,
  }),
  habit({ id: "stretch", name: "stretch", kind: "duration", target: 10 }),
  habit({ id: "strength", name: "strength", kind: "duration", target: 30, daysPerWeek: 3 }),
  habit({ id: "water", name: "water", kind: "count", unit: "glasses", target: 8 }),
  habit({ id: "dishes", name: "do the dishes", kind: "check" }),
  habit({ id: "journal", name: "journaling", kind: "check", daysPerWeek: 4 }),
];

/** A set where running is counted in km. */
export const KM_HABITS: HabitSpec[] = [
  habit({ id: "run", name: "run", kind: "count", unit: "km", target: 5, daysPerWeek: 3 }),
  habit({ id: "violin", name: "violin", kind: "duration", target: 20 }),
];
