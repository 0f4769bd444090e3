// /intensity easy|normal|push [N days]: how hard the coming days should be. Alone it shows the
// current setting with a button per intensity; the same buttons sit under the plan. A PPO coach
// (or the heuristic) scales its plan by it, a UDRL coach takes it as its command (src/app/intensity.ts).
import { Composer } from "telegraf";
import { todayOf } from "../../app/coach-state.js";
import {
  intensityOn,
  MAX_INTENSITY_DAYS,
  type SetIntensityOutcome,
  setIntensity,
} from "../../app/intensity.js";
import { daysBetween, type Intensity, type LocalDate } from "../../coach/index.js";
import type { CoachContext } from "../context.js";
import { describeIntensity, INTENSITY_CALLBACK, intensityButtons } from "../intensity-message.js";
import { commandArgs, requirePerson } from "../person-guard.js";

const MEANING: Record<Intensity, string> = {
  easy: "lighter plans: fewer and smaller items",
  normal: "the plans your coach thinks best",
  push: "harder plans: extra items for the habits furthest behind",
};

export const INTENSITY_USAGE =
  `Set how hard the coming days should be: /intensity easy, /intensity normal or /intensity push, ` +
  `optionally for the next N days (1–${MAX_INTENSITY_DAYS}), e.g. /intensity easy 5.`;

function outcomeText(outcome: SetIntensityOutcome): string {
  if (outcome.kind === "not-understood") {
    return outcome.problem === "days"
      ? `The number of days must be a whole number from 1 to ${MAX_INTENSITY_DAYS}. ${INTENSITY_USAGE}`
      : INTENSITY_USAGE;
  }
  const { intensity, until, today, todaysPlanMade } = outcome;
  const how = describeIntensity({ intensity, until });
  const days = until === null ? "" : ` (${countDays(today, until)}, today included)`;
  const when = todaysPlanMade ? "from tomorrow's plan" : "from today's plan";
  return `Intensity: ${how}${days} — ${MEANING[intensity]}, ${when}.`;
}

function countDays(today: LocalDate, until: LocalDate): string {
  const n = daysBetween(today, until) + 1;
  return n === 1 ? "1 day" : `${n} days`;
}

export const intensityCommand = new Composer<CoachContext>();

intensityCommand.command("intensity", async (ctx) => {
  const person = await requirePerson(ctx);
  if (!person) return;
  const args = commandArgs(ctx);
  if (args === "") {
    const current = intensityOn(person, todayOf(person, ctx.deps.now()));
    await ctx.reply(
      `Intensity: ${describeIntensity(current)} — ${MEANING[current.intensity]}.\n${INTENSITY_USAGE}`,
      { reply_markup: { inline_keyboard: [intensityButtons()] } },
    );
    return;
  }
  await ctx.reply(outcomeText(await setIntensity(ctx.deps, person, args)));
});

intensityCommand.action(INTENSITY_CALLBACK, async (ctx) => {
  const person = await requirePerson(ctx);
  if (!person) return;
  const intensity = (ctx.match as RegExpExecArray)[1];
  const text = outcomeText(await setIntensity(ctx.deps, person, intensity));
  await ctx.answerCbQuery(text.slice(0, 200));
  await ctx.reply(text);
});
