// Handlers that need a registered person call requirePerson first; people who have not pressed
// /start yet get a friendly pointer instead of an error.
import type { User } from "../generated/prisma/client.js";
import type { CoachContext } from "./context.js";

export const NOT_REGISTERED =
  "Hi! I don't know you yet — send /start and I'll set you up in a minute.";

export async function requirePerson(ctx: CoachContext): Promise<User | undefined> {
  if (ctx.person) return ctx.person;
  if (ctx.callbackQuery) await ctx.answerCbQuery(NOT_REGISTERED.slice(0, 200));
  else await ctx.reply(NOT_REGISTERED);
  return undefined;
}

/** The text after a command ("/habits add run 30" → "add run 30"), also for "/cmd@botname". */
export function commandArgs(ctx: CoachContext): string {
  const text = ctx.message && "text" in ctx.message ? ctx.message.text : "";
  const match = /^\/[A-Za-z0-9_]+(?:@\S+)?\s*([\s\S]*)$/.exec(text);
  return (match?.[1] ?? "").trim();
}
