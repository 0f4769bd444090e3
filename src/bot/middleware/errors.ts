// The last line of defence: any error escaping a handler is logged with the update id and the
// person gets a short apology; the bot keeps running.
import type { CoachContext } from "../context.js";

export const APOLOGY = "Sorry — something went wrong on my side. Please try again in a moment.";

export async function handleBotError(error: unknown, ctx: CoachContext): Promise<void> {
  const log = ctx.log ?? ctx.deps?.log;
  log?.error({ err: error, update_id: ctx.update.update_id }, "update handler failed");
  try {
    if (ctx.callbackQuery) {
      await ctx.answerCbQuery(APOLOGY.slice(0, 200));
    } else if (ctx.chat) {
      await ctx.reply(APOLOGY);
    }
  } catch (replyError) {
    log?.warn({ err: replyError, update_id: ctx.update.update_id }, "could not send the apology");
  }
}
