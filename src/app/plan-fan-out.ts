/**
 * The morning fan-out as /status predicts it: every person's plan is sent at their plan time in
 * their own zone, so the people whose plan time falls in the same minute (UTC) are sent to
 * together, paced by the outgoing budget's global rate (src/app/send-budget.ts). The busiest
 * minute of today decides how long the longest fan-out lasts.
 */
import { dayOf, instantOf } from "../coach/days.js";
import { planTimeGroups } from "../db/send-budget.js";
import type { AppDeps } from "./deps.js";

export interface PlanFanOut {
  /** people with a plan time */
  people: number;
  /** the minute (UTC) of today with the most plan times, or null when nobody has one */
  busiest: { at: Date; people: number } | null;
  /** messages per second the plans go out at */
  perSecond: number;
  /** how long sending the busiest minute's plans takes, in seconds */
  busiestSeconds: number;
}

export async function planFanOut(
  deps: Pick<AppDeps, "db" | "now" | "config">,
): Promise<PlanFanOut> {
  const now = deps.now();
  const perMinute = new Map<number, number>();
  let people = 0;
  for (const group of await planTimeGroups(deps.db)) {
    const m = /^(\d{1,2}):(\d{2})$/.exec(group.planTime);
    if (m === null) continue;
    const day = dayOf(now, group.timezone, 0);
    const at = instantOf(day, Number(m[1]), Number(m[2]), group.timezone).getTime();
    perMinute.set(at, (perMinute.get(at) ?? 0) + group.people);
    people += group.people;
  }
  let busiest: PlanFanOut["busiest"] = null;
  for (const [at, count] of perMinute) {
    if (busiest === null || count > busiest.people) busiest = { at: new Date(at), people: count };
  }
  const perSecond = deps.config.telegramSendRates.globalPerSecond;
  return { people, busiest, perSecond, busiestSeconds: (busiest?.people ?? 0) / perSecond };
}
