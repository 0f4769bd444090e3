// /habits: list (goals + current EMA), add, edit (target, days, levels, aliases, exclusive group,
// name), archive and restore. The use cases (src/app/habits.ts) check every habit rule with the
// coach core and store; this module reads the chat and words the outcome.
import { Composer } from "telegraf";
import {
  archiveHabit,
  editHabit,
  type HabitChange,
  habitsOverview,
  type RestoreHabitOutcome,
  restoreHabit,
} from "../../app/habits.js";
import type { User } from "../../generated/prisma/client.js";
import { callbackData, decodeCallback, encodeCallback } from "../callback-data.js";
import type { CoachContext } from "../context.js";
import { formatAmount, formatEma, formatGoal } from "../format.js";
import { HABIT_ADD_EXAMPLE, parseHabitDefinition, parseNumberList } from "../habit-definition.js";
import { addDraft, problemsText } from "../habit-drafts.js";
import { commandArgs, requirePerson } from "../person-guard.js";
import { askDays, startHabitWizard } from "./habit-wizard.js";

export const HABITS_USAGE = [
  "Manage habits:",
  `  ${HABIT_ADD_EXAMPLE}   (also: read 20 pages daily, floss 7/week)`,
  "  /habits edit run target 40",
  "  /habits edit run days 4",
  "  /habits edit run levels 0 20 40 60",
  "  /habits edit run aliases jog, jogging",
  "  /habits edit run group cardio   (one habit of a group per day; “group none” clears)",
  "  /habits edit run name running",
  "  /habits archive run · /habits restore run",
].join("\n");

const EDIT_FIELDS = ["target", "days", "levels", "aliases", "alias", "group", "name"] as const;
type EditField = (typeof EDIT_FIELDS)[number];

async function listText(ctx: CoachContext, person: User): Promise<string> {
  const { active, archived, emasToday } = await habitsOverview(ctx.deps, person);
  const lines: string[] = [];
  if (active.length === 0) {
    lines.push(`You have no active habits. Add one: ${HABIT_ADD_EXAMPLE}`);
  } else {
    lines.push("Your habits (EMA 1.00 = on goal):");
    for (const h of active) {
      const aliases = h.aliases.length > 0 ? ` [also: ${h.aliases.join(", ")}]` : "";
      const group = h.exclusiveGroup ? ` {group ${h.exclusiveGroup}}` : "";
      lines.push(
        `• ${h.name} — ${formatGoal(h)} · EMA ${formatEma(emasToday[String(h.id)])}${aliases}${group}`,
      );
    }
  }
  if (archived.length > 0) {
    lines.push("", `Archived: ${archived.map((h) => h.name).join(", ")} (/habits restore <name>)`);
  }
  lines.push("", HABITS_USAGE);
  return lines.join("\n");
}

async function addDefinition(ctx: CoachContext, person: User, definition: string): Promise<void> {
  const parsed = parseHabitDefinition(definition);
  if (!parsed.ok) {
    await ctx.reply(parsed.problem);
    return;
  }
  const draft = parsed.draft;
  if (draft.daysPerWeek === undefined) {
    // asked like the guided flow does: buttons, and a typed “daily” or “5” answers too
    await askDays(ctx, person, {
      name: draft.name,
      kind: draft.kind,
      unit: draft.unit,
      ...(draft.target !== undefined ? { target: draft.target } : {}),
    });
    return;
  }
  await addDraft(ctx, person, draft);
}

function splitEdit(args: string): { name: string; field: EditField; value: string } | undefined {
  const words = args.split(/\s+/);
  for (let i = 1; i < words.length; i++) {
    const w = words[i].toLowerCase();
    if ((EDIT_FIELDS as readonly string[]).includes(w)) {
      return {
        name: words.slice(0, i).join(" "),
        field: w as EditField,
        value: words
          .slice(i + 1)
          .join(" ")
          .trim(),
      };
    }
  }
  return undefined;
}

/** The new value of an edited field, or "unreadable". */
function readChange(field: EditField, value: string): HabitChange | "unreadable" {
  switch (field) {
    case "target": {
      const target = Number(value.replace(/\s*min$/i, "").replace(",", "."));
      return value === "" || !Number.isFinite(target) ? "unreadable" : { target };
    }
    case "days": {
      const days = /^(daily|every ?day)$/i.test(value)
        ? 7
        : Number(value.replace(/\/\s*week$/i, ""));
      return value === "" || !Number.isFinite(days) ? "unreadable" : { daysPerWeek: days };
    }
    case "levels": {
      const levels = parseNumberList(value);
      return levels ? { levels } : "unreadable";
    }
    case "alias":
    case "aliases":
      return {
        aliases: /^(none|-)$/i.test(value)
          ? []
          : value
              .split(",")
              .map((a) => a.trim())
              .filter((a) => a !== ""),
      };
    case "group":
      return { exclusiveGroup: /^(none|-|off)$/i.test(value) || value === "" ? null : value };
    case "name":
      return { name: value };
  }
}

/** What to say when the new value of `field` could not be read. */
function unreadableText(field: EditField, habitName: string): string {
  switch (field) {
    case "target":
      return `The new target must be a number, e.g. /habits edit ${habitName} target 40`;
    case "days":
      return `Days per week must be a number from 1 to 7, e.g. /habits edit ${habitName} days 4`;
    default:
      return `Levels are amounts separated by spaces or commas, starting at 0, e.g. /habits edit ${habitName} levels 0 15 30 45`;
  }
}

async function editCommand(ctx: CoachContext, person: User, args: string): Promise<void> {
  const edit = splitEdit(args);
  if (!edit) {
    await ctx.reply(
      `Tell me the habit, what to change and the new value, e.g. /habits edit run target 40\n\n${HABITS_USAGE}`,
    );
    return;
  }
  const outcome = await editHabit(ctx.deps, person, edit.name, readChange(edit.field, edit.value));
  switch (outcome.kind) {
    case "no-such-habit":
      await ctx.reply(`You have no habit called “${edit.name}”. /habits lists them.`);
      return;
    case "unreadable":
      await ctx.reply(unreadableText(edit.field, outcome.habit.name));
      return;
    case "invalid":
      await ctx.reply(problemsText(`I can't change ${outcome.habit.name}:`, outcome.problems));
      return;
    case "name-taken":
      await ctx.reply(`You already have a habit called “${edit.value}”.`);
      return;
    case "updated": {
      const updated = outcome.habit;
      const levels = updated.levels.map((l) => formatAmount(updated, l)).join(" / ");
      const aliases =
        updated.aliases.length > 0 ? `\nAlso known as: ${updated.aliases.join(", ")}` : "";
      const group = updated.exclusiveGroup ? `\nExclusive group: ${updated.exclusiveGroup}` : "";
      await ctx.reply(
        `Updated ${updated.name}: ${formatGoal(updated)}.\nPlannable amounts: ${levels}.${aliases}${group}\nChanges apply from the next plan.`,
      );
    }
  }
}

/** What restoring says, by button or by command. */
function restoreText(outcome: Exclude<RestoreHabitOutcome, { kind: "no-such-habit" }>): string {
  const { habit } = outcome;
  switch (outcome.kind) {
    case "already-active":
      return `${habit.name} is already active.`;
    case "invalid":
      return problemsText(`I can't restore ${habit.name}:`, outcome.problems);
    case "restored":
      return `Restored ${habit.name}: ${formatGoal(habit)}. It's back in your plans from the next one.`;
  }
}

async function archiveCommand(ctx: CoachContext, person: User, name: string, archive: boolean) {
  const verb = archive ? "archive" : "restore";
  if (name === "") {
    await ctx.reply(`Which habit? e.g. /habits ${verb} run`);
    return;
  }
  const outcome = archive
    ? await archiveHabit(ctx.deps, person, name)
    : await restoreHabit(ctx.deps, person, { name });
  switch (outcome.kind) {
    case "no-such-habit":
      await ctx.reply(`You have no habit called “${name}”. /habits lists them.`);
      return;
    case "already-archived":
      await ctx.reply(`${outcome.habit.name} is already archived.`);
      return;
    case "archived": {
      const { habit } = outcome;
      await ctx.reply(
        `Archived ${habit.name}. Its history is kept; it leaves your plans and stats. /habits restore ${habit.name} brings it back.`,
        {
          reply_markup: {
            inline_keyboard: [
              [
                {
                  text: `Undo: restore ${habit.name}`,
                  callback_data: encodeCallback({ kind: "habit-restore", habitId: habit.id }),
                },
              ],
            ],
          },
        },
      );
      return;
    }
    default:
      await ctx.reply(restoreText(outcome));
  }
}

async function handleHabits(ctx: CoachContext): Promise<void> {
  const person = await requirePerson(ctx);
  if (!person) return;
  const args = commandArgs(ctx);
  const [sub = "", ...rest] = args.split(/\s+/);
  const tail = rest.join(" ").trim();
  switch (sub.toLowerCase()) {
    case "":
    case "list":
      await ctx.reply(await listText(ctx, person));
      return;
    case "add":
    case "new":
      if (tail === "") await startHabitWizard(ctx);
      else await addDefinition(ctx, person, tail);
      return;
    case "edit":
    case "set":
      await editCommand(ctx, person, tail);
      return;
    case "archive":
    case "remove":
    case "delete":
      await archiveCommand(ctx, person, tail, true);
      return;
    case "restore":
    case "unarchive":
      await archiveCommand(ctx, person, tail, false);
      return;
    default:
      await ctx.reply(`I don't know “/habits ${sub}”.\n\n${HABITS_USAGE}`);
  }
}

/** /habits and its buttons. */
export const habitsCommand = new Composer<CoachContext>();
habitsCommand.command("habits", handleHabits);
habitsCommand.action(/^hr:/, async (ctx) => {
  const person = await requirePerson(ctx);
  if (!person) return;
  const action = decodeCallback(callbackData(ctx));
  if (action?.kind !== "habit-restore") {
    await ctx.answerCbQuery("This button is no longer valid.");
    return;
  }
  const outcome = await restoreHabit(ctx.deps, person, { habitId: action.habitId });
  if (outcome.kind === "no-such-habit") {
    await ctx.answerCbQuery("That habit is not yours or no longer exists.");
    return;
  }
  const text = restoreText(outcome);
  await ctx.answerCbQuery(text.slice(0, 200));
  await ctx.reply(text);
});
