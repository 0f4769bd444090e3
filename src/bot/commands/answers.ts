// Typed answers to the bot's open question (app/questions.ts): "daily" after "How many days a
// week for meditate?", "6:45" after "When should I send your daily plan?", "Sydney" after
// "Which of Australia's time zones?", "yes" after "Store 30 km of run?", "2" after "Which entry
// shall I undo?". Installed before the catch-alls; text that is no answer to the open question
// closes it and passes on (a report, an onboarding answer).
import { Composer } from "telegraf";
import { message } from "telegraf/filters";
import { closeQuestion, openQuestionOf } from "../../app/questions.js";
import type { CoachContext } from "../context.js";
import { parseTimezone } from "../timezone-input.js";
import { answerReportConfirmation } from "./done.js";
import { answerHabitQuestion } from "./habit-wizard.js";
import { applyPlanTime, applyTimezone, onboardingTime } from "./start.js";
import { answerUndoPick } from "./undo.js";

export const openQuestionAnswers = new Composer<CoachContext>();
openQuestionAnswers.on(message("text"), async (ctx, next) => {
  const person = ctx.person;
  const text = ctx.message.text;
  if (!person || text.startsWith("/")) return next();
  const question = openQuestionOf(person, ctx.deps.now());
  if (!question) return next();
  // answered or moved on from: either way the question is closed (a new one may follow)
  await closeQuestion(ctx.deps, person);
  const updated = { ...person, openQuestion: null, openQuestionAt: null };
  ctx.person = updated;
  switch (question.kind) {
    case "plan-time": {
      const time = onboardingTime(text);
      if (time === undefined) return next();
      await applyPlanTime(ctx, updated, time);
      return;
    }
    case "timezone": {
      const zone = parseTimezone(text, ctx.deps.now());
      if (!zone.ok && !("choices" in zone)) return next();
      await applyTimezone(ctx, updated, zone);
      return;
    }
    case "confirm-report":
      if (!(await answerReportConfirmation(ctx, updated, question, text))) return next();
      return;
    case "undo-pick":
      if (!(await answerUndoPick(ctx, updated, question, text))) return next();
      return;
    default:
      if (!(await answerHabitQuestion(ctx, updated, question, text))) return next();
  }
});
