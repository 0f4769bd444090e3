// /settings: time zone, plan time, day-start hour, Google Sheet link and the ingest token (shown
// once when created or rotated; only its SHA-256 hash is stored).

import { Composer } from "telegraf";
import { changeSettings, issueIngestToken } from "../../app/people.js";
import { setSheetEdits, sheetEditsEnabled } from "../../app/sheet-edits.js";
import {
  isChoosableDayStartHour,
  MAX_DAY_START_HOUR,
  planTimeBeforeDayStart,
} from "../../coach/days.js";
import type { AppConfig } from "../../config.js";
import type { User } from "../../generated/prisma/client.js";
import { callbackData, decodeCallback, encodeCallback } from "../callback-data.js";
import type { CoachContext } from "../context.js";
import { commandArgs, requirePerson } from "../person-guard.js";
import { describeZone, modernZone, parseTimeOfDay, parseTimezone } from "../timezone-input.js";
import {
  capacitySetting,
  checkInSetting,
  PLAN_SETTINGS_USAGE,
  planSettingsLines,
} from "./plan-settings.js";
import { applyTimezone, planTimeProblem } from "./start.js";

export const SETTINGS_USAGE = [
  "Change a setting:",
  "  /settings timezone Lisbon   (a city, an offset like +2, or share your location)",
  "  /settings plan 07:30        (when the daily plan arrives)",
  "  /settings daystart 4        (reports before 04:00 count for the previous day)",
  "  /settings sheet <Google Sheet link>   (a copy of your data there; “sheet off” stops it)",
  "  /settings sheet edits on    (what you type into the sheet comes back here; “off” stops it)",
  "  /settings token             (new ingest token: lets your scale or phone send your weight)",
  ...PLAN_SETTINGS_USAGE,
].join("\n");

/** The spreadsheet id from a Google Sheets link or a bare id; undefined when it is neither. */
export function sheetIdFrom(text: string): string | undefined {
  const fromUrl = /docs\.google\.com\/spreadsheets\/d\/([A-Za-z0-9_-]{20,})/.exec(text);
  if (fromUrl) return fromUrl[1];
  return /^[A-Za-z0-9_-]{20,100}$/.test(text.trim()) ? text.trim() : undefined;
}

/** What the settings list says about the linked sheet. */
function sheetStatus(person: User, config: AppConfig, sheetEdits: boolean): string {
  if (!person.sheetId) return "not linked";
  const link = `https://docs.google.com/spreadsheets/d/${person.sheetId}`;
  if (!config.google) {
    return `${link} (link saved; this server has no Google account set up, so nothing is copied)`;
  }
  return sheetEdits
    ? `${link} (kept up to date within a minute or two; what you type there comes back here — /settings sheet edits off stops it)`
    : `${link} (kept up to date within a minute or two; a copy — /settings sheet edits on lets you work in it)`;
}

function settingsText(person: User, now: Date, config: AppConfig, sheetEdits: boolean): string {
  return [
    "Your settings:",
    `• Time zone: ${describeZone(person.timezone, now)}`,
    `• Plan time: ${person.planTime}`,
    `• Day starts at: ${String(person.dayStartHour).padStart(2, "0")}:00 (reports before that count for the previous day)`,
    `• Google Sheet: ${sheetStatus(person, config, sheetEdits)}`,
    `• Ingest token: ${person.ingestTokenHash ? "set (shown only when created)" : "none yet"}`,
    ...planSettingsLines(person),
    "",
    SETTINGS_USAGE,
  ].join("\n");
}

/** Where people send measurements: the public origin of WEBHOOK_URL when there is one. */
function ingestAddress(config: AppConfig): string {
  return config.webhookUrl
    ? `${new URL(config.webhookUrl).origin}/ingest/weight`
    : "/ingest/weight on this bot's server (its admin knows the address)";
}

/** Shows the person a new ingest token; it replaces the previous one once it was sent. */
async function rotateToken(ctx: CoachContext, person: User): Promise<void> {
  await issueIngestToken(ctx.deps, person, async (token) => {
    await ctx.reply(tokenText(ctx, person, token));
  });
  ctx.log.info("ingest token rotated");
}

function tokenText(ctx: CoachContext, person: User, token: string): string {
  const previous = person.ingestTokenHash ? " The previous token no longer works." : "";
  const use =
    ctx.deps.config.telegramBotToken === undefined
      ? `This is local chat mode, which runs no HTTP server: import files with “npx coachrl import --telegram-id ${person.telegramId} FILE” (a scale's CSV export or an Apple Health export.zip; quit the chat first), or start the bot with a Telegram token to open the ingest endpoint for this token.`
      : `Your own tools can now send your weight with it: POST to ${ingestAddress(ctx.deps.config)} with the header “Authorization: Bearer <token>” and a JSON body like {"weight": 72.4, "unit": "kg", "measuredAt": "2026-11-30T07:10:00+01:00"}, a scale's CSV export or an Apple Health export.zip.`;
  return `Your new ingest token (shown only this once — copy it now):\n\n${token}\n\n${use} Treat it like a password.${previous}`;
}

async function handleSettings(ctx: CoachContext): Promise<void> {
  const person = await requirePerson(ctx);
  if (!person) return;
  const args = commandArgs(ctx);
  const [sub = "", ...rest] = args.split(/\s+/);
  const value = rest.join(" ").trim();
  switch (sub.toLowerCase()) {
    case "":
      await ctx.reply(
        settingsText(
          person,
          ctx.deps.now(),
          ctx.deps.config,
          await sheetEditsEnabled(ctx.deps, person),
        ),
        {
          reply_markup: {
            inline_keyboard: [
              [
                {
                  text: "🔑 New ingest token",
                  callback_data: encodeCallback({ kind: "rotate-token" }),
                },
              ],
            ],
          },
        },
      );
      return;
    case "timezone":
    case "tz":
    case "zone":
      if (value === "") {
        await ctx.reply(
          "Which time zone? e.g. /settings timezone Berlin, or /settings timezone +2",
        );
        return;
      }
      await applyTimezone(ctx, person, parseTimezone(value, ctx.deps.now()));
      return;
    case "plan":
    case "plantime":
    case "time": {
      const time = parseTimeOfDay(value);
      if (!time) {
        await ctx.reply(
          `“${value}” is not a time of day. Use e.g. /settings plan 07:30 or /settings plan 7am`,
        );
        return;
      }
      const problem = planTimeProblem(person, time);
      if (problem) {
        await ctx.reply(problem);
        return;
      }
      await changeSettings(ctx.deps, person, { planTime: time });
      await ctx.reply(`Plan time set to ${time} (${modernZone(person.timezone)}).`);
      return;
    }
    case "daystart":
    case "day": {
      const hour = Number(value.replace(/:00$/, ""));
      if (value === "" || !isChoosableDayStartHour(hour)) {
        await ctx.reply(
          `The day-start hour must be a whole hour from 0 to ${MAX_DAY_START_HOUR}, e.g. /settings daystart 4`,
        );
        return;
      }
      if (planTimeBeforeDayStart(person.planTime, hour)) {
        await ctx.reply(
          `Your plan comes at ${person.planTime}; a day starting at ${String(hour).padStart(2, "0")}:00 would make it yesterday's plan. Move the plan first (/settings plan ${String(hour).padStart(2, "0")}:30), then the start of your day.`,
        );
        return;
      }
      await changeSettings(ctx.deps, person, { dayStartHour: hour });
      await ctx.reply(
        `Your day now starts at ${String(hour).padStart(2, "0")}:00: what you report before then counts for the previous day.`,
      );
      return;
    }
    case "sheet": {
      const edits = /^edits?\s+(on|off)$/i.exec(value);
      if (edits) {
        const enabled = edits[1]!.toLowerCase() === "on";
        const outcome = await setSheetEdits(ctx.deps, person, enabled);
        await ctx.reply(
          outcome.kind === "no-sheet"
            ? "Link a Google Sheet first: /settings sheet <link>"
            : enabled
              ? "Edits in your sheet now come back here. New rows in Entries become entries, a changed amount becomes a correction, and you can change a habit's target, days/week and levels in Habits and today's amounts in Plans. I'll tell you here what I took; cells I can't read stay in the sheet with a note. If you change the same thing here and in the sheet before I sync, what you said here counts."
              : "Edits in your sheet no longer come back here; the sheet is a copy again (hand edits are overwritten).",
        );
        return;
      }
      if (/^(off|none|remove|unlink)$/i.test(value)) {
        await changeSettings(ctx.deps, person, { sheetId: null });
        await ctx.reply("Google Sheet unlinked. Your data stays here.");
        return;
      }
      const sheetId = sheetIdFrom(value);
      if (!sheetId) {
        await ctx.reply(
          "That doesn't look like a Google Sheet link. Paste the address of the sheet, e.g. /settings sheet https://docs.google.com/spreadsheets/d/…/edit",
        );
        return;
      }
      await changeSettings(ctx.deps, person, { sheetId });
      const shareWith = ctx.deps.config.google?.clientEmail;
      await ctx.reply(
        shareWith
          ? `Google Sheet linked (${sheetId}). Share it with ${shareWith} (Editor); within a minute or two I'll copy your habits, entries, daily amounts, EMAs and reward, plans, measurements and training runs into the tabs Habits, Entries, Daily, Plans, Metrics and Coach, and keep them up to date. Those tabs belong to me (hand edits are overwritten unless you turn on /settings sheet edits on), so keep your own notes in other tabs.`
          : `Google Sheet linked (${sheetId}). This server has no Google service account set up (GOOGLE_CLIENT_EMAIL, GOOGLE_PRIVATE_KEY), so nothing is copied until its admin adds one.`,
      );
      return;
    }
    case "capacity":
    case "minutes":
      await capacitySetting(ctx, person, value);
      return;
    case "checkin":
    case "check-in":
    case "evening":
      await checkInSetting(ctx, person, value);
      return;
    case "token":
    case "rotate":
      await rotateToken(ctx, person);
      return;
    default:
      await ctx.reply(`I don't know the setting “${sub}”.\n\n${SETTINGS_USAGE}`);
  }
}

/** /settings and its buttons. */
export const settingsCommand = new Composer<CoachContext>();
settingsCommand.command("settings", handleSettings);
settingsCommand.action(/^tok:/, async (ctx) => {
  const person = await requirePerson(ctx);
  if (!person) return;
  if (decodeCallback(callbackData(ctx))?.kind !== "rotate-token") {
    await ctx.answerCbQuery("This button is no longer valid.");
    return;
  }
  await ctx.answerCbQuery("New token below");
  await rotateToken(ctx, person);
});
