// Waiting for an event in tests (a row's status, a process's output), never for fixed seconds:
// the machine may be loaded, so deadlines are generous and the probe is polled.

/**
 * Polls `probe` until it returns a value other than undefined or false, and resolves with it;
 * rejects after `timeoutMs` with "timed out waiting for <what>" and, when given, `details()`.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  options: { timeoutMs: number; intervalMs?: number; details?: () => string },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      const details = options.details?.();
      throw new Error(`timed out waiting for ${what}${details ? `\n${details}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 250));
  }
}
