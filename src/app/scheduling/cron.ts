// Cron expressions as the scheduler reads them: node-schedule's own parser (cron-parser, loaded
// from node-schedule's dependencies), so that an expression accepted here is one it runs.
import { createRequire } from "node:module";

interface CronIterator {
  next(): { toDate(): Date };
}
const cronParser = createRequire(createRequire(import.meta.url).resolve("node-schedule"))(
  "cron-parser",
) as {
  parseExpression(
    expression: string,
    options: { tz: string; currentDate?: Date; endDate?: Date },
  ): CronIterator;
};

/** Why the scheduler would not run `cron` (in UTC), or undefined when it would. */
export function cronProblem(cron: string): string | undefined {
  try {
    cronParser.parseExpression(cron, { tz: "Etc/UTC" }).next();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** The instants `cron` (UTC) fires after `from` and at or before `to`, in order (at most `limit`). */
export function cronOccurrences(cron: string, from: Date, to: Date, limit = 1_000): Date[] {
  const found: Date[] = [];
  if (to <= from) return found;
  const iterator = cronParser.parseExpression(cron, {
    tz: "Etc/UTC",
    currentDate: from,
    endDate: new Date(to.getTime() + 1),
  });
  while (found.length < limit) {
    try {
      found.push(iterator.next().toDate());
    } catch {
      break; // past endDate
    }
  }
  return found;
}
