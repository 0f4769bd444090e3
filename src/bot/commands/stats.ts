// /stats [7…365 days, or week|month|year]: a chart of each habit's EMA (goal line at 1) and the
// daily reward, plus a short summary. EMAs come from the coach core's emaSeries over the stored, non-retracted
// entries, recomputed with a warm-up so the first day of the window is already right.
import { Composer, Input } from "telegraf";
import {
  currentStreak,
  type HabitHistory,
  hasActiveHabits,
  longestRun,
  personProgress,
  type StatsWindow,
} from "../../app/charts/stats.js";
import type { LocalDate } from "../../coach/days.js";
import type { CoachContext } from "../context.js";
import { formatDate } from "../format.js";
import { commandArgs, requirePerson } from "../person-guard.js";
/** /stats takes any whole number of days from MIN to MAX (and week, month, quarter, year). */
export const MIN_STATS_DAYS = 7;
export const MAX_STATS_DAYS = 365;

const PERIOD_WORDS: Record<string, number> = {
  week: 7,
  fortnight: 14,
  month: 30,
  quarter: 90,
  year: 365,
};

/** "" → 30; "90", "7 days", "week", "year" → days; anything else → the message to send. */
export function parseStatsPeriod(
  args: string,
): { ok: true; days: number } | { ok: false; message: string } {
  const text = args
    .trim()
    .toLowerCase()
    .replace(/^(the\s+)?(last|past)\s+/, "")
    .replace(/^(a|one)\s+/, "")
    .replace(/\s*(d|days?)$/i, "");
  if (text === "") return { ok: true, days: 30 };
  const word = PERIOD_WORDS[text];
  if (word !== undefined) return { ok: true, days: word };
  const n = Number(text);
  if (Number.isInteger(n) && n >= MIN_STATS_DAYS && n <= MAX_STATS_DAYS)
    return { ok: true, days: n };
  return {
    ok: false,
    message: `I can show the last ${MIN_STATS_DAYS} to ${MAX_STATS_DAYS} days (e.g. /stats 7, /stats 90, /stats year), not "${args.trim().slice(0, 40)}".`,
  };
}

const fmt2 = (x: number) => x.toFixed(2);

/**
 * An EMA this close to the goal counts as "on goal" for the summary's streak: an EMA only
 * approaches 1 asymptotically when the habit is done exactly as planned.
 */
export const ON_GOAL_EMA = 0.95;

/** The text under the chart: reward, logging streak, best and weakest habit, per-habit EMAs. */
export function statsSummary(
  habits: HabitHistory[],
  window: StatsWindow,
  today: LocalDate,
): string {
  const { days, states, loggedDays } = window;
  const lines: string[] = [];
  const period = days.length;
  // a period across New Year names the years (a year ago is not this November)
  const firstDay = days[0];
  const lastDay = days[period - 1];
  const years = firstDay.slice(0, 4) !== lastDay.slice(0, 4);
  const dated = (d: LocalDate) => (years ? `${formatDate(d)} ${d.slice(0, 4)}` : formatDate(d));
  lines.push(`Last ${period} days (${dated(firstDay)} – ${dated(lastDay)})`);
  // days before any habit existed have no reward (the coach core reports 0 for them)
  const rewards = states.filter(hasActiveHabits).map((s) => s.reward);
  const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  const recent = rewards.slice(-7);
  const trend = rewards.length > 7 ? mean(recent) - mean(rewards.slice(0, -7)) : 0;
  const arrow = Math.abs(trend) < 0.02 ? "→" : trend > 0 ? "↑" : "↓";
  lines.push(
    `Daily reward: ${fmt2(mean(rewards))} on average, ${fmt2(mean(recent))} in the last 7 days ${arrow} (1.00 = every habit on goal)`,
  );
  const logged = (d: LocalDate) => loggedDays.has(d);
  const streak = currentStreak(today, logged);
  const longest = longestRun(days, logged);
  lines.push(
    `Logging streak: ${streak} day${streak === 1 ? "" : "s"} in a row (longest in this period: ${longest})`,
  );
  const last = states[states.length - 1];
  const active = habits.filter((h) => last.emas[h.spec.id] !== undefined);
  if (active.length === 0) {
    lines.push("No active habits in this period — add one with /habits.");
    return lines.join("\n");
  }
  // closeness to the goal now, the same measure the reward averages
  const score = (h: HabitHistory) => 1 - Math.abs(1 - last.emas[h.spec.id]);
  const ranked = [...active].sort((a, b) => score(b) - score(a));
  const onGoalStreak = (h: HabitHistory) => {
    let n = 0;
    for (let i = states.length - 1; i >= 0; i--) {
      const ema = states[i].emas[h.spec.id];
      if (ema === undefined || ema < ON_GOAL_EMA) break;
      n++;
    }
    return n;
  };
  const best = ranked[0];
  const bestStreak = onGoalStreak(best);
  lines.push(
    `Best: ${best.spec.name} — EMA ${fmt2(last.emas[best.spec.id])}${bestStreak > 0 ? `, on goal for ${bestStreak} day${bestStreak === 1 ? "" : "s"}` : ""}`,
  );
  if (ranked.length > 1) {
    const weakest = ranked[ranked.length - 1];
    const ema = last.emas[weakest.spec.id];
    lines.push(
      `Weakest: ${weakest.spec.name} — EMA ${fmt2(ema)}${ema < ON_GOAL_EMA ? " (below goal: it gets priority in your plans)" : ""}`,
    );
  }
  lines.push(
    `Now: ${active.map((h) => `${h.spec.name} ${fmt2(last.emas[h.spec.id])}`).join(" · ")}`,
  );
  return lines.join("\n");
}

/** /stats [period]. */
export const statsCommand = new Composer<CoachContext>();
statsCommand.command("stats", async (ctx) => {
  const person = await requirePerson(ctx);
  if (person === undefined) return;
  const period = parseStatsPeriod(commandArgs(ctx));
  if (!period.ok) {
    await ctx.reply(period.message);
    return;
  }
  await ctx.sendChatAction("upload_photo").catch(() => {});
  const started = performance.now();
  const progress = await personProgress(ctx.deps, person, period.days);
  if (progress === null) {
    await ctx.reply("You have no habits yet. Add one, e.g. /habits add run 30min 5/week");
    return;
  }
  ctx.log.debug(
    { ms: Math.round(performance.now() - started), days: period.days },
    "stats rendered",
  );
  const summary = statsSummary(progress.habits, progress.window, progress.today);
  await ctx.replyWithPhoto(Input.fromBuffer(progress.chart, `stats-${period.days}d.png`), {
    caption: summary.length <= 1024 ? summary : undefined,
  });
  if (summary.length > 1024) await ctx.reply(summary);
});
