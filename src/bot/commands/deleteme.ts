// /deleteme: deletes every row stored about the person, after an explicit confirmation —
// either the button under the warning (valid for 10 minutes, checked against the person who
// pressed it), or typing the exact phrase: "/deleteme delete all my data" at any time, or just
// "delete all my data" within 10 minutes of the warning.
import { Composer, Markup } from "telegraf";
import { type DeletedCounts, deletePersonData } from "../../app/people.js";
import type { CoachContext } from "../context.js";
import { deleteSavedFiles } from "../local-chat.js";
import { commandArgs } from "../person-guard.js";

export const DELETE_PHRASE = "delete all my data";
export const CONFIRM_WINDOW_MS = 10 * 60_000;
const CALLBACK_PREFIX = "delme";
const CALLBACK = /^delme:(\d+):(\d+)$/;
const CANCEL = "delme:cancel";

/** Callback data of the confirm button: user id and expiry (unix seconds); well under 64 bytes. */
export function confirmCallbackData(userId: number, expiresAt: Date): string {
  return `${CALLBACK_PREFIX}:${userId}:${Math.floor(expiresAt.getTime() / 1000)}`;
}

/** True when the text is the confirmation phrase (case and spacing don't matter). */
export function isDeletePhrase(text: string): boolean {
  return text.trim().replace(/\s+/g, " ").toLowerCase() === DELETE_PHRASE;
}

/** One sentence listing what was deleted, e.g. "12 reports, 3 habits, 2 weight samples…". */
export function describeDeleted(c: DeletedCounts): string {
  const parts: [number, string, string][] = [
    [c.entries, "report", "reports"],
    [c.habits, "habit", "habits"],
    [c.metrics, "metric", "metrics"],
    [c.metricSamples, "measurement", "measurements"],
    [c.plans, "plan", "plans"],
    [c.trainingRuns, "training run", "training runs"],
    [c.policyModels, "trained policy", "trained policies"],
    [c.outboxEvents, "sheet sync record", "sheet sync records"],
  ];
  const listed = parts
    .filter(([n]) => n > 0)
    .map(([n, one, many]) => `${n} ${n === 1 ? one : many}`);
  return listed.length === 0 ? "your account" : `your account, ${listed.join(", ")}`;
}

/** /deleteme and its confirmation. */
export const deletemeCommand = new Composer<CoachContext>();
/** chat id → when the warning stops being valid (lost on restart: then ask again). */
const pending = new Map<string, number>();

const deleteNow = async (ctx: CoachContext) => {
  const person = ctx.person!;
  const counts = await deletePersonData(ctx.deps, person);
  // local chat mode keeps the charts and exports it showed as files: those go too
  const files = ctx.deps.transport ? deleteSavedFiles(ctx.deps.chartsDir) : 0;
  pending.delete(String(person.chatId));
  ctx.log.info({ userId: person.id, counts, files }, "person deleted their data");
  ctx.person = undefined;
  const saved =
    files > 0 ? `, and ${files} saved file${files === 1 ? "" : "s"} (charts, exports)` : "";
  await ctx.reply(
    `Done: I deleted ${describeDeleted(counts)}${saved}. Nothing about you is stored any more.\nIf you ever want to start again, send /start.`,
  );
};

deletemeCommand.command("deleteme", async (ctx) => {
  const person = ctx.person;
  if (person === undefined) {
    await ctx.reply("There is nothing stored about you.");
    return;
  }
  const args = commandArgs(ctx);
  if (args.trim() !== "") {
    if (isDeletePhrase(args)) {
      await deleteNow(ctx);
    } else {
      await ctx.reply(
        `To confirm, type exactly: /deleteme ${DELETE_PHRASE}\n(or send /deleteme and press the button).`,
      );
    }
    return;
  }
  const expires = new Date(ctx.deps.now().getTime() + CONFIRM_WINDOW_MS);
  pending.set(String(person.chatId), expires.getTime());
  await ctx.reply(
    [
      "This deletes everything I store about you: your habits, every report, plans, measurements, trained policies and your settings. It cannot be undone.",
      "If you want a copy first, send /export.",
      `To confirm, press the button or type: ${DELETE_PHRASE}`,
    ].join("\n\n"),
    Markup.inlineKeyboard([
      [Markup.button.callback("Yes, delete everything", confirmCallbackData(person.id, expires))],
      [Markup.button.callback("Cancel", CANCEL)],
    ]),
  );
});

deletemeCommand.action(CANCEL, async (ctx) => {
  if (ctx.person) pending.delete(String(ctx.person.chatId));
  await ctx.answerCbQuery("Cancelled");
  await ctx.editMessageText("Cancelled — nothing was deleted.").catch(() => {});
});

deletemeCommand.action(CALLBACK, async (ctx) => {
  const person = ctx.person;
  const userId = Number(ctx.match[1]);
  const expiresAt = Number(ctx.match[2]) * 1000;
  if (person === undefined || person.id !== userId) {
    await ctx.answerCbQuery("This button is not for you.", { show_alert: true });
    return;
  }
  if (ctx.deps.now().getTime() > expiresAt) {
    await ctx.answerCbQuery("This confirmation expired. Send /deleteme again.", {
      show_alert: true,
    });
    await ctx.editMessageReplyMarkup(undefined).catch(() => {});
    return;
  }
  await ctx.answerCbQuery("Deleting…");
  await ctx.editMessageReplyMarkup(undefined).catch(() => {});
  await deleteNow(ctx);
});

deletemeCommand.hears(/^\s*delete\s+all\s+my\s+data\s*$/i, async (ctx, next) => {
  const person = ctx.person;
  const until = person === undefined ? undefined : pending.get(String(person.chatId));
  if (person === undefined || until === undefined || ctx.deps.now().getTime() > until) {
    return next();
  }
  await deleteNow(ctx);
});
