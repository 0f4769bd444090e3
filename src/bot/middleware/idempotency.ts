// Every update is processed once: its id is recorded in ProcessedUpdate before any handler
// runs (insert first); an id already recorded means a re-delivery, which is skipped.
import type { MiddlewareFn } from "telegraf";
import { claimUpdate } from "../../app/updates.js";
import type { CoachContext } from "../context.js";

export const processOnce: MiddlewareFn<CoachContext> = async (ctx, next) => {
  const claimed = await claimUpdate(ctx.deps, ctx.update.update_id);
  if (!claimed) {
    ctx.log.info("update already processed; skipping re-delivery");
    ctx.state.duplicate = true;
    ctx.deps.countUpdate?.("duplicate");
    return;
  }
  await next();
};
