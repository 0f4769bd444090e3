// The /settings lines for steering the plan: daily capacity ("/settings capacity 60") and the
// evening check-in ("/settings checkin 21:00", "checkin off"). Called from settings.ts.
import { changePlanSettings } from "../../app/plan-steering.js";
import { MAX_DURATION_MINUTES } from "../../coach/habits.js";
import type { User } from "../../generated/prisma/client.js";
import type { CoachContext } from "../context.js";
import { parseTimeOfDay } from "../timezone-input.js";

export const MIN_CAPACITY_MINUTES = 10;

export const PLAN_SETTINGS_USAGE = [
  "  /settings capacity 60       (about how many minutes a day your plan may take; “off”: no limit)",
  "  /settings checkin 21:00     (an evening message with what is still open; “off” stops it)",
];

const OFF = /^(off|none|no|stop|unlimited|no limit)$/i;

/** "60", "60 min", "1h", "1.5 hours", "1h30" → minutes; undefined for anything else. */
export function parseCapacity(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  const hm = /^(\d{1,2})\s*h\s*(\d{1,2})\s*(?:m|min)?$/.exec(t);
  if (hm) return Number(hm[1]) * 60 + Number(hm[2]);
  const m =
    /^(\d+(?:[.,]\d+)?)\s*(h|hrs?|hours?|m|mins?|minutes?)?(?:\s+a\s+day|\s*\/\s*day)?$/.exec(t);
  if (!m) return undefined;
  const value = Number(m[1].replace(",", "."));
  const minutes = m[2]?.startsWith("h") ? value * 60 : value;
  return Number.isFinite(minutes) ? Math.round(minutes) : undefined;
}

/** The settings lines: capacity and evening check-in. */
export function planSettingsLines(person: User): string[] {
  return [
    `• Capacity: ${person.capacityMinutes === null ? "no limit" : `about ${person.capacityMinutes} min a day (time habits are planned within it)`}`,
    `• Evening check-in: ${person.checkInTime ?? "off"}`,
  ];
}

/** /settings capacity … */
export async function capacitySetting(
  ctx: CoachContext,
  person: User,
  value: string,
): Promise<void> {
  if (OFF.test(value.trim())) {
    await changePlanSettings(ctx.deps, person, { capacityMinutes: null });
    await ctx.reply("Capacity limit removed: plans from tomorrow on are not limited in minutes.");
    return;
  }
  const minutes = parseCapacity(value);
  if (minutes === undefined || minutes < MIN_CAPACITY_MINUTES || minutes > MAX_DURATION_MINUTES) {
    await ctx.reply(
      `How many minutes a day can your plan take? A number from ${MIN_CAPACITY_MINUTES} to ${MAX_DURATION_MINUTES}, e.g. /settings capacity 60 (or 1.5h; “off” for no limit).`,
    );
    return;
  }
  await changePlanSettings(ctx.deps, person, { capacityMinutes: minutes });
  await ctx.reply(
    `Capacity set: about ${minutes} min a day. From tomorrow's plan on, time habits are planned to fit in it (the ones furthest behind first); today's plan stays as it is.`,
  );
}

/** /settings checkin … */
export async function checkInSetting(
  ctx: CoachContext,
  person: User,
  value: string,
): Promise<void> {
  if (OFF.test(value.trim())) {
    await changePlanSettings(ctx.deps, person, { checkInTime: null });
    await ctx.reply("Evening check-in off.");
    return;
  }
  const time = parseTimeOfDay(value);
  if (!time) {
    await ctx.reply(
      `“${value.slice(0, 40)}” is not a time of day. Use e.g. /settings checkin 21:00 or /settings checkin 9pm (“off” stops it).`,
    );
    return;
  }
  await changePlanSettings(ctx.deps, person, { checkInTime: time });
  await ctx.reply(
    `Evening check-in at ${time} (${person.timezone}): if anything in the day's plan is still open then, I'll list it with buttons. /settings checkin off stops it.`,
  );
}
