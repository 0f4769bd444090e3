// Acknowledging a webhook update before its replies are sent. When a reply has to wait for the
// bot's global outgoing window (src/app/send-budget.ts: the morning fan-out or a burst fills it)
// the update's work is done (stored) and only sending is left, so the webhook answers 200 at that
// moment instead of after the wait (./webhook.ts). A wait for one chat's window (at most about a
// second) is not acknowledged early: the reply then still counts for the webhook's answer. The
// handler that is waiting finds its update's acknowledgement through AsyncLocalStorage.
import { AsyncLocalStorage } from "node:async_hooks";

const current = new AsyncLocalStorage<() => void>();

/** Runs the handling of one update; `acknowledge` may be called (once or more) while it runs. */
export function handlingUpdate<T>(acknowledge: () => void, handle: () => Promise<T>): Promise<T> {
  return current.run(acknowledge, handle);
}

/** Called by a reply that waits for the outgoing budget: the update can be acknowledged now. */
export function acknowledgeUpdateEarly(): void {
  current.getStore()?.();
}

/**
 * Runs `send` so that its waiting never acknowledges the update: the notice of a transient
 * failure goes out before the webhook answers 503 (Telegram must deliver the update again).
 */
export function withoutEarlyAcknowledgement<T>(send: () => Promise<T>): Promise<T> {
  return current.run(() => {}, send);
}
