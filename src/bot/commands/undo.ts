// /undo: retracts the person's most recent entry (or the most recent of one habit, or one picked
// from a list) and says exactly what was undone. Entries are never deleted, only retracted.
import type { Telegraf } from "telegraf";
import type { InlineKeyboardButton } from "telegraf/types";
import { loadCoachState, todayOf } from "../../app/coach-state.js";
import { fromDbDate } from "../../db/dates.js";
import { recentEntries, retractEntry } from "../../db/entries.js";
import { findHabitByName } from "../../db/habits.js";
import type { User } from "../../generated/prisma/client.js";
import { callbackData, decodeCallback, encodeCallback } from "../callback-data.js";
import type { CoachContext } from "../context.js";
import { formatAmount, formatDay, formatEma } from "../format.js";
import { commandArgs, requirePerson } from "../person-guard.js";
import { editQuietly } from "../telegram-edits.js";

export const UNDO_PICK_COUNT = 8;

type RecentEntry = Awaited<ReturnType<typeof recentEntries>>[number];

function describeEntry(entry: RecentEntry, today: string): string {
  const habit = {
    kind: entry.habit.kind as "duration" | "count" | "check",
    unit: entry.habit.unit,
  };
  const amount = habit.kind === "check" ? "done" : formatAmount(habit, entry.amount);
  return `${entry.habit.name} ${amount}, ${formatDay(fromDbDate(entry.day), today)}`;
}

async function undoneText(ctx: CoachContext, person: User, entry: RecentEntry): Promise<string> {
  const state = await loadCoachState(ctx.deps.db, person, ctx.deps.now());
  const ema = state.emasToday[String(entry.habitId)];
  const emaText = ema === undefined ? "" : ` ${entry.habit.name} EMA now ${formatEma(ema)}.`;
  return `Undone: ${describeEntry(entry, state.today)}.${emaText}`;
}

async function undoLatest(ctx: CoachContext, person: User, habitName: string): Promise<void> {
  let habitId: number | undefined;
  if (habitName !== "") {
    const habit = await findHabitByName(ctx.deps.db, person.id, habitName);
    if (!habit) {
      await ctx.reply(
        `You have no habit called “${habitName}”. /undo alone takes back your last entry.`,
      );
      return;
    }
    habitId = habit.id;
  }
  // Two /undo at the same moment must undo two different entries: retry when we lost the race.
  for (let attempt = 0; attempt < 3; attempt++) {
    const recent = await recentEntries(ctx.deps.db, person.id, habitId === undefined ? 1 : 50);
    const entry = habitId === undefined ? recent[0] : recent.find((e) => e.habitId === habitId);
    if (!entry) {
      await ctx.reply(
        habitName === ""
          ? "There is nothing to undo."
          : `There is nothing of ${habitName} to undo.`,
      );
      return;
    }
    if (await retractEntry(ctx.deps.db, person.id, entry.id, ctx.deps.now())) {
      await ctx.reply(await undoneText(ctx, person, entry));
      return;
    }
  }
  await ctx.reply(
    "Those entries changed while I was undoing — please look at /habits and try again.",
  );
}

async function showPicker(ctx: CoachContext, person: User): Promise<void> {
  const recent = await recentEntries(ctx.deps.db, person.id, UNDO_PICK_COUNT);
  if (recent.length === 0) {
    await ctx.reply("There is nothing to undo.");
    return;
  }
  const today = todayOf(person, ctx.deps.now());
  const keyboard: InlineKeyboardButton[][] = recent.map((entry) => [
    {
      text: `↩ ${describeEntry(entry, today)}`,
      callback_data: encodeCallback({ kind: "undo", entryId: entry.id }),
    },
  ]);
  await ctx.reply("Which entry shall I undo? (newest first)", {
    reply_markup: { inline_keyboard: keyboard },
  });
}

export function register(bot: Telegraf<CoachContext>): void {
  bot.command("undo", async (ctx) => {
    const person = await requirePerson(ctx);
    if (!person) return;
    const args = commandArgs(ctx);
    if (/^(pick|list|choose)$/i.test(args)) await showPicker(ctx, person);
    else await undoLatest(ctx, person, args);
  });

  bot.action(/^u:/, async (ctx) => {
    const person = await requirePerson(ctx);
    if (!person) return;
    const action = decodeCallback(callbackData(ctx));
    if (action?.kind !== "undo") {
      await ctx.answerCbQuery("This button is no longer valid.");
      return;
    }
    const entry = await ctx.deps.db.prisma.habitEntry.findUnique({
      where: { id: action.entryId },
      include: { habit: { select: { name: true, unit: true, kind: true } } },
    });
    if (!entry || entry.userId !== person.id) {
      await ctx.answerCbQuery("That entry isn't yours or no longer exists.");
      return;
    }
    if (!(await retractEntry(ctx.deps.db, person.id, entry.id, ctx.deps.now()))) {
      await ctx.answerCbQuery("Already undone.");
      return;
    }
    const text = await undoneText(ctx, person, entry);
    await ctx.answerCbQuery(text.slice(0, 200));
    const remaining = (
      ctx.callbackQuery.message && "reply_markup" in ctx.callbackQuery.message
        ? (ctx.callbackQuery.message.reply_markup?.inline_keyboard ?? [])
        : []
    ).filter(
      (row) => !row.some((b) => "callback_data" in b && b.callback_data === callbackData(ctx)),
    );
    await editQuietly(ctx, undefined, remaining);
    await ctx.reply(text);
  });
}
