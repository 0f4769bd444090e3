// First middleware: gives every update its dependencies, a child logger carrying the update id,
// the Bot API policies (429 retry, long-message splitting, local transport) and counts the
// outcome for /metrics.
import type { MiddlewareFn } from "telegraf";
import type { BotDeps, CoachContext } from "../context.js";
import { installTelegramPolicies } from "../telegram-policies.js";

export function updateContext(deps: BotDeps): MiddlewareFn<CoachContext> {
  return async (ctx, next) => {
    ctx.deps = deps;
    ctx.log = deps.log.child({ update_id: ctx.update.update_id, tg_user: ctx.from?.id });
    installTelegramPolicies(ctx.telegram, {
      log: deps.log,
      transport: deps.transport,
      sleep: deps.sleep,
    });
    try {
      await next();
      if (ctx.state.duplicate !== true) ctx.deps.countUpdate?.("ok");
    } catch (error) {
      ctx.deps.countUpdate?.("error");
      throw error;
    }
  };
}
