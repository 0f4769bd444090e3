// /stats [30|90|365]: a chart of each habit's EMA (goal line at 1) and the daily reward, plus a
// short summary. EMAs come from the coach core's emaSeries over the stored, non-retracted
// entries, recomputed with a warm-up so the first day of the window is already right.
import { Input, type Telegraf } from "telegraf";
import type { StatsChartInput } from "../../app/charts/charts.js";
import { type ChartRenderer, inlineChartRenderer } from "../../app/charts/renderer.js";
import { EMA_WINDOW_DAYS } from "../../app/coach-state.js";
import { addDays, dayOf, type LocalDate } from "../../coach/days.js";
import { type DayState, emaSeries, type HabitLifetime, lifetimeOptions } from "../../coach/ema.js";
import type { Database } from "../../db/client.js";
import { entryLikeOf, listEntries } from "../../db/entries.js";
import { habitLifetimesOf, listHabits } from "../../db/habits.js";
import type { User } from "../../generated/prisma/client.js";
import type { CoachContext } from "../context.js";
import { formatDate } from "../format.js";
import { commandArgs, requirePerson } from "../person-guard.js";

export const STATS_PERIODS = [30, 90, 365] as const;
export type StatsPeriod = (typeof STATS_PERIODS)[number];

/** "" → 30; "90" → 90; anything else → the message to send. */
export function parseStatsPeriod(
  args: string,
): { ok: true; days: StatsPeriod } | { ok: false; message: string } {
  const text = args.trim().replace(/\s*(d|days?)$/i, "");
  if (text === "") return { ok: true, days: 30 };
  const n = Number(text);
  if ((STATS_PERIODS as readonly number[]).includes(n)) return { ok: true, days: n as StatsPeriod };
  return {
    ok: false,
    message: `I can show the last 30, 90 or 365 days, not "${args.trim()}". Try /stats 90.`,
  };
}

/** A habit with the days it counts (coach core). */
export type HabitHistory = HabitLifetime;

export interface StatsWindow {
  days: LocalDate[];
  states: DayState[];
  /** Days with at least one non-retracted entry (any habit), over the whole history loaded. */
  loggedDays: Set<LocalDate>;
}

/**
 * The day states of the last `period` days ending `today`, computed from `warmupFrom` on so
 * the EMAs at the window's first day include earlier history.
 */
export function statsWindow(
  habits: HabitHistory[],
  entries: { habitId: string; day: LocalDate; amount: number; retracted?: boolean }[],
  today: LocalDate,
  period: number,
  warmupDays = EMA_WINDOW_DAYS,
): StatsWindow {
  const first = addDays(today, -(period - 1));
  const warmupFrom = addDays(first, -warmupDays);
  const all = emaSeries(
    habits.map((h) => h.spec),
    entries,
    warmupFrom,
    today,
    lifetimeOptions(habits),
  );
  const states = all.slice(-period);
  const loggedDays = new Set<LocalDate>();
  for (const e of entries) if (e.retracted !== true && e.amount > 0) loggedDays.add(e.day);
  return { days: states.map((s) => s.day), states, loggedDays };
}

/** Consecutive days ending at `today` (or yesterday, if today has nothing yet) that satisfy `ok`. */
export function currentStreak(
  today: LocalDate,
  ok: (day: LocalDate) => boolean,
  maxDays = 3660,
): number {
  let day = ok(today) ? today : addDays(today, -1);
  let n = 0;
  while (n < maxDays && ok(day)) {
    n++;
    day = addDays(day, -1);
  }
  return n;
}

function longestRun(days: LocalDate[], ok: (day: LocalDate) => boolean): number {
  let best = 0;
  let run = 0;
  for (const d of days) {
    run = ok(d) ? run + 1 : 0;
    best = Math.max(best, run);
  }
  return best;
}

const fmt2 = (x: number) => x.toFixed(2);

function hasActiveHabits(state: DayState): boolean {
  return Object.keys(state.emas).length > 0;
}

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
  lines.push(`Last ${period} days (${formatDate(days[0])} – ${formatDate(days[period - 1])})`);
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

/** Chart input: one line per habit active at some point in the window. */
export function statsChartInput(habits: HabitHistory[], window: StatsWindow): StatsChartInput {
  const shown = habits.filter((h) => window.states.some((s) => s.emas[h.spec.id] !== undefined));
  return {
    title: `Your habits · last ${window.days.length} days`,
    days: window.days,
    habits: shown.map((h) => ({
      name: h.spec.name,
      emas: window.states.map((s) => s.emas[h.spec.id] ?? null),
    })),
    reward: window.states.map((s) => (hasActiveHabits(s) ? s.reward : null)),
  };
}

export interface PersonStats {
  chart: Buffer;
  summary: string;
}

/** Loads a person's habits and entries and builds the chart and summary; null without habits. */
export async function personStats(
  db: Database,
  person: User,
  now: Date,
  period: StatsPeriod,
  charts: ChartRenderer = inlineChartRenderer,
): Promise<PersonStats | null> {
  const today = dayOf(now, person.timezone, person.dayStartHour);
  const first = addDays(today, -(period - 1));
  const rows = await listHabits(db, person.id, { includeArchived: true });
  const visible = rows.filter(
    (h) =>
      h.archivedAt === null || dayOf(h.archivedAt, person.timezone, person.dayStartHour) > first,
  );
  if (visible.length === 0) return null;
  const warmupFrom = addDays(first, -EMA_WINDOW_DAYS);
  const entries = await listEntries(db, person.id, warmupFrom, today);
  const habits = habitLifetimesOf(visible, entries, (instant) =>
    dayOf(instant, person.timezone, person.dayStartHour),
  );
  const window = statsWindow(habits, entries.map(entryLikeOf), today, period);
  const chart = await charts.stats(statsChartInput(habits, window));
  return { chart, summary: statsSummary(habits, window, today) };
}

export function register(bot: Telegraf<CoachContext>): void {
  bot.command("stats", async (ctx) => {
    const person = await requirePerson(ctx);
    if (person === undefined) return;
    const period = parseStatsPeriod(commandArgs(ctx));
    if (!period.ok) {
      await ctx.reply(period.message);
      return;
    }
    await ctx.sendChatAction("upload_photo").catch(() => {});
    const started = performance.now();
    const stats = await personStats(
      ctx.deps.db,
      person,
      ctx.deps.now(),
      period.days,
      ctx.deps.charts,
    );
    if (stats === null) {
      await ctx.reply("You have no habits yet. Add one, e.g. /habits add run 30min 5/week");
      return;
    }
    ctx.log.debug(
      { ms: Math.round(performance.now() - started), days: period.days },
      "stats rendered",
    );
    await ctx.replyWithPhoto(Input.fromBuffer(stats.chart, `stats-${period.days}d.png`), {
      caption: stats.summary.length <= 1024 ? stats.summary : undefined,
    });
    if (stats.summary.length > 1024) await ctx.reply(stats.summary);
  });
}
