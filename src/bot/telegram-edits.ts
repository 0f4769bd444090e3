// Editing the message a button was on. "message is not modified" (the same content again, e.g. a
// double tap) and "message to edit not found" (deleted meanwhile) are expected, not errors.
import type { InlineKeyboardButton } from "telegraf/types";
import type { CoachContext } from "./context.js";

function isHarmlessEditError(error: unknown): boolean {
  const text = String(
    (error as { description?: string }).description ?? (error as Error).message ?? "",
  );
  return /message is not modified|message to edit not found|message can't be edited/i.test(text);
}

/** Edits the callback's message: new text (when given) and keyboard; harmless failures ignored. */
export async function editQuietly(
  ctx: CoachContext,
  text: string | undefined,
  keyboard: InlineKeyboardButton[][],
): Promise<void> {
  const markup = { inline_keyboard: keyboard };
  try {
    if (text !== undefined) await ctx.editMessageText(text, { reply_markup: markup });
    else await ctx.editMessageReplyMarkup(markup);
  } catch (error) {
    if (!isHarmlessEditError(error)) throw error;
    ctx.log.debug({ err: error }, "edit skipped");
  }
}
