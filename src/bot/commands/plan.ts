// /plan: today's plan, generated once per day and stored; asking again shows the same plan with
// what is already done ticked, and a button per unfinished planned habit.
import { Composer, type Telegram, TelegramError } from "telegraf";
import { todayOf } from "../../app/coach-state.js";
import { recordPlanSent, todaysPlan } from "../../app/planning.js";
import type { PlanPushOutcome } from "../../app/scheduling/schedule.js";
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
): Promise<RenderedMessage & { planId: number | undefined; sentAt: Date | null }> {
  const { plan, items, original, state } = await todaysPlan(deps, person);
  if (!plan || state.habits.length === 0) {
    return {
      text: `You have no habits yet, so there's nothing to plan. Add one: ${HABIT_ADD_EXAMPLE}`,
      keyboard: [],
      planId: undefined,
      sentAt: null,
    };
  }
  return {
    ...renderPlan(plan, items, state, original),
    planId: plan.id,
    sentAt: plan.sentAt,
  };
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
 * and as which message it was sent. Skips a day that is no longer the person's today and a plan
 * already sent (a retry after the message went out). Telegram's refusals become outcomes the
 * schedule acts on: 403 (blocked the bot, deactivated) → unreachable; 429 → failed, retried
 * after retry_after (short ones were already retried by the Telegram client's policy); other
 * 4xx → rejected; anything else (5xx, network) → failed, retried.
 */
export function createPlanSender(
  telegram: Pick<Telegram, "sendMessage">,
  deps: BotDeps,
): (person: User, day: LocalDate) => Promise<PlanPushOutcome> {
  return async (person, day) => {
    const today = todayOf(person, deps.now());
    if (today !== day)
      return { kind: "not-needed", reason: `${day} has passed (today is ${today})` };
    const rendered = await planMessage(deps, person);
    if (rendered.planId === undefined) return { kind: "not-needed", reason: "no habits to plan" };
    if (rendered.sentAt !== null) return { kind: "not-needed", reason: "already sent" };
    let sent: Awaited<ReturnType<Telegram["sendMessage"]>>;
    try {
      sent = await telegram.sendMessage(
        Number(person.chatId),
        `Good morning! ${rendered.text}`,
        rendered.keyboard.length > 0
          ? { reply_markup: { inline_keyboard: rendered.keyboard } }
          : {},
      );
    } catch (error) {
      if (!(error instanceof TelegramError)) throw error;
      return pushRefusal(error);
    }
    await recordPlanSent(deps, rendered.planId, sent.message_id);
    return { kind: "sent" };
  };
}

function pushRefusal(error: TelegramError): PlanPushOutcome {
  const reason = `${error.code}: ${error.description}`;
  if (error.code === 403) return { kind: "unreachable", reason };
  if (error.code === 429) {
    const seconds = error.parameters?.retry_after;
    return {
      kind: "failed",
      reason,
      retryAfterMs: typeof seconds === "number" ? seconds * 1000 : undefined,
    };
  }
  if (error.code >= 400 && error.code < 500) return { kind: "rejected", reason };
  return { kind: "failed", reason };
}
