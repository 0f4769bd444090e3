// Every update is handled at least once with an exactly-once effect (src/app/updates.ts): it is
// claimed before any handler runs and marked done only when the handler finished. A re-delivery
// of a done update is skipped; one whose claim is held elsewhere right now is left for a later
// delivery; a transient failure releases the claim so that the next delivery handles the update;
// a permanent failure is apologised for and marked done (it would fail the same way again).
import { randomUUID } from "node:crypto";
import type { MiddlewareFn } from "telegraf";
import { claimUpdate, finishUpdate, releaseUpdate } from "../../app/updates.js";
import type { CoachContext } from "../context.js";
import { currentUpdate } from "../update-ack.js";
import { apologise, isTransientFailure, UpdateInProgress } from "./errors.js";

/**
 * Who holds the claim: one delivery of the update, kept across its in-process retries (which
 * hand the same update object to the bot again; a new delivery is a new object).
 */
const holders = new WeakMap<object, string>();
function holderOf(ctx: CoachContext): string {
  let holder = holders.get(ctx.update);
  if (holder === undefined) {
    holder = randomUUID();
    holders.set(ctx.update, holder);
  }
  return holder;
}

export const processOnce: MiddlewareFn<CoachContext> = async (ctx, next) => {
  const updateId = ctx.update.update_id;
  const holder = holderOf(ctx);
  const claim = await claimUpdate(ctx.deps, updateId, holder);
  if (claim === "done") {
    ctx.log.info("update already processed; skipping re-delivery");
    ctx.state.duplicate = true;
    ctx.deps.countUpdate?.("duplicate");
    return;
  }
  if (claim === "in-progress") throw new UpdateInProgress(updateId);
  // taken over from a handling that did not finish: its replies may be in the outbox
  if (claim === "resumed") {
    const handling = currentUpdate();
    if (handling !== undefined) handling.resumed = true;
  }
  try {
    await next();
  } catch (error) {
    if (isTransientFailure(error)) {
      await releaseUpdate(ctx.deps, updateId, holder).catch((releaseError: unknown) =>
        // the claim's lease runs out instead
        ctx.log.warn({ err: releaseError }, "could not release the update's claim"),
      );
      throw error;
    }
    await apologise(error, ctx);
    ctx.state.failed = true;
  }
  await finishUpdate(ctx.deps, updateId);
};
