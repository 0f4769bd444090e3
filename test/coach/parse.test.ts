import { describe, expect, it } from "vitest";
import {
  editDistance,
  type HabitSpec,
  MAX_REPORT_LENGTH,
  parseReport,
} from "../../src/coach/index.js";
import { HABITS, KM_HABITS } from "./fixtures.js";

const TODAY = "2026-11-22"; // a Sunday
const Y = "2026-11-21";
const ALL_HABITS =
  "Your habits are: run, violin, meditate, push-ups, read, learn Spanish, stretch, strength and 3 more.";

type Expect = [id: string, amount: number, day?: string][] | string[];
interface Case {
  text: string;
  expect: Expect;
  habits?: HabitSpec[];
  backfillDays?: number;
}

const ok = (...items: [string, number, string?][]): Expect => items;
const no = (...problems: string[]): Expect => problems;

const CASES: Case[] = [
  // --- the examples
  { text: "run 30", expect: ok(["run", 30]) },
  { text: "ran 30 min", expect: ok(["run", 30]) },
  { text: "run 30m, violin 15", expect: ok(["run", 30], ["violin", 15]) },
  { text: "meditate", expect: ok(["meditate", 1]) },
  { text: "pushups 3x20", expect: ok(["pushups", 60]) },
  { text: "read 12 pages", expect: ok(["read", 12]) },
  { text: "run 5k", habits: KM_HABITS, expect: ok(["run", 5]) },
  { text: "run 5 km", habits: KM_HABITS, expect: ok(["run", 5]) },
  { text: "run 1h15", expect: ok(["run", 75]) },
  { text: "run 30 yesterday", expect: ok(["run", 30, Y]) },
  { text: "run 30 today", expect: ok(["run", 30]) },
  { text: "2026-11-20 run 30", expect: ok(["run", 30, "2026-11-20"]) },
  // --- amounts and units
  { text: "push-ups 3 x 20", expect: ok(["pushups", 60]) },
  { text: "push ups 20x", expect: ok(["pushups", 20]) },
  { text: "pushups 20 reps", expect: ok(["pushups", 20]) },
  { text: "read 12p", expect: ok(["read", 12]) },
  { text: "run 5.5km", habits: KM_HABITS, expect: ok(["run", 5.5]) },
  { text: "ran 5,5 km", habits: KM_HABITS, expect: ok(["run", 5.5]) },
  { text: "run 1h 15m", expect: ok(["run", 75]) },
  { text: "run 1:15", expect: ok(["run", 75]) },
  { text: "run 1.5h", expect: ok(["run", 90]) },
  { text: "run 2 hours", expect: ok(["run", 120]) },
  { text: "run 1 hour and 15 minutes", expect: ok(["run", 75]) },
  { text: "run 3x10", expect: ok(["run", 30]) },
  { text: "Run 30 MIN", expect: ok(["run", 30]) },
  { text: "run 30.", expect: ok(["run", 30]) },
  { text: "run30", expect: ok(["run", 30]) },
  { text: "run (30 min)!", expect: ok(["run", 30]) },
  { text: "water 8", expect: ok(["water", 8]) },
  { text: "water 8 glasses", expect: ok(["water", 8]) },
  { text: "meditate 0", expect: ok(["meditate", 0]) },
  { text: "meditate yes", expect: ok(["meditate", 1]) },
  { text: "30 min run", expect: ok(["run", 30]) },
  { text: "did a run for 30 min this morning", expect: ok(["run", 30]) },
  // --- several items
  { text: "run 30 violin 15", expect: ok(["run", 30], ["violin", 15]) },
  { text: "run 30 and violin 20", expect: ok(["run", 30], ["violin", 20]) },
  { text: "run 30; violin 15", expect: ok(["run", 30], ["violin", 15]) },
  { text: "run 30\nviolin 15", expect: ok(["run", 30], ["violin", 15]) },
  { text: "run 30, run 15", expect: ok(["run", 30], ["run", 15]) },
  // --- days
  { text: "yesterday: run 30, violin 15", expect: ok(["run", 30, Y], ["violin", 15, Y]) },
  { text: "run 30, violin 15 yesterday", expect: ok(["run", 30, Y], ["violin", 15, Y]) },
  { text: "run 30 yesterday, violin 15 today", expect: ok(["run", 30, Y], ["violin", 15]) },
  { text: "run 30 on 2026-11-15", expect: ok(["run", 30, "2026-11-15"]) },
  { text: "monday run 30", expect: ok(["run", 30, "2026-11-16"]) },
  { text: "sunday run 30", expect: ok(["run", 30]) },
  { text: "last sunday run 30", expect: ok(["run", 30, "2026-11-15"]) },
  {
    text: "read 12 pages yesterday and run 20 on monday",
    expect: ok(["read", 12, Y], ["run", 20, "2026-11-16"]),
  },
  // --- names: aliases, case, accents, misspellings, prefixes, word forms
  { text: "jog 20", expect: ok(["run", 20]) },
  { text: "sit", expect: ok(["meditate", 1]) },
  { text: "Español 15", expect: ok(["spanish", 15]) },
  { text: "espanol 15", expect: ok(["spanish", 15]) },
  { text: "LEARN SPANISH 20", expect: ok(["spanish", 20]) },
  { text: "spanish 20", expect: ok(["spanish", 20]) },
  { text: "runn 30", expect: ok(["run", 30]) },
  { text: "violn 20", expect: ok(["violin", 20]) },
  { text: "learn spansh 20", expect: ok(["spanish", 20]) },
  { text: "vio 20", expect: ok(["violin", 20]) },
  { text: "medit", expect: ok(["meditate", 1]) },
  { text: "journal", expect: ok(["journal", 1]) },
  { text: "running 30", expect: ok(["run", 30]) },
  { text: "meditated", expect: ok(["meditate", 1]) },
  { text: "meditation", expect: ok(["meditate", 1]) },
  { text: "stretching 10", expect: ok(["stretch", 10]) },
  { text: "do the dishes", expect: ok(["dishes", 1]) },
  { text: "dishes", expect: ok(["dishes", 1]) },
  // --- commands, markup, emoji
  { text: "/done run 30", expect: ok(["run", 30]) },
  { text: "/done@CoachRLBot meditate", expect: ok(["meditate", 1]) },
  { text: "meditate ✅", expect: ok(["meditate", 1]) },
  { text: "🏃 run 30 💪", expect: ok(["run", 30]) },
  { text: "run 30 min 😀 violin 15 🎻", expect: ok(["run", 30], ["violin", 15]) },
  { text: "<b>run</b> 30", expect: ok(["run", 30]) },
  { text: "**run** 30 _min_", expect: ok(["run", 30]) },
  // --- problems: names
  { text: "xyz 10", expect: no(`I don't know a habit called "xyz". ${ALL_HABITS}`) },
  { text: "yoga 20", expect: no(`I don't know a habit called "yoga" — did you mean "jog" (run)?`) },
  // --- issue 13: number words, days ago, the amount before the name
  { text: "run thirty", expect: ok(["run", 30]) },
  { text: "ran twenty-five minutes", expect: ok(["run", 25]) },
  { text: "read twenty five pages", expect: ok(["read", 25]) },
  { text: "run 30 2 days ago", expect: ok(["run", 30, "2026-11-20"]) },
  { text: "violin 15 three days ago", expect: ok(["violin", 15, "2026-11-19"]) },
  { text: "run 30 a week ago", expect: ok(["run", 30, "2026-11-15"]) },
  { text: "run 30 the day before yesterday", expect: ok(["run", 30, "2026-11-20"]) },
  {
    text: "run 30 9 days ago",
    expect: no("2026-11-13 is more than 7 days ago — I can only back-fill the last 7 days."),
  },
  { text: "drank 6 water", expect: ok(["water", 6]) },
  { text: "drank 6 glasses of water", expect: ok(["water", 6]) },
  { text: "did 20 push ups yesterday", expect: ok(["pushups", 20, Y]) },
  {
    text: "stre 10",
    expect: no(`"stre" could be "stretch" or "strength" — which one? Write more of the name.`),
  },
  { text: "run 30, xyz 5", expect: no(`I don't know a habit called "xyz". ${ALL_HABITS}`) },
  // --- problems: amounts
  { text: "run", expect: no(`How much "run"? Add an amount, e.g. "run 30 min".`) },
  {
    text: "30 min",
    expect: no(`Which habit is "30 min" for? Put the habit's name next to it, e.g. "run 30 min".`),
  },
  {
    text: "run -30",
    expect: no(`Amounts can't be negative: "-30" for "run". To take back an entry, use /undo.`),
  },
  {
    text: "run 0",
    expect: no(`Zero minutes of "run" is nothing to log — to take back an entry, use /undo.`),
  },
  {
    text: "read 0 pages",
    expect: no(`Zero pages of "read" is nothing to log — to take back an entry, use /undo.`),
  },
  {
    text: "run 1500",
    expect: no(`1500 minutes of "run" is more than a day — please check the amount.`),
  },
  {
    text: "run 25h",
    expect: no(`1500 minutes of "run" is more than a day — please check the amount.`),
  },
  {
    text: "pushups 5000",
    expect: no(
      `5000 reps of "push-ups" is more than 50 times your session target (60) — please check the amount.`,
    ),
  },
  { text: "pushups 2.5", expect: no(`"push-ups" is counted in whole reps — got 2.5.`) },
  {
    text: "meditate 10 min",
    expect: no(`"meditate" is a yes/no habit — write just "meditate" to log it as done.`),
  },
  {
    text: "meditate 2",
    expect: no(`"meditate" is a yes/no habit — write just "meditate" to log it as done.`),
  },
  {
    text: "read 30 min",
    expect: no(`"read" is counted in pages, not minutes — e.g. "read 20 pages".`),
  },
  {
    text: "run 30 min",
    habits: KM_HABITS,
    expect: no(`"run" is counted in km, not minutes — e.g. "run 5 km".`),
  },
  { text: "run 5k", expect: no(`"run" is measured in minutes, not km — e.g. "run 30 min".`) },
  { text: "run 90s", expect: no(`"run" is measured in minutes, not "s" — e.g. "run 30 min".`) },
  { text: "run 30 40", expect: no(`I can't read "30 40" as one amount for "run".`) },
  { text: "run 1e5", expect: no(`I can't read "1e5" as an amount.`) },
  { text: "run 1h60", expect: no(`I can't read "1h60" as an amount.`) },
  // --- problems: days
  {
    text: "run 30 tomorrow",
    expect: no(
      "2026-11-23 is in the future — I can only log days that have already happened (today is 2026-11-22).",
    ),
  },
  {
    text: "2026-11-30 run 30",
    expect: no(
      "2026-11-30 is in the future — I can only log days that have already happened (today is 2026-11-22).",
    ),
  },
  {
    text: "2026-11-14 run 30",
    expect: no("2026-11-14 is more than 7 days ago — I can only back-fill the last 7 days."),
  },
  {
    text: "2026-11-18 run 30",
    backfillDays: 3,
    expect: no("2026-11-18 is more than 3 days ago — I can only back-fill the last 3 days."),
  },
  { text: "2026-02-30 run 30", expect: no("2026-02-30 is not a real date.") },
  {
    text: "run 30 yesterday today",
    expect: no(`"run 30 yesterday today" names 2026-11-21 and 2026-11-22 — which day was it?`),
  },
  {
    text: "run 30 yesterday, violin 15 today, read 5",
    expect: no(
      `Which day is "read 5" for? The message mentions 2026-11-21 and 2026-11-22 — put the day next to each habit.`,
    ),
  },
  // --- hostile and empty input
  { text: "", expect: no(`Tell me what you did, e.g. "run 30 min".`) },
  { text: "   \n\t ", expect: no(`Tell me what you did, e.g. "run 30 min".`) },
  { text: "yesterday", expect: no(`Tell me what you did on 2026-11-21, e.g. "run 30 min".`) },
  { text: "🏃‍♂️🔥💯", expect: no(`Tell me what you did, e.g. "run 30 min".`) },
  {
    text: "run 30; DROP TABLE habits;--",
    expect: no(`I don't know a habit called "DROP TABLE habits". ${ALL_HABITS}`),
  },
  {
    text: "'; DELETE FROM users WHERE 1=1; --",
    expect: no(`I don't know a habit called "DELETE FROM users WHERE". ${ALL_HABITS}`),
  },
  {
    text: "SELECT * FROM habits",
    expect: no(`I don't know a habit called "SELECT FROM habits". ${ALL_HABITS}`),
  },
  {
    text: "<script>alert(1)</script>",
    expect: no(`I don't know a habit called "alert". ${ALL_HABITS}`),
  },
  {
    text: "a".repeat(10_000),
    expect: no(
      `That message is too long to read as a report (10000 characters; I read at most ${MAX_REPORT_LENGTH}). Send one habit per line or comma, e.g. "run 30, violin 15".`,
    ),
  },
  {
    text: Array.from({ length: 31 }, () => "run 1").join(", "),
    expect: no("That is 31 items in one message; I take at most 30 at a time."),
  },
  {
    text: "run 30",
    habits: [],
    expect: no("You have no habits yet — add one with /habits first."),
  },
];

describe("parseReport (table)", () => {
  it("has at least 60 cases", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
  });

  it.each(
    CASES.map((c) => [
      c.text.length > 60 ? `${c.text.slice(0, 40)}… (${c.text.length} chars)` : c.text,
      c,
    ]),
  )("%j", (_label, c) => {
    const result = parseReport(c.text, c.habits ?? HABITS, {
      today: TODAY,
      backfillDays: c.backfillDays,
    });
    if (typeof c.expect[0] === "string") {
      expect(result).toEqual({ ok: false, problems: c.expect });
    } else {
      const items = (c.expect as [string, number, string?][]).map(([habitId, amount, day]) => ({
        habitId,
        amount,
        day: day ?? TODAY,
      }));
      expect(result.ok).toBe(true);
      const got = result.ok
        ? result.items.map(({ habitId, amount, day }) => ({ habitId, amount, day }))
        : [];
      expect(got).toEqual(items);
    }
  });
});

describe("parseReport tells how it read each habit", () => {
  it.each([
    ["run 30", "run", "exact"],
    ["jog 30", "jog", "exact"],
    ["Push ups 20", "Push ups", "exact"],
    ["ran 30", "ran", "word-form"],
    ["vio 20", "vio", "prefix"],
    ["spanish 20", "spanish", "words"],
    ["runn 30", "runn", "misspelling"],
    ["did a run for 30 min", "run", "exact"],
  ])("%j → heard %j, %s", (text, heard, match) => {
    const r = parseReport(text, HABITS, { today: TODAY });
    expect(r.ok && r.items[0]).toMatchObject({ heard, match });
  });
});

describe("parseReport (robustness)", () => {
  it("never throws and never accepts a report with an unknown part, for random junk", async () => {
    const fc = (await import("fast-check")).default;
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: "grapheme" }), (text) => {
        const r = parseReport(text, HABITS, { today: TODAY });
        if (r.ok) {
          for (const item of r.items) {
            expect(HABITS.some((h) => h.id === item.habitId)).toBe(true);
            expect(Number.isFinite(item.amount) && item.amount >= 0).toBe(true);
          }
        } else {
          expect(r.problems.length).toBeGreaterThan(0);
          for (const p of r.problems) expect(p.length).toBeLessThan(400);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("quotes user text shortened, without control characters", () => {
    const r = parseReport(`${"zq".repeat(40)}\u0007 5`, HABITS, { today: TODAY });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problems[0]).toMatch(/^I don't know a habit called "(zq)+z…"/);
      expect(r.problems[0].includes("\u0007")).toBe(false);
    }
  });

  it("reads a long but legal report quickly", () => {
    const text = Array.from(
      { length: 30 },
      (_, i) => `${["run", "violin", "read"][i % 3]} ${i + 1}`,
    ).join(", ");
    expect(text.length).toBeLessThanOrEqual(MAX_REPORT_LENGTH);
    const r = parseReport(text, HABITS, { today: TODAY });
    expect(r.ok && r.items.length).toBe(30);
  });
});

describe("editDistance (optimal string alignment)", () => {
  it.each([
    ["run", "run", 0],
    ["runn", "run", 1],
    ["rnu", "run", 1], // swap
    ["violn", "violin", 1],
    ["meditaet", "meditate", 1],
    ["yoga", "jog", 2],
    ["kitten", "sitting", 3],
    ["", "abc", 3],
  ])("%s ↔ %s = %d", (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });

  it("stops early beyond a limit", () => {
    expect(editDistance("completely", "different", 2)).toBe(3);
  });
});
