// /help: short, with examples; and the command menu published with setMyCommands.
import { Composer } from "telegraf";
import { habitsOf } from "../../app/habits.js";
import type { Habit } from "../../generated/prisma/client.js";
import type { Logger } from "../../logger.js";
import type { CoachContext } from "../context.js";
import { reportExample } from "../format.js";

export const COMMAND_MENU: { command: string; description: string }[] = [
  { command: "plan", description: "Today's plan" },
  { command: "done", description: "Log what you did, e.g. /done run 30" },
  { command: "undo", description: "Undo your last entry" },
  { command: "intensity", description: "Easier or harder days: easy, normal, push" },
  { command: "habits", description: "List, add, edit, archive habits" },
  { command: "stats", description: "Charts of your progress" },
  { command: "weight", description: "Record or chart your weight" },
  { command: "metric", description: "Record or chart any measurement, e.g. waist" },
  { command: "settings", description: "Time zone, plan time, sheet, token" },
  { command: "export", description: "Download everything stored about you" },
  { command: "deleteme", description: "Delete all your data" },
  { command: "help", description: "How to use the coach" },
  { command: "start", description: "Set up or restart onboarding" },
];

export const HELP_TEXT = [
  "How it works: each day I plan a bit of each habit so your weekly goals are met without overdoing it. Tell me what you did and I keep the score (EMA: 1.00 = exactly on goal).",
  "",
  "Log what you did — just write it:",
  "  run 30          (30 minutes of run, today)",
  "  read 12 pages, floss",
  "  violin 15 yesterday · run 5km monday",
  "",
  "/plan — today's plan with buttons to tick things off, take one off today or change it (or write “skip run”, “run 20 instead”, “swap run swim”)",
  "/done — buttons for what's still planned; /done run 30 logs directly",
  "/undo — take back your last entry (/undo pick to choose one)",
  "/intensity easy|normal|push [N days] — lighter or harder plans for a while",
  "/habits — your habits; /habits add swim 45min 2/week",
  "/habits edit run target 40 · /habits archive run",
  "/settings — time zone, plan time, day start, Google Sheet, ingest token, daily capacity, evening check-in",
  "/stats 7|30|90|365 — charts · /weight 72.4 — record your weight",
  "/metric waist 81 cm — any other measurement",
  "/export — your data · /deleteme — delete everything",
  "",
  "Administrators: /status · /retrain · /runs (training runs; /runs ID with its curves)",
].join("\n");

/** The help text, its logging examples in the person's own habits and units when they have some. */
export function helpText(habits: Pick<Habit, "name" | "kind" | "target" | "unit">[]): string {
  if (habits.length === 0) return HELP_TEXT;
  const own = [
    `  ${reportExample(habits.slice(0, 1))}   (today)`,
    ...(habits.length > 1 ? [`  ${reportExample(habits.slice(0, 2))}`] : []),
    `  ${reportExample(habits.slice(-1))} yesterday`,
  ];
  const lines = HELP_TEXT.split("\n");
  const at = lines.indexOf("Log what you did — just write it:") + 1;
  return [...lines.slice(0, at), ...own, ...lines.slice(at + 3)].join("\n");
}

/** /help. */
export const helpCommand = new Composer<CoachContext>();
helpCommand.help(async (ctx) => {
  const habits = ctx.person ? await habitsOf(ctx.deps, ctx.person) : [];
  await ctx.reply(helpText(habits));
});

/** Publishes the command menu; a failure is logged, never fatal. */
export async function publishCommandMenu(
  telegram: { setMyCommands(commands: typeof COMMAND_MENU): Promise<unknown> },
  log: Logger,
): Promise<boolean> {
  try {
    await telegram.setMyCommands(COMMAND_MENU);
    return true;
  } catch (error) {
    log.warn({ err: error }, "could not publish the command menu (setMyCommands); continuing");
    return false;
  }
}
