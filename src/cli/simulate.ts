// `coachrl simulate --persona FILE [--people N] [--days D] [--seed S] [--steps-per-night K] …`
// The closed loop (src/app/closed-loop.ts): the product against simulated people whose persona
// is their hidden true behaviour, next to the heuristic, the capacity-aware heuristic and an
// oracle. JSON on stdout (or --out FILE), a PNG of mean daily reward per arm (--png FILE).

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { renderRewardCurvesChart } from "../app/charts/charts.js";
import { ARM_NAMES, type ArmName, DEFAULT_ARMS, runClosedLoop } from "../app/closed-loop.js";
import { configSecrets, loadConfig } from "../config.js";
import { openDatabase } from "../db/client.js";
import { migrate } from "../db/migrate.js";
import { createLogger } from "../logger.js";
import { initBackend } from "../rl/backend.js";
import { COACH_ALGORITHMS, type CoachAlgorithm } from "../rl/coach-policy.js";
import { loadPersonaFile } from "../rl/persona.js";
import { positiveInteger, runCommand } from "./args.js";

const USAGE = `Usage: coachrl simulate --persona FILE [options]

Runs the whole product in a closed loop against simulated people whose persona file is their
true behaviour, hidden from the product: each morning the product's planning makes the plan
(the active policy or the heuristic), the person acts on it and reports in the chat's words,
and each night the product's retrain runs (behaviour fit → training → guarded activation).
The same people, with the same random streams, are also planned by the heuristic, the
capacity-aware heuristic (the k habits furthest behind) and an oracle (a policy trained long
on the true persona). Prints JSON: mean daily reward per arm and day, the day from which the
product stays ahead of the heuristic, and the product's fraction of the oracle's reward.

Without DATABASE_URL the embedded database runs in a fresh temporary directory (deleted
afterwards); with DATABASE_URL the people are added to that database (use an empty one).

Options:
  --persona FILE          the true behaviour, e.g. personas/steady.json (required)
  --people N              simulated people per arm (default 8)
  --days D                simulated days (default 90)
  --seed S                which people (default 1)
  --steps-per-night K     PPO steps of each nightly retrain (default the product's own,
                          RETRAIN_STEPS: 32768)
  --eval-episodes N       simulated people in each retrain's evaluation (default 16)
  --eval-days N           days of each retrain's evaluation (default 90)
  --oracle-steps N        PPO steps of the oracle (default 200000)
  --capacity-k K          habits a day for the capacity-aware heuristic (default the persona's capacity)
  --arms LIST             comma-separated subset of ${ARM_NAMES.join(",")}
                          (default ${DEFAULT_ARMS.join(",")}; udrl: a UDRL coach trained on
                          the true persona, planning under the "normal" command)
  --udrl-steps N          UDRL steps of the udrl arm (default 200000)
  --no-retrain            never retrain (the product keeps planning with what it starts with)
  --cold-start            each night trains from scratch, not from a stored policy
  --warm-start-from line|active
                          what a night's training continues: the person's latest trained policy,
                          activated or not (line), or their active policy (active); default the
                          product's own, RETRAIN_WARM_START_FROM: line
  --coach ppo|udrl        the product's people's coach (default ppo; udrl: their nightly retrains
                          train UDRL on the fitted behaviour and their own logged days)
  --population-steps N    train the habit set's population policy with N steps before day 1 and
                          let the product's people adopt it (default 200000)
  --no-population         no population policy: the heuristic plans until a retrain is activated
  --explore P             explore the product's plans on a share P (0…1) of the days where it
                          is possible: leave out the cheapest habits of the greedy plan, at most
                          --explore-max-cost reward-days each time (default the configuration's
                          PLAN_EXPLORATION_PROBABILITY, 0 = off)
  --explore-max-cost C    the largest reward-cost bound of one exploratory plan (default the
                          configuration's PLAN_EXPLORATION_MAX_COST, 0.25)
  --workers N             nightly retrains at a time, each in a worker thread (default the
                          machine's cores, at most --people; 1: in this thread); the results
                          are the same with any N
  --out FILE              write the JSON there instead of stdout
  --png FILE              also draw mean daily reward per arm over the days`;

const OPTIONS = {
  persona: { type: "string" },
  people: { type: "string", default: "8" },
  days: { type: "string", default: "90" },
  seed: { type: "string", default: "1" },
  "steps-per-night": { type: "string" },
  "eval-episodes": { type: "string", default: "16" },
  "eval-days": { type: "string", default: "90" },
  "oracle-steps": { type: "string", default: "200000" },
  "udrl-steps": { type: "string", default: "200000" },
  "capacity-k": { type: "string" },
  arms: { type: "string" },
  "no-retrain": { type: "boolean", default: false },
  "cold-start": { type: "boolean", default: false },
  "warm-start-from": { type: "string" },
  coach: { type: "string", default: "ppo" },
  "population-steps": { type: "string", default: "200000" },
  "no-population": { type: "boolean", default: false },
  explore: { type: "string" },
  "explore-max-cost": { type: "string" },
  workers: { type: "string" },
  out: { type: "string" },
  png: { type: "string" },
} as const;

function armsOf(text: string | undefined): ArmName[] {
  if (text === undefined) return [...DEFAULT_ARMS];
  const arms = text.split(",").map((a) => a.trim());
  const unknown = arms.filter((a) => !(ARM_NAMES as readonly string[]).includes(a));
  if (unknown.length > 0 || arms.length === 0) {
    throw new Error(`--arms takes ${ARM_NAMES.join(", ")}; unknown: ${unknown.join(", ")}`);
  }
  return arms as ArmName[];
}

/** A number in [min, max] from an option, or a clear message naming it. */
function numberIn(value: string, flag: string, min: number, max: number): number {
  const x = Number(value);
  if (value.trim() === "" || !Number.isFinite(x) || x < min || x > max) {
    throw new Error(`${flag} must be a number from ${min} to ${max}, got "${value}"`);
  }
  return x;
}

/** --warm-start-from: "line" or "active", or a clear message. */
function warmStartFromOf(value: string): "line" | "active" {
  if (value === "line" || value === "active") return value;
  throw new Error(`--warm-start-from must be line or active, got "${value}"`);
}

const optional = (value: string | undefined, flag: string) =>
  value === undefined ? undefined : positiveInteger(value, flag);

export function run(argv: string[]): Promise<number> {
  return runCommand(argv, USAGE, OPTIONS, async (values) => {
    if (!values.persona) throw new Error("--persona is required");
    const people = positiveInteger(values.people, "--people");
    const days = positiveInteger(values.days, "--days");
    const seed = positiveInteger(values.seed, "--seed", true);
    const stepsPerNight = optional(values["steps-per-night"], "--steps-per-night");
    const evalEpisodes = optional(values["eval-episodes"], "--eval-episodes");
    const evalDays = optional(values["eval-days"], "--eval-days");
    const oracleSteps = positiveInteger(values["oracle-steps"], "--oracle-steps");
    const udrlSteps = positiveInteger(values["udrl-steps"], "--udrl-steps");
    const capacityK = optional(values["capacity-k"], "--capacity-k");
    const workers =
      optional(values.workers, "--workers") ??
      Math.max(1, Math.min(availableParallelism(), people));
    const arms = armsOf(values.arms);
    const coachAlgorithm = values.coach as CoachAlgorithm;
    if (!COACH_ALGORITHMS.includes(coachAlgorithm)) {
      throw new Error(
        `--coach must be one of ${COACH_ALGORITHMS.join(", ")}, got "${values.coach}"`,
      );
    }
    const persona = await loadPersonaFile(values.persona);
    const temporary =
      process.env.DATABASE_URL === undefined
        ? await mkdtemp(join(tmpdir(), "coachrl-simulate-"))
        : null;
    const config = loadConfig(temporary ? { ...process.env, DATA_DIR: temporary } : process.env);
    const log = createLogger({
      level: "warn",
      pretty: false,
      secrets: configSecrets(config),
      destination: process.stderr,
    });
    const backend = await initBackend();
    const loadAtStart = loadavg();
    const db = await openDatabase(config);
    try {
      await db.withSession((session) => migrate(session));
      const result = await runClosedLoop({ config, db, log }, persona, {
        people,
        days,
        seed,
        stepsPerNight: stepsPerNight ?? config.retrainSteps,
        workers,
        evalEpisodes,
        evalDays,
        oracleSteps,
        udrlSteps,
        capacityK,
        arms,
        retrain: !values["no-retrain"],
        warmStart: !values["cold-start"],
        warmStartFrom:
          values["warm-start-from"] === undefined
            ? config.retrainWarmStartFrom
            : warmStartFromOf(values["warm-start-from"]),
        coachAlgorithm,
        exploration: {
          probability:
            values.explore === undefined
              ? config.planExploration.probability
              : numberIn(values.explore, "--explore", 0, 1),
          maxCost:
            values["explore-max-cost"] === undefined
              ? config.planExploration.maxCost
              : numberIn(values["explore-max-cost"], "--explore-max-cost", 0, 10),
        },
        populationSteps: values["no-population"]
          ? null
          : positiveInteger(values["population-steps"], "--population-steps"),
        onDay: (day, rewards) => {
          const parts = Object.entries(rewards).map(([arm, r]) => `${arm} ${r?.toFixed(3)}`);
          process.stderr.write(`day ${day}/${days}: ${parts.join(", ")}\n`);
        },
      });
      const output = {
        ...result,
        database: db.kind,
        workers,
        backend: backend.backend,
        loadAverage: { start: loadAtStart, end: loadavg() },
      };
      const json = JSON.stringify(output, null, 2);
      if (values.out) await writeFile(values.out, `${json}\n`);
      else console.log(json);
      if (values.png) {
        const png = await renderRewardCurvesChart({
          title: `${persona.name}: ${people} people, closed loop`,
          lines: result.arms.map((a) => ({ name: a.name, meanDaily: a.meanDaily })),
        });
        await writeFile(values.png, png);
      }
      return 0;
    } finally {
      await db.close();
      if (temporary) await rm(temporary, { recursive: true, force: true });
    }
  });
}
