// /undo: retracts the person's most recent entry (or the most recent of one habit, or one picked
// from a list) and says exactly what was undone. Entries are never deleted, only retracted.
import { Composer } from "telegraf";
import type { InlineKeyboardButton } from "telegraf/types";
import { todayOf } from "../../app/coach-state.js";
import { askQuestion, closeQuestion, type OpenQuestion } from "../../app/questions.js";
import {
  type RecentEntry,
  recentReports,
  type UndoEntryOutcome,
  undoEntry,
  undoLatest,
} from "../../app/reports.js";
import { undoKey } from "../../coach/idempotency.js";
import { foldName } from "../../coach/index.js";
import type { User } from "../../generated/prisma/client.js";
import { callbackData, decodeCallback, encodeCallback } from "../callback-data.js";
import type { CoachContext } from "../context.js";
import { formatAmount, formatDay, formatEma } from "../format.js";
import { commandArgs, requirePerson } from "../person-guard.js";
import { editQuietly } from "../telegram-edits.js";

export const UNDO_PICK_COUNT = 8;

function describeEntry(entry: RecentEntry, today: string): string {
  const habit = {
    kind: entry.habit.kind as "duration" | "count" | "check",
    unit: entry.habit.unit,
  };
  const amount = habit.kind === "check" ? "done" : formatAmount(habit, entry.amount);
  return `${entry.habit.name} ${amount}, ${formatDay(entry.day, today)}`;
}

/** What /undo says, for every outcome but "not yours" and "already undone" (buttons only). */
function undoText(
  outcome: Exclude<UndoEntryOutcome, { kind: "not-yours" | "already-undone" }>,
  habitName: string,
): string {
  switch (outcome.kind) {
    case "no-such-habit":
      return `You have no habit called “${habitName}”. /undo alone takes back your last entry.`;
    case "nothing":
      return habitName === ""
        ? "There is nothing to undo."
        : `There is nothing of ${habitName} to undo.`;
    case "raced":
      return "Those entries changed while I was undoing — please look at /habits and try again.";
    case "undone": {
      const { entry, emaNow } = outcome;
      const emaText =
        emaNow === undefined ? "" : ` ${entry.habit.name} EMA now ${formatEma(emaNow)}.`;
      return `Undone: ${describeEntry(entry, outcome.today)}.${emaText}`;
    }
  }
}

async function showPicker(ctx: CoachContext, person: User): Promise<void> {
  const recent = await recentReports(ctx.deps, person, UNDO_PICK_COUNT);
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
  await askQuestion(ctx.deps, person, {
    kind: "undo-pick",
    entries: recent.map((e) => ({ id: String(e.id), habit: e.habit.name })),
  });
  await ctx.reply("Which entry shall I undo? (newest first) Tap one, or type its number.", {
    reply_markup: { inline_keyboard: keyboard },
  });
}

/**
 * A typed answer to "Which entry shall I undo?": its number in the list ("2") or its habit's
 * name (the newest entry of it listed). False when the text is neither.
 */
export async function answerUndoPick(
  ctx: CoachContext,
  person: User,
  question: Extract<OpenQuestion, { kind: "undo-pick" }>,
  text: string,
): Promise<boolean> {
  const n = /^\s*#?(\d{1,2})\s*$/.exec(text)?.[1];
  const picked =
    n !== undefined
      ? question.entries[Number(n) - 1]
      : question.entries.find((e) => foldName(e.habit) === foldName(text));
  if (!picked) return false;
  const outcome = await undoEntry(
    ctx.deps,
    person,
    BigInt(picked.id),
    undoKey(ctx.update.update_id),
  );
  if (outcome.kind === "not-yours") await ctx.reply("That entry no longer exists.");
  else if (outcome.kind === "already-undone") await ctx.reply("That entry is already undone.");
  else await ctx.reply(undoText(outcome, ""));
  return true;
}

/** /undo, /undo <habit>, /undo pick and the picker's buttons. */
export const undoCommand = new Composer<CoachContext>();
undoCommand.command("undo", async (ctx) => {
  const person = await requirePerson(ctx);
  if (!person) return;
  const args = commandArgs(ctx);
  if (/^(pick|list|choose)$/i.test(args)) await showPicker(ctx, person);
  else
    await ctx.reply(
      undoText(await undoLatest(ctx.deps, person, args, undoKey(ctx.update.update_id)), args),
    );
});

undoCommand.action(/^u:/, async (ctx) => {
  const person = await requirePerson(ctx);
  if (!person) return;
  const action = decodeCallback(callbackData(ctx));
  if (action?.kind !== "undo") {
    await ctx.answerCbQuery("This button is no longer valid.");
    return;
  }
  await closeQuestion(ctx.deps, person);
  const outcome = await undoEntry(ctx.deps, person, action.entryId, undoKey(ctx.update.update_id));
  if (outcome.kind === "not-yours") {
    await ctx.answerCbQuery("That entry isn't yours or no longer exists.");
    return;
  }
  if (outcome.kind === "already-undone") {
    await ctx.answerCbQuery("Already undone.");
    return;
  }
  const text = undoText(outcome, "");
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
