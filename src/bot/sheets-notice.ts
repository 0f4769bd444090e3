// Tells a person, in the chat, about a Google Sheets mirror failure that only they can fix (the
// mirror calls this once per sync, on its first failed attempt; see src/sheets/mirror.ts), and
// what it took from their sheet when edits flow back (/settings sheet edits on).
import type { Telegram } from "telegraf";
import type { AppDeps } from "../app/deps.js";
import { personById } from "../app/people.js";
import type { SheetEditOutcome } from "../app/sheet-edits.js";
import type { SheetEditsReport, SheetsNotice } from "../sheets/mirror.js";

export function sheetsNoticeText(notice: SheetsNotice, serviceAccount: string | undefined): string {
  if (notice.cause === "not_shared") {
    return [
      "I couldn't update your Google Sheet: Google says it isn't shared with me.",
      `Open the sheet → Share → add ${serviceAccount ?? "the bot's service account"} as Editor.`,
      "I'll keep trying for a few hours. /settings sheet off stops the copy.",
    ].join("\n");
  }
  return [
    `I couldn't find your Google Sheet (${notice.sheetId}): it was deleted, or the link is wrong.`,
    "Link it again with /settings sheet <link>, or stop the copy with /settings sheet off.",
  ].join("\n");
}

/** The mirror's `notifyPerson`: sends the notice to the person's chat. */
export function createSheetsNotifier(
  telegram: Pick<Telegram, "sendMessage">,
  deps: Pick<AppDeps, "db">,
  serviceAccount: string | undefined,
): (notice: SheetsNotice) => Promise<void> {
  return async (notice) => {
    const person = await personById(deps, notice.userId);
    if (person === null) return;
    await telegram.sendMessage(Number(person.chatId), sheetsNoticeText(notice, serviceAccount));
  };
}

function amountText(amount: number, unit: string): string {
  return unit === "" ? String(amount) : `${amount} ${unit}`;
}

function outcomeLine(o: SheetEditOutcome): string | undefined {
  switch (o.kind) {
    case "entry-added":
      return `✓ ${o.habit.name}: ${amountText(o.amount, o.habit.unit)} on ${o.day} (new row)`;
    case "entry-corrected":
      return o.to === 0
        ? `✓ ${o.habit.name} on ${o.day}: ${amountText(o.from, o.habit.unit)} taken back`
        : `✓ ${o.habit.name} on ${o.day}: ${amountText(o.from, o.habit.unit)} → ${amountText(o.to, o.habit.unit)} (corrected)`;
    case "habit-changed": {
      const changes: string[] = [];
      if (o.before.target !== o.habit.target)
        changes.push(`target ${o.before.target} → ${o.habit.target}`);
      if (o.before.daysPerWeek !== o.habit.daysPerWeek) {
        changes.push(`days/week ${o.before.daysPerWeek} → ${o.habit.daysPerWeek}`);
      }
      if (o.before.levels.join(",") !== o.habit.levels.join(",")) {
        changes.push(`levels ${o.habit.levels.join(", ")}`);
      }
      return `✓ ${o.habit.name}: ${changes.join(", ") || "updated"}`;
    }
    case "plan-changed":
      return `✓ today's plan, ${o.habit.name}: ${amountText(o.from, o.habit.unit)} → ${amountText(o.to, o.habit.unit)}`;
    case "conflict":
      return `✗ ${o.what}: changed here and in the sheet since my last copy — I kept what you told me here`;
    case "refused":
      return undefined; // listed with the cells left in the sheet
    case "unchanged":
      return undefined;
  }
}

/** The chat message about what was taken from the sheet, what was not, and why. */
export function sheetEditsText(report: SheetEditsReport): string {
  const taken = report.outcomes.map(outcomeLine).filter((l): l is string => l !== undefined);
  const refused = report.outcomes.flatMap((o) =>
    o.kind === "refused"
      ? o.edit.cells.map((c) => `• ${c.tab} “${c.value ?? ""}”: ${o.reason}`)
      : [],
  );
  const invalid = report.invalid.map((i) => `• ${i.where} “${i.value ?? ""}”: ${i.note}`);
  const lines: string[] = [];
  if (taken.length > 0) lines.push("From your Google Sheet:", ...taken);
  const left = [...invalid, ...refused];
  if (left.length > 0) {
    if (lines.length > 0) lines.push("");
    lines.push("Not taken (left in the sheet with a note):", ...left);
  }
  return lines.join("\n");
}

/** The mirror's `reportEdits`: sends what was taken from the sheet to the person's chat. */
export function createSheetEditsReporter(
  telegram: Pick<Telegram, "sendMessage">,
  deps: Pick<AppDeps, "db">,
): (report: SheetEditsReport) => Promise<void> {
  return async (report) => {
    const text = sheetEditsText(report);
    if (text === "") return;
    const person = await personById(deps, report.userId);
    if (person === null) return;
    await telegram.sendMessage(Number(person.chatId), text);
  };
}
