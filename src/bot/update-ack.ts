// Acknowledging a webhook update before its replies are sent. Telegram waits for the answer to
// its POST before delivering that chat's next update; when a reply has to wait for the outgoing
// budget (src/app/send-budget.ts) the update's work is done (stored) and only sending is left,
// so the webhook answers 200 at that moment instead of after the wait (./webhook.ts). The
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
