// Questions the bot asked and waits for a typed answer to: "How many days a week for
// meditate?" is answered by "daily" as well as by a button or a reply. One open question per
// person, stored with the person (so it survives restarts and works on every instance), closed
// when answered, replaced by the next question, and forgotten after a day.
import { type HabitKind, isLocalDate } from "../coach/index.js";
import { setOpenQuestion } from "../db/users.js";
import type { User } from "../generated/prisma/client.js";
import type { AppDeps } from "./deps.js";

/** A habit being added, as far as the person has told it. */
export interface HabitSketch {
  name: string;
  kind?: HabitKind;
  unit?: string;
  target?: number;
}

export type OpenQuestion =
  /** "When should I send your daily plan?" */
  | { kind: "plan-time" }
  /** "Which of the country's time zones is yours?" */
  | { kind: "timezone" }
  /** "How do you measure <habit>?" (minutes, an amount, done or not) */
  | { kind: "habit-kind"; habit: HabitSketch }
  /** "How long is one session of <habit>?" (minutes) or "How much per session?" (an amount) */
  | { kind: "habit-amount"; habit: HabitSketch }
  /** "How many days a week for <habit>?" */
  | { kind: "habit-days"; habit: HabitSketch }
  /** "Store <amount> of <habit>? That is far more than your usual …" */
  | { kind: "confirm-report"; text: string; updateId: number; day: string }
  /** "Which entry shall I undo?" — the entries listed, newest first (ids as text) */
  | { kind: "undo-pick"; entries: { id: string; habit: string }[] };

/** An open question is forgotten after this long. */
export const OPEN_QUESTION_TTL_MS = 24 * 3_600_000;

/** Remembers that the bot asked `question` (replacing any earlier one). */
export async function askQuestion(
  deps: Pick<AppDeps, "db" | "now">,
  person: User,
  question: OpenQuestion,
): Promise<void> {
  await setOpenQuestion(deps.db, person.id, { ...question }, deps.now());
}

/** The question the person has yet to answer, or undefined (none, or asked over a day ago). */
export function openQuestionOf(person: User, now: Date): OpenQuestion | undefined {
  const question = person.openQuestion as OpenQuestion | null;
  if (!isOpenQuestion(question)) return undefined;
  const at = person.openQuestionAt?.getTime() ?? 0;
  return now.getTime() - at > OPEN_QUESTION_TTL_MS ? undefined : question;
}

/** A stored question of a known shape (anything else, e.g. from an older version, is none). */
function isOpenQuestion(q: unknown): q is OpenQuestion {
  if (q === null || typeof q !== "object") return false;
  const r = q as Record<string, unknown>;
  switch (r.kind) {
    case "plan-time":
    case "timezone":
      return true;
    case "habit-kind":
    case "habit-amount":
    case "habit-days": {
      const habit = r.habit as Record<string, unknown> | null;
      return typeof habit === "object" && habit !== null && typeof habit.name === "string";
    }
    case "confirm-report":
      return (
        typeof r.text === "string" &&
        Number.isSafeInteger(r.updateId) &&
        typeof r.day === "string" &&
        isLocalDate(r.day)
      );
    case "undo-pick":
      return (
        Array.isArray(r.entries) &&
        r.entries.every(
          (e: { id?: unknown; habit?: unknown }) =>
            typeof e?.id === "string" && /^\d{1,19}$/.test(e.id) && typeof e.habit === "string",
        )
      );
    default:
      return false;
  }
}

/** The question was answered, or the person moved on. */
export async function closeQuestion(
  deps: Pick<AppDeps, "db" | "now">,
  person: User,
): Promise<void> {
  if (person.openQuestion === null) return;
  await setOpenQuestion(deps.db, person.id, null, deps.now());
}
