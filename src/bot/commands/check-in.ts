// The evening check-in message (optional, /settings checkin 21:00): what is still open in the
// day's plan, each with its log, "Not today" and "Change" buttons. Scheduled by
// src/app/scheduling/check-in.ts; this module words it and reads Telegram's answer.
import { type Telegram, TelegramError } from "telegraf";
import { todayOf } from "../../app/coach-state.js";
import { todaysPlan } from "../../app/planning.js";
import type { CheckInOutcome } from "../../app/scheduling/check-in.js";
import type { LocalDate } from "../../coach/index.js";
import type { User } from "../../generated/prisma/client.js";
import type { BotDeps } from "../context.js";
import { formatAmount } from "../format.js";
import { planButtons } from "../plan-message.js";

export const CHECK_IN_HEAD = "Evening check-in";

export function createCheckInSender(
  telegram: Pick<Telegram, "sendMessage">,
  deps: BotDeps,
): (person: User, day: LocalDate) => Promise<CheckInOutcome> {
  return async (person, day) => {
    const today = todayOf(person, deps.now());
    if (today !== day) return { kind: "not-needed", reason: `${day} has passed` };
    const { plan, items, state } = await todaysPlan(deps, person);
    if (!plan) return { kind: "not-needed", reason: "no habits to plan" };
    const byId = new Map(state.habits.map((h) => [h.id, h]));
    const open: string[] = [];
    for (const item of items) {
      const habit = byId.get(item.habitId);
      const done = state.doneToday[String(item.habitId)] ?? 0;
      if (!habit || item.amount <= 0 || done >= item.amount) continue;
      const amount = habit.kind === "check" ? "" : ` — ${formatAmount(habit, item.amount)}`;
      const progress =
        done > 0 && habit.kind !== "check" ? ` (${formatAmount(habit, done)} so far)` : "";
      open.push(`▫️ ${habit.name}${amount}${progress}`);
    }
    if (open.length === 0) return { kind: "not-needed", reason: "nothing open" };
    const text = [
      `${CHECK_IN_HEAD} — still open from today's plan:`,
      ...open,
      "",
      "Tap what you did, or “Not today” for what you'll leave. (/settings checkin off stops these messages.)",
    ].join("\n");
    const keyboard = planButtons(plan, items, state.habits, state.doneToday, { steering: true });
    try {
      await telegram.sendMessage(Number(person.chatId), text, {
        reply_markup: { inline_keyboard: keyboard },
      });
    } catch (error) {
      if (!(error instanceof TelegramError)) throw error;
      const reason = `${error.code}: ${error.description}`;
      return error.code === 403 ? { kind: "unreachable", reason } : { kind: "failed", reason };
    }
    return { kind: "sent", open: open.length };
  };
}
