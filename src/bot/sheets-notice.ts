// Tells a person, in the chat, about a Google Sheets mirror failure that only they can fix (the
// mirror calls this once per sync, on its first failed attempt; see src/sheets/mirror.ts).
import type { Telegram } from "telegraf";
import type { AppDeps } from "../app/deps.js";
import { personById } from "../app/people.js";
import type { SheetsNotice } from "../sheets/mirror.js";

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
