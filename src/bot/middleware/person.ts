// Loads the registered person (ctx.person) for the Telegram user behind the update, and keeps
// people who have not pressed /start yet from reaching handlers that need an account.
import type { MiddlewareFn } from "telegraf";
import { personByTelegramId } from "../../app/people.js";
import type { CoachContext } from "../context.js";

export const loadPerson: MiddlewareFn<CoachContext> = async (ctx, next) => {
  const from = ctx.from;
  if (from && !from.is_bot) {
    const person = await personByTelegramId(ctx.deps, BigInt(from.id));
    if (person) {
      ctx.person = person;
      ctx.log = ctx.log.child({ user_id: person.id });
    }
  }
  await next();
};

/** Private chats only: the coach is personal. */
export const privateChatsOnly: MiddlewareFn<CoachContext> = async (ctx, next) => {
  const type = ctx.chat?.type;
  if (type !== undefined && type !== "private") {
    ctx.log.debug({ chatType: type }, "ignoring update from a non-private chat");
    return;
  }
  await next();
};
