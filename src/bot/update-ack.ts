// Acknowledging a webhook update before its replies are sent. When a reply has to wait for the
// bot's global outgoing window (src/app/send-budget.ts: the morning fan-out or a burst fills it)
// the update's work is done (stored) and only sending is left, so the webhook answers 200 at that
// moment instead of after the wait (./webhook.ts) — once the reply is stored in the reply outbox
// (src/app/reply-outbox.ts, ./reply-outbox.ts), so that a crash before it is sent does not lose
// it. A wait for one chat's window (at most about a second) is not acknowledged early: the reply
// then still counts for the webhook's answer. The handling of each update is found by the
// policies on the Telegram client through AsyncLocalStorage.
import { AsyncLocalStorage } from "node:async_hooks";

/** One handling of one webhook update, as the policies on the Telegram client see it. */
export interface UpdateHandling {
  readonly updateId: number;
  /** Answers the webhook 200 now (once; later calls do nothing). */
  acknowledge(): void;
  /** whether the webhook was answered before the handling finished */
  readonly acknowledged: boolean;
  /**
   * This handling took the update over from one that did not finish (a process that died): its
   * messages may be stored in the outbox already, so each is looked up there before sending.
   */
  resumed: boolean;
  /** How many messages the handling has sent so far (the next one's position). */
  messages: number;
}

const current = new AsyncLocalStorage<UpdateHandling>();

/** Runs the handling of one update; its replies may acknowledge it early. */
export function handlingUpdate<T>(
  updateId: number,
  acknowledge: () => void,
  handle: () => Promise<T>,
): Promise<T> {
  let acknowledged = false;
  const handling: UpdateHandling = {
    updateId,
    acknowledge() {
      if (acknowledged) return;
      acknowledged = true;
      acknowledge();
    },
    get acknowledged() {
      return acknowledged;
    },
    resumed: false,
    messages: 0,
  };
  return current.run(handling, handle);
}

/** The webhook update being handled, or undefined (long polling, schedules, local chat). */
export function currentUpdate(): UpdateHandling | undefined {
  return current.getStore();
}

/**
 * Runs `send` outside the update's handling, so that its waiting never acknowledges the update
 * and it is not stored: the notice of a transient failure goes out before the webhook answers
 * 503 (Telegram must deliver the update again).
 */
export function withoutEarlyAcknowledgement<T>(send: () => Promise<T>): Promise<T> {
  return current.exit(send);
}
