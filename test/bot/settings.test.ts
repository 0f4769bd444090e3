// /settings over the Bot API.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { personByIngestToken } from "../../src/app/people.js";
import { APOLOGY, PROCESSING_LATER } from "../../src/bot/middleware/errors.js";
import { createSheetsNotifier } from "../../src/bot/sheets-notice.js";
import { onboard, startTestBot, type TestBot } from "../support/telegram-bot.js";

const USER = 701;

describe("/settings", () => {
  let t: TestBot;
  const person = () => t.db.prisma.user.findUniqueOrThrow({ where: { telegramId: BigInt(USER) } });

  beforeAll(async () => {
    t = await startTestBot();
    await onboard(t, USER, { habits: ["run 30min 5/week"] });
  });
  afterAll(async () => {
    await t.stop();
  });

  it("shows the current settings", async () => {
    const [shown] = await t.emulator.ask(USER, "/settings");
    expect(shown.text).toContain("Time zone: UTC (UTC+00:00)");
    expect(shown.text).toContain("Plan time: 07:30");
    expect(shown.text).toContain("Day starts at: 04:00");
    expect(shown.text).toContain("Google Sheet: not linked");
    expect(shown.text).toContain("Ingest token: none yet");
  });

  it("changes time zone, plan time and day-start hour, with clear errors", async () => {
    const [tz] = await t.emulator.ask(USER, "/settings timezone New York");
    expect(tz.text).toContain("America/New_York");
    const [offset] = await t.emulator.ask(USER, "/settings tz -3");
    expect(offset.text).toContain("Etc/GMT+3 (UTC-03:00)");
    expect(offset.text).toContain("no daylight-saving");
    const [badTz] = await t.emulator.ask(USER, "/settings timezone +15");
    expect(badTz.text).toContain("Offsets go from -12 to +14");
    expect((await person()).timezone).toBe("Etc/GMT+3");

    const [plan] = await t.emulator.ask(USER, "/settings plan 9pm");
    expect(plan.text).toBe("Plan time set to 21:00 (Etc/GMT+3).");
    const [badPlan] = await t.emulator.ask(USER, "/settings plan 25:00");
    expect(badPlan.text).toContain("is not a time of day");

    const [day] = await t.emulator.ask(USER, "/settings daystart 3");
    expect(day.text).toContain("starts at 03:00");
    const [badDay] = await t.emulator.ask(USER, "/settings daystart 13");
    expect(badDay.text).toContain("from 0 to 12");
    expect(await person()).toMatchObject({ planTime: "21:00", dayStartHour: 3 });
  });

  it("counts a report before the day-start hour for the previous day", async () => {
    // 05:30 UTC = 02:30 at UTC-3, before the 03:00 day start: still Friday 20 Nov's day.
    t.clock.set("2026-11-21T05:30:00Z");
    const [late] = await t.emulator.ask(USER, "run 30");
    expect(late.text).toMatch(/run: 30 min, today \(Fri 20 Nov\)/);
    t.clock.set("2026-11-22T09:00:00Z");
  });

  it("links and unlinks a Google Sheet", async () => {
    const id = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-xyz";
    const [linked] = await t.emulator.ask(
      USER,
      `/settings sheet https://docs.google.com/spreadsheets/d/${id}/edit#gid=0`,
    );
    expect(linked.text).toContain(`Google Sheet linked (${id})`);
    // this bot has no Google service account: the reply must not claim that anything is copied
    expect(linked.text).toContain("no Google service account set up");
    expect(linked.text).not.toMatch(/I'll copy|kept up to date/);
    const [shown] = await t.emulator.ask(USER, "/settings");
    expect(shown.text).toContain("(link saved; this server has no Google account set up");
    expect((await person()).sheetId).toBe(id);
    const [bad] = await t.emulator.ask(USER, "/settings sheet https://example.com/x");
    expect(bad.text).toContain("doesn't look like a Google Sheet link");
    const [off] = await t.emulator.ask(USER, "/settings sheet off");
    expect(off.text).toContain("unlinked");
    expect((await person()).sheetId).toBeNull();
  });

  it("shows a new ingest token once and stores only its SHA-256 hash; rotation replaces it", async () => {
    const [first] = await t.emulator.ask(USER, "/settings token");
    const token = /crl_[A-Za-z0-9_-]{43}/.exec(first.text!)?.[0];
    expect(token).toBeDefined();
    expect(first.text).toContain("POST to /ingest/weight");
    const stored = (await person()).ingestTokenHash;
    expect(stored).toBe(createHash("sha256").update(token!).digest("hex"));
    expect(
      Object.values(await person())
        .map(String)
        .join(" "),
    ).not.toContain(token);
    expect(t.logs.join("\n")).not.toContain(token);

    const [shown] = await t.emulator.ask(USER, "/settings");
    expect(shown.text).toContain("Ingest token: set");
    expect(shown.text).not.toContain(token);
    const { messages } = await t.emulator.tap(USER, shown, "🔑 New ingest token", 1);
    const second = /crl_[A-Za-z0-9_-]{43}/.exec(messages[0].text!)?.[0];
    expect(second).toBeDefined();
    expect(second).not.toBe(token);
    expect(messages[0].text).toContain("The previous token no longer works");
    expect((await person()).ingestTokenHash).toBe(
      createHash("sha256").update(second!).digest("hex"),
    );
  });

  it("keeps the previous token working when the new one cannot be shown", async () => {
    const tokenIn = (text: string | undefined) => /crl_[A-Za-z0-9_-]{43}/.exec(text ?? "")?.[0];
    const owner = async (token: string) =>
      (await personByIngestToken(t.deps, token))?.telegramId ?? null;
    const [issued] = await t.emulator.ask(USER, "/settings token");
    const previous = tokenIn(issued.text)!;
    expect(await owner(previous)).toBe(BigInt(USER));

    // Telegram refuses the message with the new token for good: the person never sees it, so
    // the token they have must keep working (they get the apology and can ask again)
    t.emulator.failNext("sendMessage", { code: 400, description: "Bad Request: chat not found" });
    const [apology] = await t.emulator.ask(USER, "/settings token");
    expect(apology.text).toBe(APOLOGY);
    expect(tokenIn(apology.text)).toBeUndefined();
    expect(await owner(previous)).toBe(BigInt(USER));
    expect((await person()).ingestTokenHash).toBe(
      createHash("sha256").update(previous).digest("hex"),
    );

    // Telegram fails for a while (5xx): the update is tried again, and the token the person is
    // finally shown is the one that works; the one they had works until then
    t.emulator.failNext("sendMessage", { code: 502, description: "Bad Gateway" });
    const [notice, shown] = await t.emulator.ask(USER, "/settings token", 2);
    expect(notice.text).toBe(PROCESSING_LATER);
    const current = tokenIn(shown.text)!;
    expect(current).toBeDefined();
    expect(shown.text).toContain("The previous token no longer works");
    expect(await owner(current)).toBe(BigInt(USER));
    expect(await owner(previous)).toBeNull();
  });

  it("explains unknown settings", async () => {
    const [unknown] = await t.emulator.ask(USER, "/settings colour blue");
    expect(unknown.text).toMatch(/I don't know the setting “colour”/);
  });

  it("tells the person when the mirror cannot write to their sheet, with the fix", async () => {
    const notify = createSheetsNotifier(
      t.bot.telegram,
      t.deps,
      "coachrl@proj.iam.gserviceaccount.com",
    );
    const userId = (await person()).id;
    const before = t.emulator.botMessages(USER).length;
    await notify({ userId, sheetId: "1AbC", cause: "not_shared", message: "403" });
    await notify({ userId, sheetId: "1AbC", cause: "not_found", message: "404" });
    const [notShared, notFound] = t.emulator.botMessages(USER).slice(before);
    expect(notShared.text).toContain("isn't shared with me");
    expect(notShared.text).toContain("add coachrl@proj.iam.gserviceaccount.com as Editor");
    expect(notFound.text).toContain("couldn't find your Google Sheet (1AbC)");
    expect(notFound.text).toContain("/settings sheet <link>");
    // someone who deleted their account is not messaged
    await notify({ userId: 999_999, sheetId: "x", cause: "not_found", message: "404" });
    expect(t.emulator.botMessages(USER).length).toBe(before + 2);
  });
});
