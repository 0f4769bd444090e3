// /habits: list (goals + current EMA), add, edit (target, days, levels, aliases, exclusive group,
// name), archive and restore. Every habit rule is checked by the coach core (validateHabit,
// validateHabitSet); this module only reads the chat and stores the result.
import type { Telegraf } from "telegraf";
import { loadCoachState } from "../../app/coach-state.js";
import { defaultLevels, validateHabit, validateHabitSet } from "../../coach/index.js";
import {
  findHabitByName,
  HabitNameTakenError,
  habitSpecOf,
  listHabits,
  setHabitArchived,
  updateHabit,
} from "../../db/habits.js";
import type { Habit, User } from "../../generated/prisma/client.js";
import { callbackData, decodeCallback, encodeCallback } from "../callback-data.js";
import type { CoachContext } from "../context.js";
import { formatAmount, formatEma, formatGoal } from "../format.js";
import { HABIT_ADD_EXAMPLE, parseHabitDefinition, parseNumberList } from "../habit-definition.js";
import { addDraft, fieldsOf, problemsText } from "../habit-drafts.js";
import { commandArgs, requirePerson } from "../person-guard.js";
import { startHabitWizard } from "./habit-wizard.js";

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
  const state = await loadCoachState(ctx.deps.db, person, ctx.deps.now());
  const all = await listHabits(ctx.deps.db, person.id, { includeArchived: true });
  const active = all.filter((h) => !h.archivedAt);
  const archived = all.filter((h) => h.archivedAt);
  const lines: string[] = [];
  if (active.length === 0) {
    lines.push(`You have no active habits. Add one: ${HABIT_ADD_EXAMPLE}`);
  } else {
    lines.push("Your habits (EMA 1.00 = on goal):");
    for (const h of active) {
      const aliases = h.aliases.length > 0 ? ` [also: ${h.aliases.join(", ")}]` : "";
      const group = h.exclusiveGroup ? ` {group ${h.exclusiveGroup}}` : "";
      lines.push(
        `• ${h.name} — ${formatGoal(h)} · EMA ${formatEma(state.emasToday[String(h.id)])}${aliases}${group}`,
      );
    }
  }
  if (archived.length > 0) {
    lines.push("", `Archived: ${archived.map((h) => h.name).join(", ")} (/habits restore <name>)`);
  }
  lines.push("", HABITS_USAGE);
  return lines.join("\n");
}

async function addHabit(ctx: CoachContext, person: User, definition: string): Promise<void> {
  const parsed = parseHabitDefinition(definition);
  if (!parsed.ok) {
    await ctx.reply(parsed.problem);
    return;
  }
  const draft = parsed.draft;
  if (draft.daysPerWeek === undefined) {
    await ctx.reply(
      `How many days a week for “${draft.name}”? Add it like “5/week” or “daily”, e.g. /habits add ${definition} 5/week`,
    );
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

async function editHabit(ctx: CoachContext, person: User, args: string): Promise<void> {
  const edit = splitEdit(args);
  if (!edit) {
    await ctx.reply(
      `Tell me the habit, what to change and the new value, e.g. /habits edit run target 40\n\n${HABITS_USAGE}`,
    );
    return;
  }
  const habit = await findHabitByName(ctx.deps.db, person.id, edit.name);
  if (!habit) {
    await ctx.reply(`You have no habit called “${edit.name}”. /habits lists them.`);
    return;
  }
  const spec = habitSpecOf(habit);
  const input: Record<string, unknown> = { ...spec };
  const value = edit.value;
  switch (edit.field) {
    case "target": {
      const target = Number(value.replace(/\s*min$/i, "").replace(",", "."));
      if (value === "" || !Number.isFinite(target)) {
        await ctx.reply(
          `The new target must be a number, e.g. /habits edit ${habit.name} target 40`,
        );
        return;
      }
      input.target = target;
      // Levels that were the defaults follow the target; hand-set levels stay.
      const wereDefault =
        JSON.stringify(spec.levels) === JSON.stringify(defaultLevels(spec.kind, spec.target));
      if (wereDefault) input.levels = undefined;
      break;
    }
    case "days": {
      const days = /^(daily|every ?day)$/i.test(value)
        ? 7
        : Number(value.replace(/\/\s*week$/i, ""));
      if (value === "" || !Number.isFinite(days)) {
        await ctx.reply(
          `Days per week must be a number from 1 to 7, e.g. /habits edit ${habit.name} days 4`,
        );
        return;
      }
      input.daysPerWeek = days;
      break;
    }
    case "levels": {
      const levels = parseNumberList(value);
      if (!levels) {
        await ctx.reply(
          `Levels are amounts separated by spaces or commas, starting at 0, e.g. /habits edit ${habit.name} levels 0 15 30 45`,
        );
        return;
      }
      input.levels = levels;
      break;
    }
    case "alias":
    case "aliases":
      input.aliases = /^(none|-)$/i.test(value)
        ? []
        : value
            .split(",")
            .map((a) => a.trim())
            .filter((a) => a !== "");
      break;
    case "group":
      input.exclusiveGroup = /^(none|-|off)$/i.test(value) || value === "" ? null : value;
      break;
    case "name":
      input.name = value;
      break;
  }
  const result = validateHabit(input);
  if (!result.ok) {
    await ctx.reply(problemsText(`I can't change ${habit.name}:`, result.problems));
    return;
  }
  const others = (await listHabits(ctx.deps.db, person.id))
    .filter((h) => h.id !== habit.id)
    .map(habitSpecOf);
  const setProblems = validateHabitSet([...others, result.habit]);
  if (setProblems.length > 0) {
    await ctx.reply(problemsText(`I can't change ${habit.name}:`, setProblems));
    return;
  }
  try {
    const updated = await updateHabit(ctx.deps.db, habit.id, fieldsOf(result.habit));
    const levels = updated.levels.map((l) => formatAmount(updated, l)).join(" / ");
    const aliases =
      updated.aliases.length > 0 ? `\nAlso known as: ${updated.aliases.join(", ")}` : "";
    const group = updated.exclusiveGroup ? `\nExclusive group: ${updated.exclusiveGroup}` : "";
    await ctx.reply(
      `Updated ${updated.name}: ${formatGoal(updated)}.\nPlannable amounts: ${levels}.${aliases}${group}\nChanges apply from the next plan.`,
    );
  } catch (error) {
    if (error instanceof HabitNameTakenError) {
      await ctx.reply(`You already have a habit called “${value}”.`);
      return;
    }
    throw error;
  }
}

async function archiveOrRestore(
  ctx: CoachContext,
  person: User,
  habit: Habit,
  archive: boolean,
): Promise<string> {
  if (archive === (habit.archivedAt !== null)) {
    return archive ? `${habit.name} is already archived.` : `${habit.name} is already active.`;
  }
  if (!archive) {
    const active = (await listHabits(ctx.deps.db, person.id)).map(habitSpecOf);
    const problems = validateHabitSet([...active, habitSpecOf(habit)]);
    if (problems.length > 0) return problemsText(`I can't restore ${habit.name}:`, problems);
  }
  await setHabitArchived(ctx.deps.db, habit, archive, ctx.deps.now());
  return archive
    ? `Archived ${habit.name}. Its history is kept; it leaves your plans and stats. /habits restore ${habit.name} brings it back.`
    : `Restored ${habit.name}: ${formatGoal(habit)}. It's back in your plans from the next one.`;
}

async function archiveCommand(ctx: CoachContext, person: User, name: string, archive: boolean) {
  const verb = archive ? "archive" : "restore";
  if (name === "") {
    await ctx.reply(`Which habit? e.g. /habits ${verb} run`);
    return;
  }
  const habit = await findHabitByName(ctx.deps.db, person.id, name);
  if (!habit) {
    await ctx.reply(`You have no habit called “${name}”. /habits lists them.`);
    return;
  }
  const text = await archiveOrRestore(ctx, person, habit, archive);
  const keyboard =
    archive && text.startsWith("Archived")
      ? [
          [
            {
              text: `Undo: restore ${habit.name}`,
              callback_data: encodeCallback({ kind: "habit-restore", habitId: habit.id }),
            },
          ],
        ]
      : [];
  await ctx.reply(text, keyboard.length > 0 ? { reply_markup: { inline_keyboard: keyboard } } : {});
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
      else await addHabit(ctx, person, tail);
      return;
    case "edit":
    case "set":
      await editHabit(ctx, person, tail);
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

export function register(bot: Telegraf<CoachContext>): void {
  bot.command("habits", handleHabits);
  bot.action(/^hr:/, async (ctx) => {
    const person = await requirePerson(ctx);
    if (!person) return;
    const action = decodeCallback(callbackData(ctx));
    if (action?.kind !== "habit-restore") {
      await ctx.answerCbQuery("This button is no longer valid.");
      return;
    }
    const habit = (await listHabits(ctx.deps.db, person.id, { includeArchived: true })).find(
      (h) => h.id === action.habitId,
    );
    if (!habit) {
      await ctx.answerCbQuery("That habit is not yours or no longer exists.");
      return;
    }
    const text = await archiveOrRestore(ctx, person, habit, false);
    await ctx.answerCbQuery(text.slice(0, 200));
    await ctx.reply(text);
  });
}
