// /start and onboarding: register (idempotent), time zone (city, UTC offset or shared location),
// plan time, then a starter set of habits or the person's own. Progress is derived from the
// stored person (no in-memory conversation state), so it survives restarts.
import { Composer } from "telegraf";
import { message } from "telegraf/filters";
import type { InlineKeyboardButton } from "telegraf/types";
import { habitsOf, hasHabits } from "../../app/habits.js";
import {
  changeSettings,
  completeOnboarding,
  finishOnboarding,
  onboardingStep,
  registerPerson,
  STARTER_HABITS,
} from "../../app/people.js";
import { askQuestion, closeQuestion } from "../../app/questions.js";
import {
  isValidTimeZone,
  planTimeBeforeDayStart,
  withoutControlCharacters,
  type ZoneChoice,
} from "../../coach/index.js";
import type { User } from "../../generated/prisma/client.js";
import { callbackData, decodeCallback, encodeCallback } from "../callback-data.js";
import type { CoachContext } from "../context.js";
import { formatGoal, reportExample } from "../format.js";
import { HABIT_ADD_EXAMPLE } from "../habit-definition.js";
import { requirePerson } from "../person-guard.js";
import { editQuietly } from "../telegram-edits.js";
import {
  describeZone,
  isFixedOffsetZone,
  modernZone,
  parseTimeOfDay,
  parseTimezone,
  type TimezoneAnswer,
  timezoneFromLocation,
} from "../timezone-input.js";

const PLAN_TIME_CHOICES = ["06:30", "07:30", "08:30", "12:00"];

export const ASK_TIMEZONE =
  "First, where are you? Send your city (e.g. Berlin), a UTC offset (e.g. +2 or UTC-5), or share your location (📎 → Location).";

function planTimeKeyboard(): InlineKeyboardButton[][] {
  return [
    PLAN_TIME_CHOICES.map((time) => ({
      text: time,
      callback_data: encodeCallback({ kind: "plan-time", time }),
    })),
  ];
}

function starterKeyboard(): InlineKeyboardButton[][] {
  return [
    [
      {
        text: "Use the starter set",
        callback_data: encodeCallback({ kind: "starter", choice: "starter" }),
      },
    ],
    [
      {
        text: "I'll add my own",
        callback_data: encodeCallback({ kind: "starter", choice: "own" }),
      },
    ],
  ];
}

/** The person's first name for a greeting; nothing when Telegram has none worth using. */
function greetingName(ctx: CoachContext, before = ""): string {
  const name = withoutControlCharacters(ctx.from?.first_name ?? "").trim();
  return name === "" ? "" : `${before} ${name.slice(0, 40)}`;
}

/** How to use the bot, with examples from the person's own habits. */
async function howToUse(ctx: CoachContext, person: User): Promise<string> {
  const habits = await habitsOf(ctx.deps, person);
  const example = habits.length > 0 ? reportExample(habits) : undefined;
  return example
    ? `Ask for /plan any time; tell me what you did (“${example}”, add “yesterday” for another day); /undo fixes mistakes; /help shows everything.`
    : `Add a habit (${HABIT_ADD_EXAMPLE}), then ask for /plan any time; /help shows everything.`;
}

/** The plan time, said so that a default is not mistaken for the person's choice. */
function planTimeText(person: User): string {
  const zone = modernZone(person.timezone);
  return person.planTimeChosenAt
    ? `at ${person.planTime} (${zone})`
    : `at ${person.planTime} (${zone}) — tap another time or type one (e.g. 06:45) if that doesn't suit you`;
}

/** Onboarding just finished (the person has a time zone and a habit): say so, once. */
async function sayOnboarded(ctx: CoachContext, person: User, intro = ""): Promise<void> {
  if (!person.planTimeChosenAt) await askQuestion(ctx.deps, person, { kind: "plan-time" });
  await ctx.reply(
    `${intro}You're set up! I'll send your plan each morning ${planTimeText(person)}.\n\n${await howToUse(ctx, person)}`,
    person.planTimeChosenAt ? {} : { reply_markup: { inline_keyboard: planTimeKeyboard() } },
  );
}

async function askHabits(ctx: CoachContext, intro: string): Promise<void> {
  await ctx.reply(
    `${intro}Last step: which habits shall we track?\n\nStarter set:\n${STARTER_HABITS.map(
      (h) => `• ${h.name} — ${formatGoal(h)}`,
    ).join("\n")}\n\nOr add your own, like ${HABIT_ADD_EXAMPLE}`,
    { reply_markup: { inline_keyboard: starterKeyboard() } },
  );
}

/** Asks the person's next onboarding question (or finishes onboarding when nothing is missing). */
async function continueOnboarding(ctx: CoachContext, person: User, intro = ""): Promise<void> {
  const { person: updated, onboarded } = await completeOnboarding(ctx.deps, person);
  ctx.person = updated;
  if (onboarded) {
    await sayOnboarded(ctx, updated, intro);
    return;
  }
  switch (onboardingStep(updated)) {
    case "timezone":
      await ctx.reply(`${intro}${ASK_TIMEZONE}`);
      return;
    case "plan-time":
      await askPlanTime(ctx, updated, intro);
      return;
    case "habits":
      await askHabits(ctx, intro);
      return;
    case "done":
      return;
  }
}

async function handleStart(ctx: CoachContext): Promise<void> {
  const from = ctx.from;
  const chat = ctx.chat;
  if (!from || !chat) return;
  const { person: user, created } = await registerPerson(ctx.deps, {
    telegramId: BigInt(from.id),
    chatId: BigInt(chat.id),
    displayName: [from.first_name, from.last_name].filter(Boolean).join(" ").slice(0, 100),
  });
  ctx.person = user;
  ctx.log.info({ created, user_id: user.id }, "person started the bot");
  if (user.onboardedAt) {
    await ctx.reply(
      `Welcome back${greetingName(ctx, ",")}! You're all set (${modernZone(user.timezone)}, plan at ${user.planTime}).\n${await howToUse(ctx, user)}`,
    );
    return;
  }
  if (onboardingStep(user) === "timezone") {
    await ctx.reply(
      `Hi${greetingName(ctx)}! I'm CoachRL, your habit coach. Each morning I plan a little of each habit so you reach your weekly goals without burning out; you tell me what you did and I keep score.\n\n${ASK_TIMEZONE}`,
    );
    return;
  }
  // Part of the way through: carry on where they left off, never from the first question.
  await continueOnboarding(ctx, user, `Welcome back${greetingName(ctx, ",")}! `);
}

async function askPlanTime(ctx: CoachContext, person: User, intro = ""): Promise<void> {
  await askQuestion(ctx.deps, person, { kind: "plan-time" });
  await ctx.reply(
    `${intro}Time zone: ${describeZone(person.timezone, ctx.deps.now())}.\n\nWhen should I send your daily plan? Tap a time or type one (e.g. 06:45).`,
    { reply_markup: { inline_keyboard: planTimeKeyboard() } },
  );
}

/** Buttons for the zones of a country that has several. */
function zoneChoiceKeyboard(choices: ZoneChoice[], now: Date): InlineKeyboardButton[][] {
  return choices.map((c) => [
    {
      text: `${c.city} — ${describeZone(c.zone, now)}`,
      callback_data: `${ZONE_CHOICE_PREFIX}${c.zone}`,
    },
  ]);
}

/** Callback data of a zone choice button: "tz:" + the IANA name (at most 64 bytes in all). */
const ZONE_CHOICE_PREFIX = "tz:";

async function applyTimezone(
  ctx: CoachContext,
  person: User,
  answer: TimezoneAnswer,
): Promise<void> {
  if (!answer.ok) {
    if ("choices" in answer) await askQuestion(ctx.deps, person, { kind: "timezone" });
    await ctx.reply(
      answer.problem,
      "choices" in answer
        ? { reply_markup: { inline_keyboard: zoneChoiceKeyboard(answer.choices, ctx.deps.now()) } }
        : {},
    );
    return;
  }
  const updated = await changeSettings(ctx.deps, person, { timezone: answer.zone });
  ctx.person = updated;
  const read = answer.correctedTo ? `I read that as ${answer.correctedTo}. ` : "";
  if (!updated.onboardedAt) {
    await continueOnboarding(ctx, updated, read);
    return;
  }
  const note = isFixedOffsetZone(answer.zone)
    ? " (a fixed offset: no daylight-saving changes — send your city instead if you have them)"
    : "";
  await ctx.reply(`${read}Time zone set: ${describeZone(answer.zone, ctx.deps.now())}${note}.`);
}

/** Why a plan time can't be used with the person's day-start hour, or undefined when it can. */
export function planTimeProblem(person: User, time: string): string | undefined {
  if (!planTimeBeforeDayStart(time, person.dayStartHour)) return undefined;
  const dayStart = `${String(person.dayStartHour).padStart(2, "0")}:00`;
  return `Your day starts at ${dayStart}, so a plan at ${time} would still be yesterday's plan. Pick a time from ${dayStart} on, or move the start of your day first (/settings daystart ${Number(time.slice(0, 2))}).`;
}

async function applyPlanTime(ctx: CoachContext, person: User, time: string): Promise<void> {
  const problem = planTimeProblem(person, time);
  if (problem) {
    await ctx.reply(problem);
    return;
  }
  const updated = await changeSettings(ctx.deps, person, { planTime: time });
  ctx.person = updated;
  if (updated.onboardedAt) {
    await ctx.reply(`I'll send your plan at ${time} (${modernZone(updated.timezone)}).`);
    return;
  }
  await continueOnboarding(ctx, updated, `Plan time: ${time}. `);
}

async function onboardingDone(ctx: CoachContext, person: User, choice: "starter" | "own") {
  const { person: updated, habits } = await finishOnboarding(ctx.deps, person, choice);
  ctx.person = updated;
  const list =
    habits.length === 0
      ? `You have no habits yet. Add one: ${HABIT_ADD_EXAMPLE}`
      : `Your habits:\n${habits.map((h) => `• ${h.name} — ${formatGoal(h)}`).join("\n")}`;
  await ctx.reply(`${list}\n\nYou're set up! ${await howToUse(ctx, updated)}`);
}

/**
 * After a habit was added by someone who is not onboarded yet: onboarded now (they have a time
 * zone), or the question still open.
 */
export async function afterHabitAdded(ctx: CoachContext, person: User): Promise<void> {
  if (person.onboardedAt) return;
  const { person: updated, onboarded } = await completeOnboarding(ctx.deps, person);
  ctx.person = updated;
  if (onboarded) await sayOnboarded(ctx, updated);
  else if (onboardingStep(updated) === "timezone") {
    await ctx.reply(`One more thing before your morning plans. ${ASK_TIMEZONE}`);
  }
}

/** At the plan-time question a bare hour ("7") is a time too. */
export function onboardingTime(text: string): string | undefined {
  const hour = /^\s*(\d{1,2})\s*$/.exec(text)?.[1];
  if (hour !== undefined && Number(hour) <= 23) return `${hour.padStart(2, "0")}:00`;
  return parseTimeOfDay(text);
}

/** A typed answer to "which habits shall we track?" (the two buttons' words, yes/no). */
function starterAnswer(text: string): "starter" | "own" | undefined {
  const t = text
    .toLowerCase()
    .replace(/[^a-z' ]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  if (/^((use )?the starter( set)?|starter( set)?|yes|ok|sure)$/.test(t)) return "starter";
  if (/^((i'?ll )?add my own|my own|own|none|no|i'?ll add them( myself)?)$/.test(t)) return "own";
  return undefined;
}

/**
 * A place typed during onboarding. Past the time-zone question only an exact place counts (a
 * stray word read as a misspelt town must not move the person's time zone).
 */
function onboardingPlace(person: User, text: string, now: Date): TimezoneAnswer {
  const zone = parseTimezone(text, now);
  if (zone.ok && zone.correctedTo && onboardingStep(person) !== "timezone") {
    return { ok: false, problem: "not an exact place" };
  }
  return zone;
}

/** Text answers during onboarding: a time → plan time, anything else → a time zone. */
export async function answerOnboarding(
  ctx: CoachContext,
  person: User,
  text: string,
): Promise<void> {
  const time = onboardingTime(text);
  if (time) {
    await applyPlanTime(ctx, person, time);
    return;
  }
  const step = onboardingStep(person);
  const starter = step === "habits" ? starterAnswer(text) : undefined;
  if (starter) {
    await onboardingDone(ctx, person, starter);
    return;
  }
  const zone = onboardingPlace(person, text, ctx.deps.now());
  const quoted = `“${text.trim().slice(0, 40)}”`;
  if (!zone.ok && !("choices" in zone) && step === "plan-time") {
    await ctx.reply(
      `I couldn't read ${quoted} as a time. When should I send your daily plan? Tap a time or type one (e.g. 06:45).`,
      { reply_markup: { inline_keyboard: planTimeKeyboard() } },
    );
    return;
  }
  if (!zone.ok && !("choices" in zone) && step === "habits") {
    // Past the first questions, anything that is neither a place nor a time is most likely the
    // person trying to use the bot already ("run 30"): say where setup stands and how to finish.
    await askHabits(
      ctx,
      `I couldn't read ${quoted} as a place or a time — we're not quite done setting up.\n` +
        `Time zone: ${describeZone(person.timezone, ctx.deps.now())}; plan time: ${person.planTime} (send a city or a time like 07:30 to change them).\n\n`,
    );
    return;
  }
  await applyTimezone(ctx, person, zone);
}

export { applyPlanTime, applyTimezone };

/** /start, a shared location and the onboarding buttons. */
export const startCommand = new Composer<CoachContext>();
startCommand.start(handleStart);

startCommand.on(message("location"), async (ctx) => {
  const person = await requirePerson(ctx);
  if (!person) return;
  const { latitude, longitude } = ctx.message.location;
  await applyTimezone(ctx, person, timezoneFromLocation(latitude, longitude));
});

startCommand.action(/^pt:/, async (ctx) => {
  const person = await requirePerson(ctx);
  if (!person) return;
  const action = decodeCallback(callbackData(ctx));
  if (action?.kind !== "plan-time") {
    await ctx.answerCbQuery("This button is no longer valid.");
    return;
  }
  await ctx.answerCbQuery(`Plan time ${action.time}`);
  await closeQuestion(ctx.deps, person);
  await applyPlanTime(ctx, person, action.time);
});

startCommand.action(/^tz:/, async (ctx) => {
  const person = await requirePerson(ctx);
  if (!person) return;
  const chosen = callbackData(ctx).slice(ZONE_CHOICE_PREFIX.length);
  const zone = modernZone(chosen);
  if (!isValidTimeZone(chosen)) {
    await ctx.answerCbQuery("This button is no longer valid.");
    return;
  }
  await ctx.answerCbQuery(modernZone(zone));
  await editQuietly(ctx, undefined, []);
  await closeQuestion(ctx.deps, person);
  await applyTimezone(ctx, person, { ok: true, zone, how: "country" });
});

startCommand.action(/^st:/, async (ctx) => {
  const person = await requirePerson(ctx);
  if (!person) return;
  const action = decodeCallback(callbackData(ctx));
  if (action?.kind !== "starter") {
    await ctx.answerCbQuery("This button is no longer valid.");
    return;
  }
  if (person.onboardedAt && action.choice === "own") {
    await ctx.answerCbQuery("You're already set up — see /habits.");
    return;
  }
  await ctx.answerCbQuery();
  await onboardingDone(ctx, person, action.choice);
});

/** Installed after every command: text from someone who is still onboarding. */
export const onboardingAnswers = new Composer<CoachContext>();
onboardingAnswers.on(message("text"), async (ctx, next) => {
  const person = ctx.person;
  if (!person || person.onboardedAt || ctx.message.text.startsWith("/")) return next();
  const text = ctx.message.text;
  // Someone who added habits before finishing onboarding may already be reporting.
  if (!onboardingTime(text) && !onboardingPlace(person, text, ctx.deps.now()).ok) {
    if (await hasHabits(ctx.deps, person)) return next();
  }
  await answerOnboarding(ctx, person, text);
});
