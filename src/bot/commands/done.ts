// Logging: "/done …" and plain messages are read by the coach core's parseReport; the reply
// says exactly what was stored, for which day, and the EMA now. "/done" alone and the plan's
// buttons log planned habits at the planned amount. Entries carry idempotency keys derived from
// the update (or plan button), so a re-delivered update never counts twice.
import type { Telegraf } from "telegraf";
import { message } from "telegraf/filters";
import { loadCoachState } from "../../app/coach-state.js";
import { todaysPlan } from "../../app/planning.js";
import {
  DEFAULT_BACKFILL_DAYS,
  daysBetween,
  type MatchKind,
  parseReport,
} from "../../coach/index.js";
import type { Database } from "../../db/client.js";
import { fromDbDate, toDbDate } from "../../db/dates.js";
import { insertEntries, type NewEntry } from "../../db/entries.js";
import { planItemsOf } from "../../db/plans.js";
import type { EntrySource, Habit, User } from "../../generated/prisma/client.js";
import { callbackData, decodeCallback } from "../callback-data.js";
import type { CoachContext } from "../context.js";
import { formatAmount, formatDate, formatDay, formatEma, reportExample } from "../format.js";
import { HABIT_ADD_EXAMPLE } from "../habit-definition.js";
import { requirePerson } from "../person-guard.js";
import { planButtons, renderPlan } from "../plan-message.js";
import { editQuietly } from "../telegram-edits.js";

interface StoredItem {
  habit: Habit;
  amount: number;
  day: string;
  /** what the person typed for the habit, when it was not its exact name or alias */
  guessedFrom?: string;
}

/** Matches the person should see spelled out: “wlk” → walk, “vio” → violin. */
const GUESSES: ReadonlySet<MatchKind> = new Set(["prefix", "words", "misspelling"]);

/** The confirmation for stored items: amount, day and the EMA now, per habit. */
export async function confirmationText(
  db: Database,
  person: User,
  now: Date,
  stored: StoredItem[],
  duplicate: boolean,
): Promise<string> {
  const state = await loadCoachState(db, person, now);
  const lines = stored.map(({ habit, amount, day, guessedFrom }) => {
    const when = formatDay(day, state.today);
    const date = when === "today" || when === "yesterday" ? ` (${formatDate(day)})` : "";
    const amountText = habit.kind === "check" ? "done" : formatAmount(habit, amount);
    const guess =
      guessedFrom === undefined ? "" : ` (I read “${guessedFrom.slice(0, 40)}” as ${habit.name})`;
    return `✓ ${habit.name}: ${amountText}, ${when}${date} → EMA ${formatEma(state.emasToday[String(habit.id)])}${guess}`;
  });
  const head = duplicate ? "Already stored (this message was delivered twice):" : "Stored:";
  return `${head}\n${lines.join("\n")}`;
}

/** Why nothing was stored, every problem named, then how to write a report. */
export function reportProblemsText(problems: string[], habits: Habit[]): string {
  const listed = problems.some((p) => p.includes("Your habits are:"));
  const names = habits.map((h) => h.name).join(", ");
  const footer =
    habits.length === 0
      ? ""
      : `\n\nWrite it like “${reportExample(habits)}” (add “yesterday” or a date for another day).${listed ? "" : ` Your habits: ${names}.`}`;
  return `I didn't store anything:\n${problems.map((p) => `• ${p}`).join("\n")}${footer}`;
}

async function storeTextReport(ctx: CoachContext, person: User, text: string, source: EntrySource) {
  const { db, now } = ctx.deps;
  const state = await loadCoachState(db, person, now());
  if (state.habits.length === 0) {
    await ctx.reply(`You have no habits yet. Add one first, e.g. ${HABIT_ADD_EXAMPLE}`);
    return;
  }
  const parsed = parseReport(text, state.specs, {
    today: state.today,
    backfillDays: DEFAULT_BACKFILL_DAYS,
  });
  if (!parsed.ok) {
    await ctx.reply(reportProblemsText(parsed.problems, state.habits));
    return;
  }
  const byId = new Map(state.habits.map((h) => [String(h.id), h]));
  const updateId = ctx.update.update_id;
  const entries: NewEntry[] = parsed.items.map((item, position) => ({
    habitId: Number(item.habitId),
    day: item.day,
    amount: item.amount,
    source,
    idempotencyKey: `tg:${updateId}:${position}`,
  }));
  const { inserted } = await insertEntries(db, person.id, entries);
  ctx.log.info({ items: entries.length, inserted }, "report stored");
  const stored: StoredItem[] = parsed.items.map((item) => ({
    habit: byId.get(item.habitId)!,
    amount: item.amount,
    day: item.day,
    ...(GUESSES.has(item.match) ? { guessedFrom: item.heard } : {}),
  }));
  await ctx.reply(await confirmationText(db, person, now(), stored, inserted === 0));
}

async function showUnfinished(ctx: CoachContext, person: User): Promise<void> {
  const { plan, items, state } = await todaysPlan(ctx.deps, person);
  if (!plan || state.habits.length === 0) {
    await ctx.reply(`You have no habits yet. Add one first, e.g. ${HABIT_ADD_EXAMPLE}`);
    return;
  }
  const buttons = planButtons(plan, items, state.habits, state.doneToday);
  if (buttons.length === 0) {
    await ctx.reply(
      `Nothing left from today's plan. 🎉 Log anything extra by writing it, e.g. “${reportExample(state.habits)}”.`,
    );
    return;
  }
  await ctx.reply(
    `What did you do? Tap to log the planned amount, or write it (e.g. “${reportExample(state.habits)}”).`,
    { reply_markup: { inline_keyboard: buttons } },
  );
}

/** The plan button: verified against the stored plan and the person who pressed it. */
async function logPlannedHabit(ctx: CoachContext, data: string): Promise<void> {
  const person = await requirePerson(ctx);
  if (!person) return;
  const action = decodeCallback(data);
  if (action?.kind !== "plan-log") {
    await ctx.answerCbQuery("This button is no longer valid.");
    return;
  }
  const { db, now } = ctx.deps;
  const plan = await db.prisma.plan.findUnique({ where: { id: action.planId } });
  const item = plan ? planItemsOf(plan).find((i) => i.habitId === action.habitId) : undefined;
  if (!plan || plan.userId !== person.id || !item || item.amount <= 0) {
    ctx.log.warn({ data }, "plan button does not match a stored plan of this person");
    await ctx.answerCbQuery("This button doesn't match your plan — send /plan for a fresh one.");
    return;
  }
  const habit = await db.prisma.habit.findUnique({ where: { id: action.habitId } });
  if (!habit || habit.userId !== person.id || habit.archivedAt) {
    await ctx.answerCbQuery("That habit is archived — restore it with /habits restore.");
    return;
  }
  const state = await loadCoachState(db, person, now());
  const day = fromDbDate(plan.day);
  const age = daysBetween(day, state.today);
  if (age < 0 || age > DEFAULT_BACKFILL_DAYS) {
    await ctx.answerCbQuery(`That plan is from ${formatDate(day)}, too long ago to log from.`);
    return;
  }
  const dayEntries = await db.prisma.habitEntry.findMany({
    where: { userId: person.id, habitId: habit.id, day: toDbDate(day) },
  });
  const doneThatDay = dayEntries.filter((e) => !e.retractedAt).reduce((s, e) => s + e.amount, 0);
  if (doneThatDay >= item.amount) {
    await ctx.answerCbQuery(`${habit.name} is already logged for ${formatDay(day, state.today)} ✓`);
    return;
  }
  // One key per plan item and "generation": a double tap stores once, a tap after /undo again.
  const prefix = `plan:${plan.id}:${habit.id}:`;
  const generation = dayEntries.filter((e) => e.idempotencyKey.startsWith(prefix)).length;
  const { inserted } = await insertEntries(db, person.id, [
    {
      habitId: habit.id,
      day,
      amount: item.amount,
      source: "button",
      idempotencyKey: `${prefix}${generation}`,
    },
  ]);
  const after = await loadCoachState(db, person, now());
  const ema = formatEma(after.emasToday[String(habit.id)]);
  const amountText = habit.kind === "check" ? "done" : formatAmount(habit, item.amount);
  await ctx.answerCbQuery(
    inserted > 0
      ? `Logged ${habit.name}: ${amountText}, ${formatDay(day, after.today)} → EMA ${ema}`
      : `${habit.name} is already logged ✓`,
  );
  // Refresh the message the button was on: the plan gets its tick, the /done prompt loses the button.
  const text =
    ctx.callbackQuery?.message && "text" in ctx.callbackQuery.message
      ? ctx.callbackQuery.message.text
      : "";
  if (day === after.today && text.includes("Plan for ")) {
    const rendered = renderPlan(plan, planItemsOf(plan), after);
    await editQuietly(ctx, rendered.text, rendered.keyboard);
  } else {
    await editQuietly(
      ctx,
      undefined,
      planButtons(plan, planItemsOf(plan), after.habits, after.doneToday),
    );
  }
}

export function register(bot: Telegraf<CoachContext>): void {
  bot.command("done", async (ctx) => {
    const person = await requirePerson(ctx);
    if (!person) return;
    const args = ctx.message.text.replace(/^\/done(?:@\S+)?/i, "").trim();
    if (args === "") await showUnfinished(ctx, person);
    else await storeTextReport(ctx, person, args, "chat");
  });
  bot.action(/^p:/, (ctx) => logPlannedHabit(ctx, callbackData(ctx)));
}

/** Registered last: any other text is a report. */
export function registerPlainReports(bot: Telegraf<CoachContext>): void {
  bot.on(message("text"), async (ctx) => {
    const text = ctx.message.text;
    if (text.startsWith("/")) {
      await ctx.reply(
        `I don't know the command ${text.split(/\s/)[0].slice(0, 40)}. /help lists what I can do.`,
      );
      return;
    }
    const person = await requirePerson(ctx);
    if (!person) return;
    await storeTextReport(ctx, person, text, "chat");
  });
}
