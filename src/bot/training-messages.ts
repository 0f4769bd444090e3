// How a retrain reads in chat: one progress message, edited at most once every few seconds,
// ending with reward before/after and whether the new policy was activated.

import type { RetrainOutcome } from "../app/training/retrain.js";
import type { RetrainProgress } from "../app/training/retrain-job.js";

/** Minimum time between two edits of the progress message (Telegram rate limits edits). */
export const PROGRESS_EDIT_INTERVAL_MS = 5_000;

export type EditText = (text: string) => Promise<void>;

/**
 * Wraps an edit function so that it runs at most once per `intervalMs`: intermediate texts
 * replace each other and only the latest one is sent when the interval has passed. `flush`
 * sends the final text immediately (after any edit in flight) — skipping identical texts.
 */
export function throttledEditor(
  edit: EditText,
  intervalMs = PROGRESS_EDIT_INTERVAL_MS,
  now: () => number = Date.now,
): { update(text: string): void; flush(text: string): Promise<void>; edits(): number } {
  let lastSentAt = Number.NEGATIVE_INFINITY;
  let lastText: string | null = null;
  let latest: string | null = null;
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<void> = Promise.resolve();
  let count = 0;
  const send = (text: string) => {
    if (text === lastText) return inFlight;
    lastText = text;
    lastSentAt = now();
    count++;
    inFlight = inFlight.then(() => edit(text)).catch(() => {});
    return inFlight;
  };
  return {
    update(text) {
      latest = text;
      if (timer !== null) return;
      const wait = lastSentAt + intervalMs - now();
      if (wait <= 0) {
        void send(text);
        return;
      }
      timer = setTimeout(() => {
        timer = null;
        if (latest !== null) void send(latest);
      }, wait);
      timer.unref?.();
    },
    async flush(text) {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      latest = null;
      await send(text);
      await inFlight;
    },
    edits: () => count,
  };
}

const r3 = (x: number | null) => (x === null ? "—" : x.toFixed(3));

export function progressLine(name: string, p: RetrainProgress | null): string {
  if (p === null) return `⏳ ${name}: starting…`;
  const pct = Math.min(100, Math.round((100 * p.steps) / Math.max(1, p.totalSteps)));
  return `⏳ ${name}: ${pct}% (${p.steps.toLocaleString("en-US")} / ${p.totalSteps.toLocaleString("en-US")} steps), training reward ${p.meanReward.toFixed(3)}, ${Math.round(p.samplesPerSecond).toLocaleString("en-US")} samples/s`;
}

/** One person's final line(s). */
export function outcomeText(o: RetrainOutcome): string {
  const who = `${o.displayName}${o.runId === null ? "" : ` (run #${o.runId})`}`;
  if (o.status === "skipped") return `⏭ ${who}: skipped — ${o.reason}.`;
  if (o.status === "failed") return `❌ ${who}: failed — ${o.reason}`;
  const lines = [
    `${o.activated ? "✅" : "➖"} ${who}: reward before ${r3(o.before)} (${o.beforeSource}) → after ${r3(o.after)}; heuristic ${r3(o.heuristic)}.`,
    o.activated
      ? "The new policy is now active and plans from tomorrow."
      : `Not activated: the new policy did not beat ${o.beforeSource === "active policy" ? "the active policy and the heuristic" : "the heuristic"}.`,
  ];
  if (o.behaviour) {
    lines.push(
      o.behaviour.source === "fitted"
        ? `Trained on behaviour fitted to the last ${o.behaviour.days} days.`
        : "Trained on default behaviour (not enough history yet).",
    );
  }
  if (o.reason) lines.push(`Note: ${o.reason}`);
  return lines.join("\n");
}

/** The whole message for a multi-person run: finished lines, then the current one, then the queue. */
export function batchText(
  header: string,
  finished: RetrainOutcome[],
  current: { name: string; progress: RetrainProgress | null } | null,
  waiting: number,
): string {
  const parts = [header, ...finished.map(outcomeText)];
  if (current !== null) parts.push(progressLine(current.name, current.progress));
  if (waiting > 0) parts.push(`${waiting} more waiting.`);
  return parts.join("\n\n");
}
