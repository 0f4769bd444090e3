import { describe, expect, it } from "vitest";
import {
  assignActorGroups,
  defaultLevels,
  type HabitSpec,
  validateHabit,
  validateHabitSet,
  validateMetricGoal,
} from "../../src/coach/index.js";
import { habit } from "./fixtures.js";

function problemsOf(input: unknown) {
  const r = validateHabit(input);
  if (r.ok) throw new Error("expected problems");
  return r.problems;
}

describe("defaultLevels", () => {
  it.each([
    ["check", 1, [0, 1]],
    ["duration", 30, [0, 15, 30, 45]],
    ["duration", 20, [0, 10, 20, 30]],
    ["duration", 25, [0, 13, 25, 38]],
    ["duration", 1, [0, 1, 2]],
    ["count", 60, [0, 30, 60, 90]],
    ["count", 1, [0, 1, 2]],
    ["count", 5, [0, 3, 5, 8]],
    ["count", 2.5, [0, 1.3, 2.5, 3.8]],
  ] as const)("%s target %d → %j", (kind, target, levels) => {
    expect(defaultLevels(kind, target)).toEqual(levels);
  });
});

describe("validateHabit", () => {
  it("fills defaults for a minimal duration habit", () => {
    const r = validateHabit({
      id: "1",
      name: " Run ",
      kind: "duration",
      target: 30,
      daysPerWeek: 5,
    });
    expect(r).toEqual({
      ok: true,
      habit: {
        id: "1",
        name: "Run",
        aliases: [],
        kind: "duration",
        unit: "min",
        target: 30,
        daysPerWeek: 5,
        levels: [0, 15, 30, 45],
        exclusiveGroup: null,
        actorGroup: 0,
      },
    });
  });

  it("a check habit gets target 1, levels [0, 1] and no unit", () => {
    const r = validateHabit({ id: "m", name: "meditate", kind: "check", daysPerWeek: 7 });
    expect(r.ok && r.habit).toMatchObject({ target: 1, levels: [0, 1], unit: "" });
  });

  it("reports every problem with its field and a sentence, without throwing", () => {
    const problems = problemsOf({
      id: "",
      name: "",
      kind: "walk",
      target: -3,
      daysPerWeek: 9,
      levels: [1, 2],
      exclusiveGroup: 5,
      capacityMinutes: -1,
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        { field: "id", message: 'id must be a non-empty string, got ""' },
        { field: "name", message: "name must not be empty" },
        { field: "kind", message: 'kind must be one of duration, count or check, got "walk"' },
        { field: "daysPerWeek", message: "days per week must be 1–7, got 9" },
        {
          field: "exclusiveGroup",
          message: "exclusive group must be a non-empty name or null, got 5",
        },
        { field: "capacityMinutes", message: "minutes per session must be 0–1440, got -1" },
      ]),
    );
  });

  it.each([
    [{ target: 0 }, "target", "target must be more than 0, got 0"],
    [{ target: 2000 }, "target", "a session can't be longer than 24 h (1440 min), got 2000"],
    [{ target: "30" }, "target", 'target must be a number, got "30"'],
    [{ target: undefined }, "target", "target is required (amount per session)"],
    [{ daysPerWeek: 2.5 }, "daysPerWeek", "days per week must be 1–7, got 2.5"],
    [{ daysPerWeek: 0 }, "daysPerWeek", "days per week must be 1–7, got 0"],
    [{ levels: [0, 30, 20] }, "levels", "levels must be strictly ascending, but 20 follows 30"],
    [{ levels: [5, 30] }, "levels", "the first level must be 0, got 5"],
    [{ levels: [0] }, "levels", "levels must hold 2–20 amounts, got 1"],
    [{ levels: [0, -1] }, "levels[1]", "level 2 must be a number ≥ 0, got -1"],
    [{ levels: "0,1" }, "levels", 'levels must be a list of amounts, got "0,1"'],
    [{ name: "42" }, "name", 'name must contain at least one letter, got "42"'],
    [{ name: "run, jog" }, "name", "name must not contain commas, semicolons or line breaks"],
    [{ name: "x".repeat(41) }, "name", "name must be at most 40 characters, got 41"],
    [{ unit: "km" }, "unit", 'a duration habit is measured in "min", got "km"'],
    [{ actorGroup: -1 }, "actorGroup", "actor group must be a whole number ≥ 0, got -1"],
    [{ aliases: "jog" }, "aliases", 'aliases must be a list of names, got "jog"'],
    [{ aliases: ["jog", 7] }, "aliases[1]", "alias 2 must be text, got 7"],
  ])("%j → %s: %s", (change, field, message) => {
    const base = { id: "r", name: "run", kind: "duration", target: 30, daysPerWeek: 5 };
    expect(problemsOf({ ...base, ...change })).toContainEqual({ field, message });
  });

  it("rejects a check habit with other levels or targets", () => {
    expect(problemsOf({ id: "m", name: "m", kind: "check", daysPerWeek: 7, target: 2 })).toEqual([
      { field: "target", message: "a check habit's target is 1 (done), got 2" },
    ]);
    expect(
      problemsOf({ id: "m", name: "m", kind: "check", daysPerWeek: 7, levels: [0, 1, 2] }),
    ).toEqual([{ field: "levels", message: "a check habit's levels are [0, 1]" }]);
  });

  it("never throws on junk", () => {
    for (const junk of [null, undefined, 3, "run", [], [1, 2], { name: {} }, { levels: [null] }]) {
      const r = validateHabit(junk);
      expect(r.ok).toBe(false);
    }
    expect(problemsOf(null)).toEqual([
      { field: "habit", message: "a habit must be an object, got null" },
    ]);
  });

  it("drops aliases that repeat the name or each other (case and accents ignored)", () => {
    const h = habit({
      id: "s",
      name: "Español",
      aliases: ["espanol", "Spanish", "SPANISH"],
      kind: "check",
    });
    expect(h.aliases).toEqual(["Spanish"]);
  });
});

describe("validateHabitSet", () => {
  it("finds duplicate ids and names shared between habits", () => {
    const a = habit({ id: "a", name: "Run", kind: "check" });
    const b = habit({ id: "a", name: "violin", aliases: ["run"], kind: "check" });
    expect(validateHabitSet([a, b])).toEqual([
      { field: "habits[1].id", message: 'habit id "a" is used twice (habits 1 and 2)' },
      { field: "habits[1].name", message: '"run" is already the name or alias of "Run"' },
    ]);
  });
});

describe("validateMetricGoal", () => {
  it("accepts a weight goal and reports bad fields", () => {
    expect(
      validateMetricGoal({
        id: "w",
        name: "weight",
        unit: "kg",
        target: 70,
        tolerance: 1,
        direction: "reach",
      }),
    ).toMatchObject({ ok: true });
    const r = validateMetricGoal({
      id: "w",
      name: "weight",
      target: 70,
      tolerance: 0,
      direction: "up",
    });
    expect(r.ok ? [] : r.problems).toEqual([
      { field: "tolerance", message: "tolerance must be more than 0, got 0" },
      { field: "direction", message: 'direction must be "reach" or "keep", got "up"' },
    ]);
  });
});

describe("assignActorGroups", () => {
  const make = (n: number, named: Record<number, string> = {}): HabitSpec[] =>
    Array.from({ length: n }, (_, i) =>
      habit({
        id: `h${i}`,
        name: `habit ${String.fromCharCode(97 + i)}`,
        kind: "check",
        actorGroupName: named[i],
      }),
    );

  it("fills groups of at most 5 in order", () => {
    expect(assignActorGroups(make(12)).map((h) => h.actorGroup)).toEqual([
      0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2,
    ]);
    expect(assignActorGroups(make(5), 2).map((h) => h.actorGroup)).toEqual([0, 0, 1, 1, 2]);
  });

  it("is stable: appending a habit never moves an existing one", () => {
    for (let n = 1; n < 24; n++) {
      const before = assignActorGroups(make(n)).map((h) => h.actorGroup);
      const after = assignActorGroups(make(n + 1)).map((h) => h.actorGroup);
      expect(after.slice(0, n)).toEqual(before);
    }
  });

  it("keeps user-named groups together and never exceeds the size", () => {
    const groups = assignActorGroups(make(8, { 1: "music", 4: "music", 6: "music" })).map(
      (h) => h.actorGroup,
    );
    expect(groups).toEqual([0, 1, 0, 0, 1, 0, 1, 0]);
    const sizes = new Map<number, number>();
    for (const g of groups) sizes.set(g, (sizes.get(g) ?? 0) + 1);
    expect(Math.max(...sizes.values())).toBeLessThanOrEqual(5);
  });

  it("does not mutate its input", () => {
    const hs = make(7);
    assignActorGroups(hs);
    expect(hs.every((h) => h.actorGroup === 0)).toBe(true);
  });
});
