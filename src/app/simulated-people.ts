// Simulated people: fills a database with people who act like a persona, through the same use
// cases the bot uses — registerPerson, addHabit/editHabit, todaysPlan (with the clock set to each
// simulated day's plan time), a plan-button tap or a typed report for what they did. What they do
// is decided by the RL environment's behaviour model (HabitVectorEnv, one person), so the nightly
// retrain later fits that behaviour from the stored history.
//
// Seeded people get Telegram ids from SIMULATED_TELEGRAM_ID_BASE (2^53) up: Telegram user ids
// have at most 52 significant bits, so these can never belong to a real account. The id is a
// function of (persona name, seed, index), and every write is idempotent (registration by
// Telegram id, habits by name, one plan per day, entry idempotency keys), so seeding twice
// stores nothing twice. They are never onboarded, so the morning push skips them; the nightly
// retrain (everyone with active habits) trains them.
import {
  addDays,
  type HabitSpec,
  instantOf,
  type LocalDate,
  simulatedReportKey,
  weekdayOf,
} from "../coach/index.js";
import type { PlanItem } from "../db/plans.js";
import type { Habit, Plan, User } from "../generated/prisma/client.js";
import { HabitVectorEnv } from "../rl/habit-env.js";
import type { Persona } from "../rl/persona.js";
import { createStepBuffers } from "../rl/vector-env.js";
import { loadCoachState, todayOf } from "./coach-state.js";
import type { AppDeps } from "./deps.js";
import { addHabit, editHabit, habitCalled } from "./habits.js";
import { registerPerson } from "./people.js";
import { todaysPlan } from "./planning.js";
import { logPlannedHabit, logReport } from "./reports.js";
import { parsePlanTime } from "./scheduling/plan-time.js";

/** Telegram user ids have at most 52 significant bits: ids from 2^53 up are never real. */
export const SIMULATED_TELEGRAM_ID_BASE = 2n ** 53n;
/** Simulated people per (persona, seed). */
export const MAX_SIMULATED_PEOPLE = 1 << 20;
export const DEFAULT_SIMULATED_DAYS = 60;
/** Simulated people seeded at once on Postgres. */
const SEED_PARALLEL = 4;
/** Local hour at which a simulated person reports what they did (the plan comes before). */
const REPORT_HOUR = 21;

export function isSimulatedTelegramId(telegramId: bigint): boolean {
  return telegramId >= SIMULATED_TELEGRAM_ID_BASE;
}

/** FNV-1a, 32 bits. */
export function hash32(text: string): number {
  let h = 2166136261;
  for (const ch of text) h = Math.imul(h ^ ch.codePointAt(0)!, 16777619);
  return h >>> 0;
}

/**
 * The Telegram id of simulated person `index` of (persona, seed): 2^53 + hash(persona, seed) ·
 * 2^20 + index. Different (persona, seed) pairs only collide if their 32-bit hashes do.
 */
export function simulatedTelegramId(personaName: string, seed: number, index: number): bigint {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_SIMULATED_PEOPLE) {
    throw new RangeError(`index must be 0…${MAX_SIMULATED_PEOPLE - 1}, got ${index}`);
  }
  const family = BigInt(hash32(`${personaName}\u0000${seed}`));
  return SIMULATED_TELEGRAM_ID_BASE + family * BigInt(MAX_SIMULATED_PEOPLE) + BigInt(index);
}

export interface SimulatedPerson {
  index: number;
  telegramId: bigint;
  personId: number;
  displayName: string;
  /** false when the person was already there (a re-run) */
  created: boolean;
  /** the simulated days, oldest first */
  firstDay: LocalDate;
  lastDay: LocalDate;
  days: number;
  /** entries stored by this run (0 on a re-run) */
  entriesStored: number;
  /** habits done that were logged by tapping the plan button / in a typed report */
  taps: number;
  typed: number;
  /** habits done that the report parser could not read (by habit name) */
  unreported: Record<string, number>;
}

export interface SeedOptions {
  people: number;
  days?: number;
  seed?: number;
}

type SeedDeps = Pick<AppDeps, "config" | "db" | "log" | "now" | "loadPolicyPlanner">;

/** How a simulated amount is written: whole minutes and counts, check habits as done. */
export function reportedAmount(spec: HabitSpec, amount: number): number {
  if (spec.kind === "check") return amount > 0 ? 1 : 0;
  return Math.round(amount);
}

function reportText(spec: HabitSpec, amount: number): string {
  return spec.kind === "check" ? spec.name : `${spec.name} ${amount} ${spec.unit}`.trim();
}

/** The persona's habits on the person, in the persona's order (added once, levels as in the file). */
export async function habitsOf(deps: SeedDeps, person: User, persona: Persona): Promise<Habit[]> {
  const habits: Habit[] = [];
  for (const spec of persona.habits) {
    const existing = await habitCalled(deps, person, spec.name);
    if (existing?.archivedAt) {
      throw new Error(`habit "${spec.name}" is archived for ${person.displayName}`);
    }
    if (existing === undefined) {
      const added = await addHabit(deps, person, {
        name: spec.name,
        kind: spec.kind,
        unit: spec.unit,
        target: spec.target,
        daysPerWeek: spec.daysPerWeek,
      });
      if (added.kind !== "added") {
        const problems = added.kind === "invalid" ? added.problems.map((p) => p.message) : [];
        throw new Error(`habit "${spec.name}" is refused (${added.kind}) ${problems.join("; ")}`);
      }
    }
    // the persona's own levels, aliases and exclusive group (a habit added by name gets defaults)
    const edited = await editHabit(deps, person, spec.name, {
      levels: spec.levels,
      aliases: spec.aliases,
      exclusiveGroup: spec.exclusiveGroup,
    });
    if (edited.kind !== "updated") {
      const problems = edited.kind === "invalid" ? edited.problems.map((p) => p.message) : [];
      throw new Error(`habit "${spec.name}" could not be set up (${edited.kind}) ${problems}`);
    }
    habits.push(edited.habit);
  }
  return habits;
}

/**
 * The persona with the person's stored habits (ids, levels as stored) and capacity: the plan the
 * app stores is then exactly the plan the simulated person acts on.
 */
export function personaOnStoredHabits(
  persona: Persona,
  specs: HabitSpec[],
  capacityMinutes: number | null,
): Persona {
  const idOf = new Map(persona.habits.map((h, i) => [h.id, specs[i].id]));
  const behaviour = persona.behaviour;
  return {
    ...persona,
    habits: specs,
    planCapacityMinutes: capacityMinutes,
    behaviour: {
      ...behaviour,
      habits: Object.fromEntries(
        persona.habits.map((h, i) => [specs[i].id, behaviour.habits[h.id]]),
      ),
      crossEffects: behaviour.crossEffects.map((e) => ({
        ...e,
        from: idOf.get(e.from)!,
        to: idOf.get(e.to)!,
      })),
    },
  };
}

/** The instant on `day` at the local `hour:minute`, or noon when that falls in another day. */
export function momentOn(person: User, day: LocalDate, hour: number, minute: number): Date {
  const at = instantOf(day, hour, minute, person.timezone);
  return todayOf(person, at) === day ? at : instantOf(day, 12, 0, person.timezone);
}

/** What one simulated person's evening report stored. */
export interface ReportedDay {
  entriesStored: number;
  taps: number;
  typed: number;
  unreported: Record<string, number>;
}

/**
 * A simulated person reports what they did on `day` at REPORT_HOUR, as a person would in the
 * chat: a tap on the plan's button for a habit done exactly as planned (when `tapPlanned`), and
 * one typed message with everything else (one message per habit if the parser refuses it).
 * `doneAmounts` is in the order of `habits`.
 */
export async function reportSimulatedDay(
  deps: Pick<AppDeps, "db" | "log" | "now">,
  person: User,
  report: {
    day: LocalDate;
    plan: Plan;
    items: PlanItem[];
    habits: HabitSpec[];
    doneAmounts: ArrayLike<number>;
    tapPlanned: boolean;
  },
): Promise<ReportedDay> {
  const { day, plan, items, habits: ordered } = report;
  const result: ReportedDay = { entriesStored: 0, taps: 0, typed: 0, unreported: {} };
  const reportAt = momentOn(person, day, REPORT_HOUR, 0);
  const atReport = { ...deps, now: () => reportAt };
  const typed: { spec: HabitSpec; amount: number }[] = [];
  for (let h = 0; h < ordered.length; h++) {
    const spec = ordered[h];
    const amount = reportedAmount(spec, report.doneAmounts[h]);
    if (amount <= 0) continue;
    const planned = items.find((i) => String(i.habitId) === spec.id);
    if (report.tapPlanned && planned !== undefined && planned.amount === amount) {
      // did what was planned: a tap on the plan's button
      const tap = await logPlannedHabit(atReport, person, {
        planId: plan.id,
        habitId: Number(spec.id),
      });
      result.taps++;
      if (tap.kind === "logged" && tap.inserted) result.entriesStored++;
    } else typed.push({ spec, amount });
  }
  if (typed.length === 0) return result;
  result.typed += typed.length;
  // one message with everything else; if the parser refuses it, one message per habit
  const keyOf = (offset: number) => (position: number) =>
    simulatedReportKey(person.id, day, offset + position);
  const whole = await logReport(
    atReport,
    person,
    typed.map((t) => reportText(t.spec, t.amount)).join(", "),
    { source: "chat", keyOf: keyOf(0) },
  );
  if (whole.kind === "stored") {
    if (!whole.duplicate) result.entriesStored += whole.items.length;
    return result;
  }
  for (const [position, t] of typed.entries()) {
    const one = await logReport(atReport, person, reportText(t.spec, t.amount), {
      source: "chat",
      keyOf: keyOf(position),
    });
    if (one.kind === "stored") {
      if (!one.duplicate) result.entriesStored += one.items.length;
    } else result.unreported[t.spec.name] = (result.unreported[t.spec.name] ?? 0) + 1;
  }
  return result;
}

/**
 * Simulated person `index` of (persona, seed) with `days` days of history, ending the day before
 * the person was first registered (so a re-run replays the same days and stores nothing new).
 */
export async function simulatePerson(
  deps: SeedDeps,
  persona: Persona,
  options: { index: number; days: number; seed: number },
): Promise<SimulatedPerson> {
  const { index, days, seed } = options;
  const telegramId = simulatedTelegramId(persona.name, seed, index);
  const displayName = `${persona.name} #${index + 1} (simulated, seed ${seed})`;
  const { person, created } = await registerPerson(deps, {
    telegramId,
    chatId: telegramId,
    displayName,
  });
  const habits = await habitsOf(deps, person, persona);
  const specs = (await loadCoachState(deps.db, person, deps.now())).specs;
  const ordered = habits.map((h) => specs.find((s) => s.id === String(h.id))!);
  const simulated = personaOnStoredHabits(persona, ordered, person.capacityMinutes);

  const lastDay = addDays(todayOf(person, person.createdAt), -1);
  const firstDay = addDays(lastDay, -(days - 1));
  // One simulated person: the environment decides what they do with the plan they were given.
  const env = new HabitVectorEnv(simulated, {
    numEnvs: 1,
    seed: hash32(`${persona.name}\u0000${seed}\u0000${index}`),
    episodeDays: days + 1,
  });
  const buffers = createStepBuffers(env);
  env.reset(buffers.observations);
  env.weekday[0] = weekdayOf(firstDay);
  const actions = new Int32Array(ordered.length);
  const clock = parsePlanTime(person.planTime) ?? { hour: 7, minute: 30 };

  const result: SimulatedPerson = {
    index,
    telegramId,
    personId: person.id,
    displayName,
    created,
    firstDay,
    lastDay,
    days,
    entriesStored: 0,
    taps: 0,
    typed: 0,
    unreported: {},
  };
  for (let d = 0; d < days; d++) {
    const day = addDays(firstDay, d);
    const planAt = momentOn(person, day, clock.hour, clock.minute);
    const { plan, items } = await todaysPlan({ ...deps, now: () => planAt }, person);
    if (plan === undefined) throw new Error(`${displayName} has no active habits`);
    ordered.forEach((spec, h) => {
      actions[h] = items.find((i) => String(i.habitId) === spec.id)?.level ?? 0;
    });
    env.step(actions, buffers);

    const reported = await reportSimulatedDay(deps, person, {
      day,
      plan,
      items,
      habits: ordered,
      doneAmounts: env.doneAmounts,
      tapPlanned: true,
    });
    result.entriesStored += reported.entriesStored;
    result.taps += reported.taps;
    result.typed += reported.typed;
    for (const [name, n] of Object.entries(reported.unreported)) {
      result.unreported[name] = (result.unreported[name] ?? 0) + n;
    }
  }
  return result;
}

export interface SeedSummary {
  persona: string;
  seed: number;
  days: number;
  people: SimulatedPerson[];
  created: number;
  entriesStored: number;
}

/** Simulated people 0 … people−1 of (persona, seed), one after another. */
export async function seedSimulatedPeople(
  deps: SeedDeps,
  persona: Persona,
  options: SeedOptions,
  onPerson?: (person: SimulatedPerson) => void,
): Promise<SeedSummary> {
  const days = options.days ?? DEFAULT_SIMULATED_DAYS;
  const seed = options.seed ?? 1;
  if (!Number.isInteger(options.people) || options.people < 1) {
    throw new RangeError(`people must be ≥ 1, got ${options.people}`);
  }
  if (options.people > MAX_SIMULATED_PEOPLE) {
    throw new RangeError(`people must be ≤ ${MAX_SIMULATED_PEOPLE}, got ${options.people}`);
  }
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    throw new RangeError(`days must be 1…3650, got ${days}`);
  }
  // people are independent: several at once on Postgres (PGlite has one connection anyway)
  const parallel = Math.min(options.people, deps.db.kind === "postgres" ? SEED_PARALLEL : 1);
  const people: SimulatedPerson[] = new Array(options.people);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < options.people) {
        const index = next++;
        people[index] = await simulatePerson(deps, persona, { index, days, seed });
        onPerson?.(people[index]);
      }
    }),
  );
  return {
    persona: persona.name,
    seed,
    days,
    people,
    created: people.filter((p) => p.created).length,
    entriesStored: people.reduce((sum, p) => sum + p.entriesStored, 0),
  };
}
