// How the chat words and offers /intensity: the plan's line (which intensity the plan follows
// and until when) and the row of intensity buttons, used under the plan and by /intensity.
import type { InlineKeyboardButton } from "telegraf/types";
import { type CurrentIntensity, intensityOfPlan } from "../app/intensity.js";
import type { Intensity } from "../coach/index.js";
import type { Plan } from "../generated/prisma/client.js";
import { formatDate } from "./format.js";

const LABELS: Record<Intensity, string> = {
  easy: "🌿 Easy",
  normal: "Normal",
  push: "🔥 Push",
};

/** Button payloads: "in:<intensity>" (until changed); handled in commands/intensity.ts. */
export const INTENSITY_CALLBACK = /^in:(easy|normal|push)$/;

/** One row of intensity buttons. */
export function intensityButtons(): InlineKeyboardButton[] {
  return (["easy", "normal", "push"] as const).map((intensity) => ({
    text: LABELS[intensity],
    callback_data: `in:${intensity}`,
  }));
}

/** "easy until Fri 5 Dec", "push until you change it", "normal". */
export function describeIntensity(current: CurrentIntensity): string {
  if (current.intensity === "normal") return "normal";
  return current.until === null
    ? `${current.intensity} until you change it`
    : `${current.intensity} until ${formatDate(current.until)}`;
}

/** The plan message's line: the intensity the plan followed and until when. */
export function planIntensityLine(plan: Plan): string {
  return `Intensity: ${describeIntensity(intensityOfPlan(plan))} (/intensity to change).`;
}
