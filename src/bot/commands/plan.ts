// /plan: today's plan, generated once per day and stored; asking again shows the same plan with
// what is already done ticked, and a button per unfinished planned habit.
import { Composer, type Telegram } from "telegraf";
import { todayOf } from "../../app/coach-state.js";
import { recordPlanSent, todaysPlan } from "../../app/planning.js";
import type { LocalDate } from "../../coach/index.js";
import type { User } from "../../generated/prisma/client.js";
import type { BotDeps, CoachContext } from "../context.js";
import { HABIT_ADD_EXAMPLE } from "../habit-definition.js";
import { requirePerson } from "../person-guard.js";
import { type RenderedMessage, renderPlan } from "../plan-message.js";

/** Today's plan as a message (also used by the morning push). */
export async function planMessage(
  deps: BotDeps,
  person: User,
): Promise<RenderedMessage & { planId: number | undefined }> {
  const { plan, items, state } = await todaysPlan(deps, person);
  if (!plan || state.habits.length === 0) {
    return {
      text: `You have no habits yet, so there's nothing to plan. Add one: ${HABIT_ADD_EXAMPLE}`,
      keyboard: [],
      planId: undefined,
    };
  }
  return { ...renderPlan(plan, items, state), planId: plan.id };
}

/** /plan. */
export const planCommand = new Composer<CoachContext>();
planCommand.command("plan", async (ctx) => {
  const person = await requirePerson(ctx);
  if (!person) return;
  const rendered = await planMessage(ctx.deps, person);
  await ctx.reply(
    rendered.text,
    rendered.keyboard.length > 0 ? { reply_markup: { inline_keyboard: rendered.keyboard } } : {},
  );
});

/**
 * The morning push: sends the person today's plan (generating it if needed) and records when
 * and as which message it was sent. Skips a day that is no longer the person's today.
 */
export function createPlanSender(
  telegram: Pick<Telegram, "sendMessage">,
  deps: BotDeps,
): (person: User, day: LocalDate) => Promise<void> {
  return async (person, day) => {
    const today = todayOf(person, deps.now());
    if (today !== day) {
      deps.log.info(
        { userId: person.id, day, today },
        "plan push for a day that has passed; skipped",
      );
      return;
    }
    const rendered = await planMessage(deps, person);
    if (rendered.planId === undefined) return;
    const sent = await telegram.sendMessage(
      Number(person.chatId),
      `Good morning! ${rendered.text}`,
      rendered.keyboard.length > 0 ? { reply_markup: { inline_keyboard: rendered.keyboard } } : {},
    );
    await recordPlanSent(deps, rendered.planId, sent.message_id);
  };
}
