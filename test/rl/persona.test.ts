import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadPersonaFile, parsePersona, validatePersona } from "../../src/rl/persona.js";

const SHIPPED = ["steady", "overloaded", "weekday", "cross-effects", "seed-23"];
const steadyJson = () => JSON.parse(readFileSync("personas/steady.json", "utf8"));

describe("personas", () => {
  it.each(SHIPPED)("shipped persona %s is valid", async (name) => {
    const persona = await loadPersonaFile(`personas/${name}.json`);
    expect(persona.name).toBe(name);
    for (const h of persona.habits) expect(persona.behaviour.habits[h.id]).toBeDefined();
  });

  it("seed-23 has 23 habits with 2–20 levels, exclusive groups and actor groups of ≤ 5", async () => {
    const persona = await loadPersonaFile("personas/seed-23.json");
    expect(persona.habits).toHaveLength(23);
    const counts = persona.habits.map((h) => h.levels.length);
    expect(Math.min(...counts)).toBe(2);
    expect(Math.max(...counts)).toBe(20);
    const exclusive = new Set(
      persona.habits.map((h) => h.exclusiveGroup).filter((g) => g !== null),
    );
    expect(exclusive.size).toBeGreaterThanOrEqual(2);
    const sizes = new Map<number, number>();
    for (const h of persona.habits) sizes.set(h.actorGroup, (sizes.get(h.actorGroup) ?? 0) + 1);
    expect(Math.max(...sizes.values())).toBeLessThanOrEqual(5);
  });

  it("names the field of every problem", () => {
    const bad = steadyJson();
    bad.behaviour.habits.walk.compliance = 1.5;
    delete bad.behaviour.habits.read;
    bad.behaviour.crossEffects = [{ from: "walk", to: "swim", effect: 0.1 }];
    bad.behaviour.weekdayFactors = [1, 1, 1];
    bad.habits[0].daysPerWeek = 9;
    const result = validatePersona(bad);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const fields = result.problems.map((p) => p.field);
    expect(fields).toContain("behaviour.habits.walk.compliance");
    expect(fields).toContain("behaviour.habits.read");
    expect(fields).toContain("behaviour.crossEffects[0].to");
    expect(fields).toContain("behaviour.weekdayFactors");
    expect(fields).toContain("habits[0].daysPerWeek");
    const compliance = result.problems.find((p) => p.field === "behaviour.habits.walk.compliance");
    expect(compliance?.message).toMatch(/between 0 and 1, got 1.5/);
  });

  it("rejects non-JSON and wrong formats with a readable message, never a crash", async () => {
    expect(() => parsePersona("{ nope", "x.json")).toThrow(/x.json is not valid JSON/);
    expect(() => parsePersona(JSON.stringify({ ...steadyJson(), format: 2 }), "y.json")).toThrow(
      /y.json is not a valid persona:\n {2}- format: format must be 1/,
    );
    await expect(loadPersonaFile("personas/missing.json")).rejects.toThrow(
      /cannot read persona file/,
    );
    expect(validatePersona(null).ok).toBe(false);
    expect(validatePersona([]).ok).toBe(false);
  });
});
