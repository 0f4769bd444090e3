// Loads the registered person (ctx.person) for the Telegram user behind the update (clearing the
// "blocked the bot" mark: they are writing again), and keeps people who have not pressed /start
// yet from reaching handlers that need an account.
import type { MiddlewareFn } from "telegraf";
import { personByTelegramId, personIsBack } from "../../app/people.js";
import type { CoachContext } from "../context.js";

export const loadPerson: MiddlewareFn<CoachContext> = async (ctx, next) => {
  const from = ctx.from;
  if (from && !from.is_bot) {
    const found = await personByTelegramId(ctx.deps, BigInt(from.id));
    if (found) {
      // any update from someone who had blocked the bot means they can be messaged again
      const person = await personIsBack(ctx.deps, found);
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
