// The app's clock: what "now" is for every use case (deps.now). Normally the machine's clock.
//
// For simulations and the soak (docs/operations.md, "The soak"), a clock a harness moves:
// SIMULATED_CLOCK_FILE names a file holding an ISO instant; the clock reads it at start, runs on
// from that instant at the real pace, and jumps whenever the file is rewritten. Each jump is
// logged ("simulated clock moved", with `from` and `to`) and passed to the listeners: the plan
// push tick runs at once, and the nightly retrain fires for every RETRAIN_CRON occurrence the
// jump passed over (src/main.ts). Never set it in production.
import { readFileSync } from "node:fs";
import type { Logger } from "../logger.js";

export interface AppClock {
  now(): Date;
  /** Called after each jump of a simulated clock with the instants before and after it. */
  onJump(listener: (from: Date, to: Date) => void): void;
  readonly simulated: boolean;
  stop(): void;
}

export function systemClock(): AppClock {
  return {
    now: () => new Date(),
    onJump() {},
    simulated: false,
    stop() {},
  };
}

/** Reads the instant in `path`; a clear error for a missing file or a bad instant. */
function readInstant(path: string): Date {
  let text: string;
  try {
    text = readFileSync(path, "utf8").trim();
  } catch (error) {
    throw new Error(
      `SIMULATED_CLOCK_FILE ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
  const instant = new Date(text);
  if (!/^\d{4}-\d\d-\d\dT/.test(text) || Number.isNaN(instant.getTime())) {
    throw new Error(
      `SIMULATED_CLOCK_FILE ${path} must hold an ISO instant such as 2026-12-01T07:31:00Z, got "${text.slice(0, 40)}"`,
    );
  }
  return instant;
}

/** A clock that follows the instant written in `path` (see the file's header). */
export function simulatedClock(
  path: string,
  log: Logger,
  options: { pollIntervalMs?: number } = {},
): AppClock {
  let base = readInstant(path);
  let baseAt = performance.now();
  const listeners: ((from: Date, to: Date) => void)[] = [];
  let warned = false;
  const now = () => new Date(base.getTime() + (performance.now() - baseAt));
  const check = () => {
    let instant: Date;
    try {
      instant = readInstant(path);
    } catch (error) {
      // a harness rewriting the file non-atomically: keep running on the last instant
      if (!warned) log.warn({ err: error }, "simulated clock file unreadable; the clock runs on");
      warned = true;
      return;
    }
    warned = false;
    if (instant.getTime() === base.getTime()) return;
    const from = now();
    base = instant;
    baseAt = performance.now();
    log.info({ from: from.toISOString(), to: instant.toISOString() }, "simulated clock moved");
    for (const listener of listeners) listener(from, instant);
  };
  // read every poll (a tiny file): a rewrite is seen however soon it follows the start
  const poll = setInterval(check, options.pollIntervalMs ?? 50);
  poll.unref();
  log.warn({ now: base.toISOString() }, "the clock is simulated (SIMULATED_CLOCK_FILE)");
  return {
    now,
    onJump(listener) {
      listeners.push(listener);
    },
    simulated: true,
    stop() {
      clearInterval(poll);
    },
  };
}
