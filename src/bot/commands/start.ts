// /start and onboarding: register (idempotent), time zone (city, UTC offset or shared location),
// plan time, then a starter set of habits or the person's own. Progress is derived from the
// stored person (no in-memory conversation state), so it survives restarts.
import { Composer } from "telegraf";
import { message } from "telegraf/filters";
import type { InlineKeyboardButton } from "telegraf/types";
import { hasHabits } from "../../app/habits.js";
import {
  changeSettings,
  finishOnboarding,
  registerPerson,
  STARTER_HABITS,
} from "../../app/people.js";
import type { User } from "../../generated/prisma/client.js";
import { callbackData, decodeCallback, encodeCallback } from "../callback-data.js";
import type { CoachContext } from "../context.js";
import { formatGoal } from "../format.js";
import { HABIT_ADD_EXAMPLE } from "../habit-definition.js";
import { requirePerson } from "../person-guard.js";
import {
  describeZone,
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
      `Welcome back, ${user.displayName}! You're all set (${user.timezone}, plan at ${user.planTime}).\n` +
        "Try /plan for today's plan, or just tell me what you did, e.g. “run 30”. /help lists everything.",
    );
    return;
  }
  await ctx.reply(
    `Hi ${from.first_name}! I'm CoachRL, your habit coach. Each morning I plan a little of each habit so you reach your weekly goals without burning out; you tell me what you did and I keep score.\n\n${ASK_TIMEZONE}`,
  );
}

async function askPlanTime(ctx: CoachContext, person: User): Promise<void> {
  await ctx.reply(
    `Time zone set: ${describeZone(person.timezone, ctx.deps.now())}.\n\nWhen should I send your daily plan? Tap a time or type one (e.g. 06:45).`,
    { reply_markup: { inline_keyboard: planTimeKeyboard() } },
  );
}

async function applyTimezone(
  ctx: CoachContext,
  person: User,
  answer: TimezoneAnswer,
): Promise<void> {
  if (!answer.ok) {
    await ctx.reply(answer.problem);
    return;
  }
  const updated = await changeSettings(ctx.deps, person, { timezone: answer.zone });
  ctx.person = updated;
  if (!updated.onboardedAt) {
    await askPlanTime(ctx, updated);
    return;
  }
  const note =
    answer.how === "offset" || (answer.how === "location" && answer.zone.startsWith("Etc/"))
      ? " (a fixed offset: no daylight-saving changes — send your city instead if you have them)"
      : "";
  await ctx.reply(`Time zone set: ${describeZone(answer.zone, ctx.deps.now())}${note}.`);
}

async function applyPlanTime(ctx: CoachContext, person: User, time: string): Promise<void> {
  const updated = await changeSettings(ctx.deps, person, { planTime: time });
  ctx.person = updated;
  if (updated.onboardedAt) {
    await ctx.reply(`I'll send your plan at ${time} (${updated.timezone}).`);
    return;
  }
  await ctx.reply(
    `Plan time: ${time}. Last step: which habits shall we track?\n\nStarter set:\n${STARTER_HABITS.map(
      (h) => `• ${h.name} — ${formatGoal(h)}`,
    ).join("\n")}\n\nOr add your own, like ${HABIT_ADD_EXAMPLE}`,
    { reply_markup: { inline_keyboard: starterKeyboard() } },
  );
}

async function onboardingDone(ctx: CoachContext, person: User, choice: "starter" | "own") {
  const { person: updated, habits } = await finishOnboarding(ctx.deps, person, choice);
  ctx.person = updated;
  const list =
    habits.length === 0
      ? `You have no habits yet. Add one: ${HABIT_ADD_EXAMPLE}`
      : `Your habits:\n${habits.map((h) => `• ${h.name} — ${formatGoal(h)}`).join("\n")}`;
  await ctx.reply(
    `${list}\n\nYou're set up! Ask for /plan any time; tell me what you did (“walk 25”, “read 12 pages yesterday”); /undo fixes mistakes; /help shows everything.`,
  );
}

/** During onboarding a bare hour ("7") also answers the plan-time question. */
function onboardingTime(text: string): string | undefined {
  const hour = /^\s*(\d{1,2})\s*$/.exec(text)?.[1];
  if (hour !== undefined && Number(hour) <= 23) return `${hour.padStart(2, "0")}:00`;
  return parseTimeOfDay(text);
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
  const zone = parseTimezone(text);
  if (!zone.ok && timezoneAnswered(person)) {
    // Past the first question, anything that is neither a place nor a time is most likely the
    // person trying to use the bot already ("run 30"): say where setup stands and how to finish.
    await ctx.reply(
      `I couldn't read “${text.trim().slice(0, 40)}” as a place or a time — we're not quite done setting up.\n` +
        `Time zone: ${describeZone(person.timezone, ctx.deps.now())}; plan time: ${person.planTime} (send a city or a time like 07:30 to change them).\n\n` +
        "Last step: which habits shall we track?",
      { reply_markup: { inline_keyboard: starterKeyboard() } },
    );
    return;
  }
  await applyTimezone(ctx, person, zone);
}

/**
 * Whether the person already answered the time-zone question: their row was changed after it
 * was created (registration writes nothing else until a setting changes).
 */
function timezoneAnswered(person: User): boolean {
  return person.updatedAt.getTime() > person.createdAt.getTime();
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
  await applyPlanTime(ctx, person, action.time);
});

startCommand.action(/^st:/, async (ctx) => {
  const person = await requirePerson(ctx);
  if (!person) return;
  const action = decodeCallback(callbackData(ctx));
  if (action?.kind !== "starter") {
    await ctx.answerCbQuery("This button is no longer valid.");
    return;
  }
  if (person.onboardedAt) {
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
  if (!onboardingTime(text) && !parseTimezone(text).ok) {
    if (await hasHabits(ctx.deps, person)) return next();
  }
  await answerOnboarding(ctx, person, text);
});
