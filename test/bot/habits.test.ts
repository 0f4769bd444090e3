// /habits over the Bot API: list, add, edit every field, validation from the coach core,
// archive and restore.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultLevels } from "../../src/coach/habits.js";
import { onboard, startTestBot, type TestBot } from "../support/telegram-bot.js";

const USER = 301;

describe("/habits", () => {
  let t: TestBot;
  let userId: number;
  const habit = (name: string) => t.db.prisma.habit.findFirstOrThrow({ where: { userId, name } });

  beforeAll(async () => {
    t = await startTestBot();
    await onboard(t, USER);
    userId = (await t.db.prisma.user.findUniqueOrThrow({ where: { telegramId: BigInt(USER) } })).id;
  });
  afterAll(async () => {
    await t.stop();
  });

  it("adds habits of each kind from one line", async () => {
    const [run] = await t.emulator.ask(USER, "/habits add run 30min 5/week");
    expect(run.text).toMatch(/^Added run: 30 min, 5×\/week\./);
    expect(run.text).toContain("Plannable amounts: 0 min / 15 min / 30 min / 45 min");
    expect(await habit("run")).toMatchObject({
      kind: "duration",
      unit: "min",
      target: 30,
      daysPerWeek: 5,
      levels: defaultLevels("duration", 30),
    });

    const [read] = await t.emulator.ask(USER, "/habits add read 20 pages daily");
    expect(read.text).toMatch(/^Added read: 20 pages, daily\./);
    expect(await habit("read")).toMatchObject({
      kind: "count",
      unit: "pages",
      target: 20,
      daysPerWeek: 7,
    });

    const [floss] = await t.emulator.ask(USER, "/habits add floss 7/week");
    expect(floss.text).toMatch(/^Added floss: daily\./);
    expect(await habit("floss")).toMatchObject({ kind: "check", target: 1, levels: [0, 1] });

    const [swim] = await t.emulator.ask(USER, "/habits add swim 1h 2/week");
    expect(swim.text).toMatch(/^Added swim: 60 min, 2×\/week/);
  });

  it("explains what is wrong with a definition", async () => {
    const [noDays] = await t.emulator.ask(USER, "/habits add yoga 20min");
    expect(noDays.text).toBe(
      "New habit “yoga”, 20 min per session: how many days a week? Tap one, or type it (e.g. 5 or daily).",
    );
    const [tooMany] = await t.emulator.ask(USER, "/habits add yoga 20min 9/week");
    expect(tooMany.text).toMatch(/I can't add “yoga”:\n• days per week must be 1–7, got 9/);
    const [huge] = await t.emulator.ask(USER, "/habits add nap 2000min 3/week");
    expect(huge.text).toContain("a session can't be longer than 24 h");
    const [taken] = await t.emulator.ask(USER, "/habits add Run 20min 3/week");
    expect(taken.text).toMatch(/"Run" is already the name or alias of "run"/);
    const [noName] = await t.emulator.ask(USER, "/habits add 30min 5/week");
    expect(noName.text).toContain("The habit needs a name");
    expect(await t.db.prisma.habit.count({ where: { userId } })).toBe(4);
  });

  it("lists habits with goals and the current EMA", async () => {
    await t.emulator.ask(USER, "run 30");
    const [list] = await t.emulator.ask(USER, "/habits");
    expect(list.text).toMatch(/• run — 30 min, 5×\/week · EMA 0\.[1-9]\d/);
    expect(list.text).toMatch(/• read — 20 pages, daily · EMA 0\.00/);
    expect(list.text).toContain("/habits add run 30min 5/week");
  });

  it("edits target (levels follow), days, levels, aliases, group and name", async () => {
    const [target] = await t.emulator.ask(USER, "/habits edit run target 40");
    expect(target.text).toMatch(/^Updated run: 40 min, 5×\/week\./);
    expect((await habit("run")).levels).toEqual(defaultLevels("duration", 40));

    const [days] = await t.emulator.ask(USER, "/habits edit run days 4");
    expect(days.text).toContain("40 min, 4×/week");

    const [levels] = await t.emulator.ask(USER, "/habits edit run levels 0, 20, 40, 60");
    expect(levels.text).toContain("0 min / 20 min / 40 min / 60 min");
    expect((await habit("run")).levels).toEqual([0, 20, 40, 60]);

    const [badLevels] = await t.emulator.ask(USER, "/habits edit run levels 0 40 20");
    expect(badLevels.text).toMatch(
      /I can't change run:\n• levels must be strictly ascending, but 20 follows 40/,
    );
    const [noZero] = await t.emulator.ask(USER, "/habits edit run levels 10 20");
    expect(noZero.text).toContain("the first level must be 0");

    const [aliases] = await t.emulator.ask(USER, "/habits edit run aliases jog, jogging");
    expect(aliases.text).toContain("Also known as: jog, jogging");
    const [clash] = await t.emulator.ask(USER, "/habits edit read aliases jog");
    expect(clash.text).toMatch(/"jog" is already the name or alias of "run"/);

    const [group] = await t.emulator.ask(USER, "/habits edit swim group cardio");
    expect(group.text).toContain("Exclusive group: cardio");
    await t.emulator.ask(USER, "/habits edit run group cardio");
    expect((await habit("run")).exclusiveGroup).toBe("cardio");
    // one habit of an exclusive group per day: with the group, run and swim are never both
    // planned; without it (the next day), both are
    const plannedOf = (text = "") => text.split("\n").filter((l) => /^(▫️|✅) (run|swim) —/.test(l));
    const [grouped] = await t.emulator.ask(USER, "/plan");
    expect(plannedOf(grouped.text)).toHaveLength(1);
    await t.emulator.ask(USER, "/habits edit run group none");
    t.clock.advance(24 * 3600_000);
    const [ungrouped] = await t.emulator.ask(USER, "/plan");
    expect(plannedOf(ungrouped.text)).toHaveLength(2);
    await t.emulator.ask(USER, "/habits edit run group cardio");
    expect((await habit("run")).exclusiveGroup).toBe("cardio");

    const [renamed] = await t.emulator.ask(USER, "/habits edit floss name flossing");
    expect(renamed.text).toMatch(/^Updated flossing/);
    expect((await habit("flossing")).nameKey).toBe("flossing");

    // logging works through an alias after the edit
    const [logged] = await t.emulator.ask(USER, "jog 20");
    expect(logged.text).toMatch(/✓ run: 20 min, today/);

    const [unknown] = await t.emulator.ask(USER, "/habits edit dance target 3");
    expect(unknown.text).toContain("You have no habit called “dance”");
    const [nonsense] = await t.emulator.ask(USER, "/habits edit run target lots");
    expect(nonsense.text).toContain("The new target must be a number");
  });

  it("archives (history kept, out of plans) and restores, also by button", async () => {
    const [archived] = await t.emulator.ask(USER, "/habits archive run");
    expect(archived.text).toMatch(/^Archived run\. Its history is kept/);
    const row = await habit("run");
    expect(row.archivedAt).not.toBeNull();
    expect(await t.db.prisma.habitEntry.count({ where: { habitId: row.id } })).toBe(2);

    const [list] = await t.emulator.ask(USER, "/habits");
    expect(list.text).toContain("Archived: run");
    expect(list.text).not.toMatch(/• run —/);
    const [plan] = await t.emulator.ask(USER, "/plan");
    expect(plan.text).not.toMatch(/\brun\b/);
    const [report] = await t.emulator.ask(USER, "run 10");
    expect(report.text).toMatch(/I didn't store anything/);

    const { answer } = await t.emulator.tap(USER, archived, "Undo: restore run", 1);
    expect(answer?.text).toMatch(/^Restored run/);
    expect((await habit("run")).archivedAt).toBeNull();

    await t.emulator.ask(USER, "/habits archive run");
    const [restored] = await t.emulator.ask(USER, "/habits restore run");
    expect(restored.text).toMatch(/^Restored run: 40 min, 4×\/week/);
    const [again] = await t.emulator.ask(USER, "/habits restore run");
    expect(again.text).toBe("run is already active.");
  });
});

describe("/habits add, guided", () => {
  let t: TestBot;
  const USER2 = 302;
  beforeAll(async () => {
    t = await startTestBot();
    await onboard(t, USER2, { habits: ["run 30min 5/week"] });
  });
  afterAll(async () => {
    await t.stop();
  });

  it("adds a duration habit with buttons only after the name", async () => {
    const [askName] = await t.emulator.ask(USER2, "/habits add");
    expect(askName.forceReply).toBe(true);
    const [askKind] = await t.emulator.ask(USER2, "swim", 1, { replyTo: askName });
    expect(askKind.text).toBe("New habit “swim”: how do you measure it?");
    const minutes = await t.emulator.tap(USER2, askKind, "⏱ In minutes", 1);
    expect(t.emulator.message(USER2, askKind.message_id)?.keyboard).toEqual([]);
    const days = await t.emulator.tap(USER2, minutes.messages[0], "45", 1);
    expect(days.messages[0].text).toBe(
      "New habit “swim”, 45 min per session: how many days a week? Tap one, or type it (e.g. 5 or daily).",
    );
    const added = await t.emulator.tap(USER2, days.messages[0], "2×", 1);
    expect(added.messages[0].text).toMatch(/^Added swim: 45 min, 2×\/week\./);
  });

  it("adds a counted habit from a typed amount, and a yes/no habit", async () => {
    const [askName] = await t.emulator.ask(USER2, "/habits add");
    const [askKind] = await t.emulator.ask(USER2, "read", 1, { replyTo: askName });
    const amount = await t.emulator.tap(USER2, askKind, /An amount/, 1);
    expect(amount.messages[0].forceReply).toBe(true);
    const [bad] = await t.emulator.ask(USER2, "lots", 1, { replyTo: amount.messages[0] });
    expect(bad.text).toContain("is not an amount with a unit");
    const [askDays] = await t.emulator.ask(USER2, "20 pages", 1, { replyTo: amount.messages[0] });
    expect(askDays.text).toBe(
      "New habit “read”, 20 pages per session: how many days a week? Tap one, or type it (e.g. 5 or daily).",
    );
    const added = await t.emulator.tap(USER2, askDays, "daily", 1);
    expect(added.messages[0].text).toMatch(/^Added read: 20 pages, daily\./);

    const [askName2] = await t.emulator.ask(USER2, "/habits add");
    const [askKind2] = await t.emulator.ask(USER2, "floss", 1, { replyTo: askName2 });
    const yesNo = await t.emulator.tap(USER2, askKind2, /Done or not done/, 1);
    const flossed = await t.emulator.tap(USER2, yesNo.messages[0], "5×", 1);
    expect(flossed.messages[0].text).toMatch(/^Added floss: 5×\/week\./);

    const user = await t.db.prisma.user.findUniqueOrThrow({ where: { telegramId: BigInt(USER2) } });
    const habits = await t.db.prisma.habit.findMany({
      where: { userId: user.id },
      orderBy: { id: "asc" },
    });
    expect(habits.map((h) => [h.name, h.kind, h.unit, h.target, h.daysPerWeek])).toEqual([
      ["run", "duration", "min", 30, 5],
      ["swim", "duration", "min", 45, 2],
      ["read", "count", "pages", 20, 7],
      ["floss", "check", "", 1, 5],
    ]);
  });

  it("refuses names that are taken or invalid", async () => {
    const [askName] = await t.emulator.ask(USER2, "/habits add");
    const [taken] = await t.emulator.ask(USER2, "Run", 1, { replyTo: askName });
    expect(taken.text).toBe("You already have a habit called “run”.");
    const [askAgain] = await t.emulator.ask(USER2, "/habits add");
    const [invalid] = await t.emulator.ask(USER2, "a, b", 1, { replyTo: askAgain });
    expect(invalid.text).toContain("must not contain commas");
  });
});
