// Run tracking after a tiny real retrain of a seeded person: `coachrl runs` (list, filters,
// show with the curves as a PNG) and /runs over the Bot API emulator (admins only).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pngSize, trainingCurvesSpec } from "../../src/app/charts/charts.js";
import { inlineChartRenderer, workerChartRenderer } from "../../src/app/charts/renderer.js";
import { CURVE_ORDER, listRuns, runDetails } from "../../src/app/runs.js";
import { type SimulatedPerson, seedSimulatedPeople } from "../../src/app/simulated-people.js";
import { createInProcessQueue } from "../../src/app/training/in-process-queue.js";
import { run as runsCli } from "../../src/cli/runs.js";
import { parseConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { loadPersonaFile } from "../../src/rl/persona.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { onboard, startTestBot, type TestBot } from "../support/telegram-bot.js";

const ADMIN = 601;
const PERSON = 602;
let t: TestDatabase;
let seeded: SimulatedPerson;
let trainedRun: number;
let cancelledRun: number;
const files = mkdtempSync(join(tmpdir(), "coachrl-runs-"));
const config = parseConfig({ LOG_LEVEL: "silent", RETRAIN_CRON: "off" });
const log = createLogger({ level: "silent", pretty: false, secrets: [] });

beforeAll(async () => {
  t = await createTestDatabase();
  const deps = { config, db: t.db, log, now: () => new Date() };
  const persona = await loadPersonaFile("personas/steady.json");
  [seeded] = (await seedSimulatedPeople(deps, persona, { people: 1, days: 20, seed: 3 })).people;
  // a tiny real training (PPO in a worker thread), then one run cancelled before it started
  const queue = createInProcessQueue(deps);
  const size = { steps: 1024, numEnvs: 8, evalEpisodes: 8, evalDays: 60 };
  const trained = await queue.enqueue({ userId: seeded.personId, trigger: "cli", ...size });
  if (trained.kind !== "queued") throw new Error("not queued");
  trainedRun = trained.runId;
  await queue.work(1);
  await queue.whenIdle();
  await queue.stop();
  const idle = createInProcessQueue(deps); // not working: the run waits until cancelled
  cancelledRun = (await idle.enqueue({ userId: seeded.personId, trigger: "admin", ...size })).runId;
  expect(await idle.cancel(cancelledRun)).toBe(true);
  await idle.stop();
}, 300_000);
afterAll(async () => {
  await t?.dispose();
  rmSync(files, { recursive: true, force: true });
});

/** `coachrl runs …` in this process, on the test database. */
async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runsCli(argv, {
    openDatabase: async () => t.db,
    closeDatabase: false,
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("listing and showing runs", () => {
  it("lists runs newest first with person, trigger, status, behaviour, rewards and duration", async () => {
    const runs = await listRuns({ db: t.db, now: () => new Date() });
    expect(runs.map((r) => r.id)).toEqual([cancelledRun, trainedRun]);
    const [cancelled, trained] = runs;
    expect(cancelled).toMatchObject({ status: "cancelled", trigger: "admin", activated: false });
    expect(trained).toMatchObject({
      status: "succeeded",
      trigger: "cli",
      behaviour: "fitted",
      person: { telegramId: seeded.telegramId, displayName: seeded.displayName },
    });
    expect(trained.before).toEqual(expect.any(Number));
    expect(trained.after).toEqual(expect.any(Number));
    expect(trained.seconds).toBeGreaterThan(0);
  });

  it("prints the table, filters by person, status and limit, and JSON", async () => {
    const all = await cli();
    expect(all.code).toBe(0);
    const lines = all.out.split("\n");
    expect(lines[0]).toMatch(/^id\s+person\s+telegram id\s+trigger\s+status\s+behaviour\s+before/);
    expect(lines[1]).toMatch(new RegExp(`^${cancelledRun}\\s+steady #1.*admin\\s+cancelled`));
    expect(lines[2]).toMatch(
      new RegExp(`^${trainedRun}\\s+steady #1.*${seeded.telegramId}\\s+cli\\s+succeeded\\s+fitted`),
    );

    const succeeded = await cli("--status", "succeeded", "--json");
    const parsed = JSON.parse(succeeded.out);
    expect(parsed.map((r: { id: number }) => r.id)).toEqual([trainedRun]);
    expect(parsed[0].person.telegramId).toBe(seeded.telegramId.toString());

    expect(JSON.parse((await cli("--limit", "1", "--json")).out)).toHaveLength(1);
    expect(JSON.parse((await cli("--person", "12345", "--json")).out)).toEqual([]);
    const mine = await cli("--person", seeded.telegramId.toString(), "--json");
    expect(JSON.parse(mine.out)).toHaveLength(2);
  });

  it("refuses what it does not understand, and --help does nothing else", async () => {
    expect(await cli("--status", "done")).toMatchObject({ code: 2 });
    expect((await cli("--status", "done")).err).toContain("--status must be one of queued");
    expect((await cli("--bogus")).err).toContain("Unknown option '--bogus'");
    expect((await cli("show")).err).toContain("runs show needs exactly one run ID");
    expect((await cli("list")).err).toContain('unexpected argument "list"');
    expect((await cli("--png", "x.png")).err).toContain("--png only applies to runs show ID");
    const help = await cli("show", "1", "--help");
    expect(help).toMatchObject({ code: 0, err: "" });
    expect(help.out).toContain("coachrl runs show ID [--png FILE] [--json]");
    expect(await cli("show", "99999")).toMatchObject({ code: 1, err: "no training run #99999" });
  });

  it("shows one run: hyperparameters, behaviour with its fit, evaluation with CIs, curves and a PNG", async () => {
    const found = await runDetails({ db: t.db, now: () => new Date() }, trainedRun);
    if (found.kind !== "found") throw new Error("run not found");
    const run = found.run;
    expect(run.hyperparameters).toMatchObject({ steps: 1024, numEnvs: 8, behaviour: "fitted" });
    expect(run.ppo).toMatchObject({ gamma: expect.any(Number), clip: expect.any(Number) });
    expect(run.behaviourUsed).toMatchObject({ source: "fitted", daysWithPlan: 20 });
    expect(Object.keys(run.behaviourUsed!.fit!.habits)).toHaveLength(5);
    expect(run.evaluation).toMatchObject({ episodes: 8, days: 60 });
    expect(run.evaluation!.candidate.ci95).toBeGreaterThanOrEqual(0);
    const names = run.curves.map((c) => c.name);
    expect(names.slice(0, 4)).toEqual(CURVE_ORDER.slice(0, 4));
    expect(names).toContain("explained_variance");
    expect(names).toContain("learning_rate");
    expect(run.curves[0].points.length).toBeGreaterThan(0);

    const png = join(files, "run.png");
    const shown = await cli("show", String(trainedRun), "--png", png);
    expect(shown.err).toBe("");
    expect(shown.code).toBe(0);
    expect(shown.out).toContain(`Training run #${trainedRun}: ${seeded.displayName}`);
    expect(shown.out).toContain("steps: 1024");
    expect(shown.out).toMatch(/fitted: \d+ days of history, 20 with a plan/);
    expect(shown.out).toMatch(/candidate\s+-?\d\.\d{4} ± \d\.\d{4}/);
    expect(shown.out).toMatch(/heuristic\s+-?\d\.\d{4} ± \d\.\d{4}/);
    expect(shown.out).toMatch(/mean_reward\s+\S+ → \S+\s+\(\d+ points/);
    expect(shown.out).toContain(`curves written to ${png}`);
    expect(pngSize(readFileSync(png))).toMatchObject({ width: 1100 });

    const json = JSON.parse((await cli("show", String(trainedRun), "--json")).out);
    expect(json).toMatchObject({ id: trainedRun, status: "succeeded", png: null });
    expect(json.curves[0].name).toBe("mean_reward");

    // a run that recorded no metrics has no chart: said so, exit 1
    const none = await cli("show", String(cancelledRun), "--png", join(files, "none.png"));
    expect(none.code).toBe(1);
    expect(none.err).toContain("recorded no metrics");
  });

  it("draws the curves the same in the chart worker thread as in-process", async () => {
    const found = await runDetails({ db: t.db, now: () => new Date() }, trainedRun);
    if (found.kind !== "found") throw new Error("run not found");
    const input = { title: "run", curves: found.run.curves };
    const spec = trainingCurvesSpec(input) as { facet: { sort: string[] } };
    expect(spec.facet.sort).toEqual(found.run.curves.map((c) => c.name));
    const worker = workerChartRenderer();
    try {
      const [inThread, inline] = await Promise.all([
        worker.trainingCurves(input),
        inlineChartRenderer.trainingCurves(input),
      ]);
      expect(pngSize(inThread)).toEqual(pngSize(inline));
      expect(Buffer.compare(inThread, inline)).toBe(0);
    } finally {
      await worker.close();
    }
    expect(() => trainingCurvesSpec({ title: "none", curves: [] })).toThrow(RangeError);
  });

  it("runs as a real process (--help; and on Postgres, show --png)", () => {
    const help = spawnSync(process.execPath, ["bin/coachrl.mjs", "runs", "--help"], {
      encoding: "utf8",
    });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("coachrl runs [--person TELEGRAM_ID]");
    if (t.url === undefined) return;
    const png = join(files, "process.png");
    const shown = spawnSync(
      process.execPath,
      ["bin/coachrl.mjs", "runs", "show", String(trainedRun), "--png", png],
      { encoding: "utf8", env: { ...process.env, DATABASE_URL: t.url } },
    );
    expect(shown.stderr).toBe("");
    expect(shown.status).toBe(0);
    expect(shown.stdout).toContain(`Training run #${trainedRun}`);
    expect(pngSize(readFileSync(png))).toMatchObject({ width: 1100 });
  });
});

describe("/runs in the chat", () => {
  let bot: TestBot;
  beforeAll(async () => {
    bot = await startTestBot({ database: t, env: { ADMIN_TELEGRAM_IDS: String(ADMIN) } });
    await onboard(bot, ADMIN);
    await onboard(bot, PERSON);
  });
  afterAll(async () => {
    await bot?.stop();
  });

  it("politely refuses anyone who is not an admin", async () => {
    const [reply] = await bot.emulator.ask(PERSON, "/runs");
    expect(reply.text).toBe("Sorry, /runs is only available to the bot's administrators.");
    const [again] = await bot.emulator.ask(PERSON, `/runs ${trainedRun}`);
    expect(again.text).toBe("Sorry, /runs is only available to the bot's administrators.");
    expect(bot.emulator.photos(PERSON)).toHaveLength(0);
  });

  it("lists the latest runs for an admin", async () => {
    const [reply] = await bot.emulator.ask(ADMIN, "/runs");
    expect(reply.text).toContain("Latest 2 training runs");
    expect(reply.text).toMatch(
      new RegExp(
        `#${trainedRun} steady #1 \\(simulated, seed 3\\) \\(cli, fitted\\): -?\\d\\.\\d{3} → -?\\d\\.\\d{3}`,
      ),
    );
    expect(reply.text).toContain(
      `#${cancelledRun} steady #1 (simulated, seed 3) (admin): cancelled`,
    );
  });

  it("shows one run with its curves as a photo", async () => {
    const [text, photo] = await bot.emulator.ask(ADMIN, `/runs ${trainedRun}`, 2);
    expect(text.text).toContain(
      "Hyperparameters: steps 1024, numEnvs 8, evalEpisodes 8, evalDays 60",
    );
    expect(text.text).toMatch(/\nStarted from: (scratch|active policy #\d+|latest candidate #\d+)/);
    expect(text.text).toContain("Behaviour: fitted (20 of");
    expect(text.text).toMatch(/new policy: -?\d\.\d{3} ± \d\.\d{3}/);
    expect(text.text).toMatch(/mean_reward: \S+ → \S+ over \d+ updates/);
    expect(photo.photo).toMatchObject({ width: 1100 });
    expect(photo.caption).toBe(`Training curves of run #${trainedRun}`);
    const [unknown] = await bot.emulator.ask(ADMIN, "/runs 99999");
    expect(unknown.text).toBe("No training run #99999.");
    const [usage] = await bot.emulator.ask(ADMIN, "/runs everything");
    expect(usage.text).toContain("Usage: /runs");
  });
});
