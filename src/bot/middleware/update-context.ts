// First middleware: a child logger carrying the update id, and the outcome counted for /metrics.
// (ctx.deps and the Bot API policies are set up once, when the bot is created: see ../bot.ts.)
import type { MiddlewareFn } from "telegraf";
import type { CoachContext } from "../context.js";

export const updateContext: MiddlewareFn<CoachContext> = async (ctx, next) => {
  ctx.log = ctx.deps.log.child({ update_id: ctx.update.update_id, tg_user: ctx.from?.id });
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  try {
    await next();
    // a permanent failure was apologised for by processOnce (./idempotency.ts)
    if (ctx.state.failed === true) ctx.deps.countUpdate?.("error", seconds());
    else if (ctx.state.duplicate !== true) ctx.deps.countUpdate?.("ok", seconds());
  } catch (error) {
    ctx.deps.countUpdate?.("error", seconds());
    throw error;
  }
};
