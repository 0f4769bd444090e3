import { describe, expect, it } from "vitest";
import { parseWeightJson } from "../../src/ingest/json-body.js";

const now = new Date("2026-11-30T12:00:00.000Z");
const options = { timeZone: "Europe/Berlin", now };

describe("parseWeightJson", () => {
  it("reads one measurement", () => {
    const r = parseWeightJson(
      '{"weight": 72.4, "unit": "kg", "measuredAt": "2026-11-30T07:10:00+01:00"}',
      options,
    );
    expect(r).toEqual({
      samples: [
        { value: 72.4, unit: "kg", measuredAt: new Date("2026-11-30T06:10:00Z"), where: "" },
      ],
      problems: [],
    });
  });

  it("reads a list, {samples: [...]}, strings with decimal commas, pounds, and no date (now)", () => {
    const r = parseWeightJson(
      JSON.stringify([
        { weight: "72,4", measuredAt: "2026-11-29 07:10" },
        { weight: 160, unit: "lbs", measuredAt: "2026-11-28T07:10:00Z" },
        { weight: 72.2 },
      ]),
      options,
    );
    expect(r.problems).toEqual([]);
    expect(r.samples.map((s) => [s.value, s.unit, s.measuredAt.toISOString(), s.where])).toEqual([
      [72.4, "kg", "2026-11-29T06:10:00.000Z", "item 1"],
      [160, "lb", "2026-11-28T07:10:00.000Z", "item 2"],
      [72.2, "kg", now.toISOString(), "item 3"],
    ]);
    expect(parseWeightJson('{"samples":[{"weight":72}]}', options).samples).toHaveLength(1);
  });

  it("reads grams and stones, and names the first problem of an item", () => {
    const r = parseWeightJson(
      '[{"weight":72400,"unit":"g","measuredAt":"2026-11-01T07:00:00Z"},{"weight":"11,4","unit":"Stone"}]',
      options,
    );
    expect(r.problems).toEqual([]);
    expect(r.samples.map((s) => [s.value, s.unit])).toEqual([
      [72400, "g"],
      [11.4, "st"],
    ]);
    const both = parseWeightJson('{"weight":7,"measuredAt":"tomorrow"}', options);
    expect(both.problems).toEqual([
      "weight 7 kg is not a plausible body weight (accepted: 20–400 kg)",
    ]);
  });

  it("uses the person's unit when the body names none", () => {
    const r = parseWeightJson('{"weight": 160}', { ...options, defaultUnit: "lb" });
    expect(r.samples[0].unit).toBe("lb");
  });

  it.each([
    ["", "the body is not valid JSON"],
    ["{weight: 72}", "the body is not valid JSON"],
    ["[]", "the list of measurements is empty"],
    ["42", 'expected an object like {"weight": 72.4, "unit": "kg"}'],
    ["null", 'expected an object like {"weight": 72.4, "unit": "kg"}'],
    ['{"unit":"kg"}', 'no "weight"'],
    ['{"weight":"7a.2"}', 'weight "7a.2" is not a number'],
    ['{"weight":true}', 'weight "true" is not a number'],
    ['{"weight":[72]}', 'weight "[72]" is not a number'],
    ['{"weight":12}', "weight 12 kg is not a plausible body weight (accepted: 20–400 kg)"],
    ['{"weight":-72}', "is not a plausible body weight"],
    ['{"weight":72,"unit":"stones of"}', 'unit "stones of" is not a weight unit (kg, lb, g or st)'],
    ['{"weight":72,"unit":5}', 'unit "5" is not a weight unit'],
    ['{"weight":72,"measuredAt":"tomorrow"}', 'date "tomorrow" is not a date I can read'],
    ['{"weight":72,"measuredAt":{"$gt":""}}', '"measuredAt" must be a date string'],
    ['{"weight":72,"measuredAt":"2030-01-01T00:00:00Z"}', "is in the future"],
  ])("refuses %s: %s", (text, message) => {
    const r = parseWeightJson(text, options);
    expect(r.samples).toEqual([]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toContain(message);
  });

  it("keeps the good items of a list and numbers the bad ones", () => {
    const r = parseWeightJson(
      '[{"weight":72,"measuredAt":"2026-11-01T07:00:00Z"},{"weight":"x"},"72",{"weight":73,"measuredAt":"2026-11-02T07:00:00Z"}]',
      options,
    );
    expect(r.samples.map((s) => s.value)).toEqual([72, 73]);
    expect(r.problems).toEqual([
      'item 2: weight "x" is not a number',
      'item 3: expected an object like {"weight": 72.4, "unit": "kg"}',
    ]);
  });

  it("allows only one item without a date per request (it is stamped now)", () => {
    const r = parseWeightJson(
      '[{"weight":72},{"weight":73},{"weight":74,"measuredAt":"2026-11-01T07:00:00Z"}]',
      options,
    );
    expect(r.samples.map((s) => s.value)).toEqual([72, 74]);
    expect(r.problems).toEqual([
      'item 2: no "measuredAt" (only one measurement per request may go without it)',
    ]);
  });

  it("survives deeply nested and prototype-polluting bodies", () => {
    const deep = `${"[".repeat(50_000)}${"]".repeat(50_000)}`;
    expect(() => parseWeightJson(deep, options)).not.toThrow();
    const r = parseWeightJson('{"__proto__":{"weight":72},"constructor":1}', options);
    expect(r.samples).toEqual([]);
    expect(({} as { weight?: number }).weight).toBeUndefined();
  });
});
