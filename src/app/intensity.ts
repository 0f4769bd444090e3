// /intensity: how hard the coming days should be. "easy", "normal" or "push", for the next N
// days (N = 1–28, counted from today) or until changed. The planner reads the person's current
// intensity each day (planning.ts): a PPO coach (or the heuristic) scales its plan through the
// coach core's applyIntensity; a UDRL coach takes it as its command (policy-planner.ts).
import { addDays, INTENSITIES, type Intensity, type LocalDate } from "../coach/index.js";
import { fromDbDate } from "../db/dates.js";
import { storeIntensity } from "../db/intensity.js";
import { findPlan } from "../db/plans.js";
import type { Plan, User } from "../generated/prisma/client.js";
import { todayOf } from "./coach-state.js";
import type { AppDeps } from "./deps.js";

/** The longest "next N days": UDRL trains on four-week stretches (UDRL_HABIT_EPISODE_DAYS). */
export const MAX_INTENSITY_DAYS = 28;

export interface CurrentIntensity {
  intensity: Intensity;
  /** Last day it holds; null = until changed (always null for "normal"). */
  until: LocalDate | null;
}

export function isIntensity(text: string): text is Intensity {
  return (INTENSITIES as readonly string[]).includes(text);
}

/** The person's intensity on `today`: a setting whose last day has passed is back to normal. */
export function intensityOn(person: User, today: LocalDate): CurrentIntensity {
  const stored = isIntensity(person.intensity) ? person.intensity : "normal";
  const until = person.intensityUntil ? fromDbDate(person.intensityUntil) : null;
  if (stored === "normal" || (until !== null && until < today)) {
    return { intensity: "normal", until: null };
  }
  return { intensity: stored, until };
}

/** The intensity a stored plan followed and its last day (normal for plans made before). */
export function intensityOfPlan(
  plan: Pick<Plan, "intensity" | "intensityUntil">,
): CurrentIntensity {
  const intensity =
    plan.intensity !== null && isIntensity(plan.intensity) ? plan.intensity : "normal";
  return { intensity, until: plan.intensityUntil ? fromDbDate(plan.intensityUntil) : null };
}

export type SetIntensityOutcome =
  | {
      kind: "set";
      intensity: Intensity;
      until: LocalDate | null;
      today: LocalDate;
      /** today's plan was already made (it stays; the setting applies from the next plan) */
      todaysPlanMade: boolean;
    }
  | { kind: "not-understood"; problem: "intensity" | "days" };

/**
 * Sets the intensity from what the person typed after /intensity ("easy", "push 5",
 * "normal"): the days count from today (today is day 1); "normal" never expires.
 */
export async function setIntensity(
  deps: Pick<AppDeps, "db" | "now">,
  person: User,
  words: string,
): Promise<SetIntensityOutcome> {
  const [name, days, ...rest] = words.trim().toLowerCase().split(/\s+/);
  if (!isIntensity(name ?? "")) return { kind: "not-understood", problem: "intensity" };
  const intensity = name as Intensity;
  let count: number | null = null;
  if (days !== undefined) {
    const match = /^(\d{1,3})(?:d|days?)?$/.exec(days);
    const n = match ? Number(match[1]) : Number.NaN;
    if (rest.length > 0 || !(n >= 1 && n <= MAX_INTENSITY_DAYS)) {
      return { kind: "not-understood", problem: "days" };
    }
    count = n;
  }
  const today = todayOf(person, deps.now());
  const until = intensity === "normal" || count === null ? null : addDays(today, count - 1);
  await storeIntensity(deps.db, person.id, intensity, until);
  const todaysPlanMade = (await findPlan(deps.db, person.id, today)) !== null;
  return { kind: "set", intensity, until, today, todaysPlanMade };
}
