// Local chat mode: the same bot in a terminal, driven through stdin/stdout.
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSchedules } from "../../src/app/scheduling/schedule.js";
import { createBot } from "../../src/bot/bot.js";
import { createPlanSender } from "../../src/bot/commands/plan.js";
import type { BotDeps } from "../../src/bot/context.js";
import { LocalBotApi, localFirstName, runLocalChat } from "../../src/bot/local-chat.js";
import { parseConfig } from "../../src/config.js";
import { testBotDeps } from "../support/bot-deps.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

/** Feeds lines one at a time, each once the previous reply has been printed. */
async function converse(lines: string[], deps: BotDeps, stateFile?: string): Promise<string> {
  const input = new PassThrough();
  const output = new PassThrough();
  let printed = "";
  output.on("data", (chunk: Buffer) => {
    printed += chunk.toString();
  });
  const api = new LocalBotApi({ output, filesDir: deps.chartsDir, stateFile, firstName: "Ada" });
  const bot = createBot({ ...deps, transport: api.handle });
  const done = runLocalChat(bot, { input, output, api, firstUpdateId: Date.now() });
  for (const line of lines) input.write(`${line}\n`);
  input.end();
  await done;
  return printed;
}

describe("local chat mode (in process)", () => {
  let database: TestDatabase;
  let deps: BotDeps;

  beforeAll(async () => {
    database = await createTestDatabase();
    deps = testBotDeps(database.db, {
      config: parseConfig({ LOG_LEVEL: "silent" }),
      now: () => new Date("2026-11-22T09:00:00Z"),
    });
  });
  afterAll(async () => {
    await database.dispose();
    rmSync(deps.chartsDir, { recursive: true, force: true });
  });

  it("onboards, plans, logs by numbered button and by text, and undoes", async () => {
    const out = await converse(
      ["/start", "Lisbon", "2", "1", "/plan", "1", "read 12 pages", "/undo", "/quit"],
      deps,
    );
    expect(out).toContain("local chat mode");
    // the person's own first name, not "You" (issue 13)
    expect(out).toContain("coach> Hi Ada!");
    expect(out).toContain("Time zone: Europe/Lisbon");
    expect(out).toMatch(/\[2\] 07:30[\s\S]*→ 07:30/);
    expect(out).toContain("→ Use the starter set");
    expect(out).toContain("coach> Plan for Sun 22 Nov:");
    expect(out).toMatch(/\[1\] ✓ walk 20 min\n[\s\S]*→ ✓ walk 20 min/);
    expect(out).toMatch(/coach> \(Logged walk: 20 min, today → EMA 0\.\d\d\)/);
    expect(out).toContain("coach (updated)> Plan for Sun 22 Nov:");
    expect(out).toContain("✅ walk — 20 min");
    expect(out).toMatch(/✓ read: 12 pages, today \(Sun 22 Nov\) → EMA 0\.\d\d/);
    expect(out).toContain("coach> Undone: read 12 pages, today.");
    expect(out).toContain("Bye!");

    const user = await database.db.prisma.user.findUniqueOrThrow({ where: { telegramId: 1n } });
    expect(user.timezone).toBe("Europe/Lisbon");
    const entries = await database.db.prisma.habitEntry.findMany({ where: { userId: user.id } });
    expect(entries.map((e) => [e.amount, e.source, e.retractedAt !== null])).toEqual([
      [20, "button", false],
      [12, "chat", true],
    ]);
  });

  it("keeps the latest buttons across a restart, so a number still presses them", async () => {
    const fresh = await createTestDatabase();
    const freshDeps = testBotDeps(fresh.db, {
      config: parseConfig({ LOG_LEVEL: "silent" }),
      now: () => new Date("2026-11-22T09:00:00Z"),
    });
    const stateFile = join(freshDeps.chartsDir, "local-chat.json");
    try {
      const first = await converse(["/start", "Lisbon", "2"], freshDeps, stateFile);
      expect(first).toContain("[1] Use the starter set");
      const second = await converse(["1", "/quit"], freshDeps, stateFile);
      expect(second).toContain("(buttons from last time still work: [1] Use the starter set");
      expect(second).toContain("→ Use the starter set");
      expect(second).toContain("You're set up!");
      const user = await fresh.db.prisma.user.findUniqueOrThrow({ where: { telegramId: 1n } });
      expect(user.planTime).toBe("07:30"); // the "1" was a button press, not a plan time
      // a broken state file is ignored
      writeFileSync(stateFile, "{not json");
      const third = await converse(["/quit"], freshDeps, stateFile);
      expect(third).not.toContain("buttons from last time");
    } finally {
      await fresh.dispose();
      rmSync(freshDeps.chartsDir, { recursive: true, force: true });
    }
  });

  /** Runs `chat` against a fresh database (a new person in a new terminal). */
  async function withFreshChat(chat: (deps: BotDeps, fresh: TestDatabase) => Promise<void>) {
    const fresh = await createTestDatabase();
    const freshDeps = testBotDeps(fresh.db, {
      config: parseConfig({ LOG_LEVEL: "silent" }),
      now: () => new Date("2026-11-22T09:00:00Z"),
    });
    try {
      await chat(freshDeps, fresh);
    } finally {
      await fresh.dispose();
      rmSync(freshDeps.chartsDir, { recursive: true, force: true });
    }
  }

  it("takes a bare hour at the plan-time question as the time, not as a button (issue 13)", () =>
    withFreshChat(async (freshDeps, fresh) => {
      const out = await converse(["/start", "Lisbon", "7"], freshDeps);
      expect(out).toContain("[4] 12:00");
      expect(out).toContain("Plan time: 07:00.");
      const user = await fresh.db.prisma.user.findUniqueOrThrow({ where: { telegramId: 1n } });
      expect(user.planTime).toBe("07:00");
      expect(localFirstName()).toMatch(/^(there|\p{Lu}.*)$/u);
    }));

  it(
    "/deleteme also deletes the charts and exports it saved on disk (issue 13)",
    () =>
      withFreshChat(async (freshDeps, fresh) => {
        const before = await converse(
          ["/start", "Lisbon", "2", "1", "walk 20", "/stats", "/export"],
          freshDeps,
        );
        expect(before).toMatch(/\[photo saved to /);
        expect(before).toMatch(/\[document saved to /);
        expect(readdirSync(freshDeps.chartsDir)).toHaveLength(2);
        const out = await converse(["/deleteme delete all my data"], freshDeps);
        expect(out).toContain("and 2 saved files (charts, exports)");
        expect(readdirSync(freshDeps.chartsDir)).toEqual([]);
        expect(await fresh.db.prisma.user.count()).toBe(0);
      }),
    60_000,
  );

  it("points to coachrl import for the ingest token, since local chat runs no HTTP server", async () => {
    const out = await converse(["/settings token"], deps);
    expect(out).toMatch(/crl_[A-Za-z0-9_-]{43}/);
    expect(out).toContain("npx coachrl import --telegram-id 1 FILE");
    expect(out).not.toContain("POST to");
  });

  it("keeps the conversation across runs (update ids grow) and explains bad choices", async () => {
    const out = await converse(
      ["/plan", "99", "/location 52.5 13.4", "/habits add", "swim", "1", "4", "2"],
      deps,
    );
    // a number without a button of that number is text (here: no report)
    expect(out).toContain('Which habit is "99" for?');
    expect(out).toContain("(your next message answers this)");
    expect(out).toContain("New habit “swim”: how do you measure it?");
    expect(out).toContain("Added swim: 30 min, 2×/week.");
    expect(out).toContain("Time zone set: Europe/Berlin");
    expect(out).toContain("✅ walk — 20 min");
  });

  it("saves photos and documents as files and prints their path", async () => {
    const output = new PassThrough();
    let printed = "";
    output.on("data", (c: Buffer) => {
      printed += c.toString();
    });
    const api = new LocalBotApi({ output, filesDir: deps.chartsDir });
    const png = Buffer.from("89504e470d0a1a0a", "hex");
    await api.handle("sendPhoto", {
      chat_id: 1,
      photo: { source: png, filename: "stats.png" },
      caption: "Your EMAs",
    });
    await api.handle("sendDocument", {
      chat_id: 1,
      document: { source: Buffer.from("a,b\n"), filename: "export.csv" },
    });
    const paths = [...printed.matchAll(/saved to (\S+)\]/g)].map((m) => m[1]);
    expect(paths).toHaveLength(2);
    expect(readFileSync(paths[0])).toEqual(png);
    expect(paths[1]).toMatch(/export\.csv$/);
    expect(readFileSync(paths[1], "utf8")).toBe("a,b\n");
    expect(printed).toContain("Your EMAs");
  });

  it("prints the morning plan when the plan time comes, with working buttons", async () => {
    const fresh = await createTestDatabase();
    let now = new Date("2026-11-22T06:00:00Z");
    const localDeps = testBotDeps(fresh.db, {
      config: parseConfig({ LOG_LEVEL: "silent" }),
      now: () => now,
    });
    const input = new PassThrough();
    const output = new PassThrough();
    let printed = "";
    output.on("data", (chunk: Buffer) => {
      printed += chunk.toString();
    });
    const until = async (text: string) => {
      const deadline = Date.now() + 30_000;
      while (!printed.includes(text)) {
        if (Date.now() > deadline) throw new Error(`no "${text}" in:\n${printed}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const api = new LocalBotApi({ output, filesDir: localDeps.chartsDir });
    const withApi = { ...localDeps, transport: api.handle };
    const bot = createBot(withApi);
    // what src/main.ts does in local chat mode (the node-schedule timers aside)
    const schedules = startSchedules(withApi, createPlanSender(bot.telegram, withApi), {
      manual: true,
    });
    try {
      const done = runLocalChat(bot, { input, output, api, firstUpdateId: 1 });
      input.write("/start\nLisbon\n2\n1\n");
      await until("You're set up!");
      expect(await schedules.tickPlans(now)).toMatchObject({ due: 0, sent: 0 }); // 06:00: not yet
      now = new Date("2026-11-22T07:31:00Z"); // 07:31 in Lisbon, plan time 07:30
      expect(await schedules.tickPlans(now)).toMatchObject({ sent: 1 });
      expect(await schedules.tickPlans(now)).toMatchObject({ sent: 0 }); // once a day
      await until("Good morning!");
      expect(printed).toMatch(/Good morning![\s\S]*\[1\] ✓ walk 20 min/);
      input.write("1\n");
      await until("(Logged walk: 20 min, today");
      input.end();
      await done;
    } finally {
      await schedules.stop();
      await fresh.dispose();
      rmSync(localDeps.chartsDir, { recursive: true, force: true });
    }
  }, 60_000);
});
