import { describe, expect, it } from "vitest";
import { inUnit } from "../../src/coach/weight.js";
import { parseCsv } from "../../src/ingest/csv.js";
import { parseScaleCsv } from "../../src/ingest/scale-csv.js";

const now = new Date("2026-11-30T12:00:00Z");
const options = { timeZone: "Europe/Berlin", now };

/** The samples as "ISO=kg" strings, for compact expectations. */
function kg(text: string, opts: Partial<typeof options> & { defaultUnit?: "kg" | "lb" } = {}) {
  const r = parseScaleCsv(text, { ...options, ...opts });
  return {
    samples: r.samples.map((s) => `${s.measuredAt.toISOString()}=${inUnit(s, "kg")}`),
    problems: r.problems,
  };
}

describe("parseCsv", () => {
  it("reads quoted fields with delimiters, escaped quotes and line breaks, CRLF and a BOM", () => {
    const t = parseCsv('\uFEFFa,b,c\r\n"x,1","say ""hi""","two\r\nlines"\r\n\r\n4,5,6');
    expect(t.delimiter).toBe(",");
    expect(t.rows).toEqual([
      { line: 1, fields: ["a", "b", "c"] },
      { line: 2, fields: ["x,1", 'say "hi"', "two\r\nlines"] },
      { line: 5, fields: ["4", "5", "6"] },
    ]);
  });

  it("guesses semicolons and tabs from the header line", () => {
    expect(parseCsv("Date;Weight\n2026-01-01;72,4").delimiter).toBe(";");
    expect(parseCsv("Date\tWeight\n2026-01-01\t72.4").delimiter).toBe("\t");
    expect(parseCsv('"Date;x",Weight\n').delimiter).toBe(",");
  });

  it("reports a quote that never closes", () => {
    expect(parseCsv('a,b\n"oops,1\n2,3').unterminatedQuoteLine).toBe(2);
  });
});

describe("parseScaleCsv", () => {
  it.each([
    [
      "Withings: Date,Weight (kg),Fat mass (kg)",
      'Date,"Weight (kg)","Fat mass (kg)","Bone mass (kg)"\n"2026-11-20 07:12:03",72.4,15.1,3.1\n"2026-11-21 07:01:00",72.1,15.0,3.1\n',
      ["2026-11-20T06:12:03.000Z=72.4", "2026-11-21T06:01:00.000Z=72.1"],
    ],
    [
      "Renpho: Time of Measurement, Weight(lb), Fat-free Body Weight(lb)",
      "Time of Measurement,Weight(lb),BMI,Fat-free Body Weight(lb)\n2026-11-20 07:12:03,160.0,23.1,120\n",
      ["2026-11-20T06:12:03.000Z=72.575"],
    ],
    [
      "semicolons and decimal commas (German Excel)",
      "Datum;Gewicht (kg)\n20.11.2026 07:12;72,4\n21.11.2026 07:00;72,15\n",
      ["2026-11-20T06:12:00.000Z=72.4", "2026-11-21T06:00:00.000Z=72.15"],
    ],
    [
      "separate Date and Time columns",
      "Date,Time,Body Weight\n2026-11-20,07:12,72.4\n2026-11-21,7:05 PM,72.3\n",
      ["2026-11-20T06:12:00.000Z=72.4", "2026-11-21T18:05:00.000Z=72.3"],
    ],
    [
      "a Date Time column with offsets",
      "Date Time,Weight\n2026-11-20T07:12:00+01:00,72.4\n2026-11-21T07:12:00Z,72.3\n",
      ["2026-11-20T06:12:00.000Z=72.4", "2026-11-21T07:12:00.000Z=72.3"],
    ],
    [
      "a unit column",
      "timestamp,weight,unit\n2026-11-20 07:12,160,lb\n2026-11-21 07:12,72.4,kg\n",
      ["2026-11-20T06:12:00.000Z=72.575", "2026-11-21T06:12:00.000Z=72.4"],
    ],
    [
      "units inside the values",
      "Date,Weight\n2026-11-20,72.4 kg\n2026-11-21,160lbs\n",
      ["2026-11-19T23:00:00.000Z=72.4", "2026-11-20T23:00:00.000Z=72.575"],
    ],
    [
      "a BOM, CRLF line ends, quoted headers and blank lines",
      '\uFEFF"Date","Weight (kg)"\r\n"2026-11-20 07:12","72.4"\r\n\r\n"2026-11-21 07:12","72.2"\r\n',
      ["2026-11-20T06:12:00.000Z=72.4", "2026-11-21T06:12:00.000Z=72.2"],
    ],
    [
      "title lines before the header (Garmin)",
      "Body Weight Report\nexported 2026-11-30\nDate,Weight_kg\n2026-11-20 07:12,72.4\n",
      ["2026-11-20T06:12:00.000Z=72.4"],
    ],
    [
      "tab separated",
      "Date\tWeight (kg)\n2026-11-20 07:12\t72.4\n",
      ["2026-11-20T06:12:00.000Z=72.4"],
    ],
    [
      "no header at all: date,weight",
      "2026-11-20 07:12,72.4\n2026-11-21 07:12,72.3\n",
      ["2026-11-20T06:12:00.000Z=72.4", "2026-11-21T06:12:00.000Z=72.3"],
    ],
  ])("%s", (_name, text, expected) => {
    expect(kg(text)).toEqual({ samples: expected, problems: [] });
  });

  it("uses the person's unit when none is written anywhere", () => {
    expect(kg("Date,Weight\n2026-11-20 07:12,160\n", { defaultUnit: "lb" }).samples).toEqual([
      "2026-11-20T06:12:00.000Z=72.575",
    ]);
    const r = parseScaleCsv("Date,Weight\n2026-11-20 07:12,160\n", {
      ...options,
      defaultUnit: "lb",
    });
    expect(r.samples[0]).toMatchObject({ value: 160, unit: "lb", where: "row 2" });
  });

  it("reads a broken row as a located problem and keeps every other row", () => {
    const text = [
      "Date,Weight (kg)",
      "2026-11-01 07:00,72.0",
      ",72.1",
      "2026-11-03 07:00,",
      "2026-11-04 07:00,7a.2",
      "2026-11-05 07:00,7.2",
      "2026-11-06 07:00,1000",
      "not a date,72.3",
      "2026-02-30 07:00,72.3",
      "2099-11-09 07:00,72.3",
      '"2026-11-10 07:00","72.4 stone-ish"',
      "2026-11-11 07:00,72.5 oz",
      "2026-11-11 08:00,7x",
      ",",
      "2026-11-13 07:00,72.6",
    ].join("\n");
    expect(kg(text)).toEqual({
      samples: ["2026-11-01T06:00:00.000Z=72", "2026-11-13T06:00:00.000Z=72.6"],
      problems: [
        "row 3: no date",
        "row 4: no weight",
        'row 5: weight "7a.2" is not a number',
        "row 6: weight 7.2 kg is not a plausible body weight (accepted: 20–400 kg)",
        "row 7: weight 1000 kg is not a plausible body weight (accepted: 20–400 kg)",
        'row 8: date "not a date" is not a date I can read (use YYYY-MM-DD HH:MM or ISO 8601)',
        'row 9: date "2026-02-30 07:00" does not exist',
        'row 10: date "2099-11-09 07:00" is in the future',
        'row 11: weight "72.4 stone-ish" is not a number',
        'row 12: unit "oz" is not a weight unit (kg, lb, g or st)',
        'row 13: weight "7x" is not a number',
        "row 14: no date and no weight",
      ],
    });
  });

  it("numbers rows by the file's lines even with quoted line breaks", () => {
    const r = kg('Date,Weight,Note\n2026-11-01 07:00,72,"after\nbreakfast"\n2026-11-02 07:00,x,\n');
    expect(r.problems).toEqual(['row 4: weight "x" is not a number']);
  });

  it("rejects absurd values in pounds with the kilograms shown", () => {
    expect(kg("Date,Weight (lb)\n2026-11-01 07:00,30\n").problems).toEqual([
      "row 2: weight 30 lb (13.6 kg) is not a plausible body weight (accepted: 20–400 kg)",
    ]);
  });

  it.each([
    ["an empty file", "", ["the file is empty"]],
    ["only a BOM and blank lines", "\uFEFF\r\n\r\n", ["the file is empty"]],
    ["a header only", "Date,Weight\n", ["the file has a header but no measurements"]],
    [
      "no weight column",
      "Date,Steps\n2026-11-01,9000\n",
      [
        'no weight and date columns found: expected a header such as "Date,Weight (kg)"; the first row is "Date", "Steps"',
      ],
    ],
    [
      "only lookalike columns",
      "Date,Fat mass (kg),Goal weight\n2026-11-01,15,70\n",
      [
        'no weight and date columns found: expected a header such as "Date,Weight (kg)"; the first row is "Date", "Fat mass (kg)", "Goal weight"',
      ],
    ],
  ])("says what is wrong with %s", (_name, text, problems) => {
    expect(kg(text)).toEqual({ samples: [], problems });
  });

  it("survives hostile input without throwing and without echoing it at length", () => {
    const hostile = [
      `Date,Weight\n2026-11-01 07:00,${"9".repeat(100_000)}\n`,
      `Date,Weight\n${"\u0000\u0007".repeat(1000)},72\n`,
      `Date,Weight\n"${"x".repeat(50_000)}`,
      `Date,Weight\n2026-11-01 07:00,NaN\n2026-11-02 07:00,Infinity\n2026-11-03 07:00,1e2\n2026-11-04 07:00,-72\n`,
      ",".repeat(100_000),
      '"'.repeat(10_001),
      `Date,Weight\n${"2026-11-01 07:00,72,\n".repeat(2)}${"\r".repeat(1000)}`,
    ];
    for (const text of hostile) {
      const r = parseScaleCsv(text, options);
      for (const p of r.problems) expect(p.length).toBeLessThan(300);
      expect(r.samples.every((s) => Number.isFinite(s.value) && s.value > 0)).toBe(true);
    }
    const r = parseScaleCsv(hostile[3], options);
    expect(r.samples).toEqual([]);
    expect(r.problems).toHaveLength(4);
  });

  it("caps the list of problems for a file full of broken rows", () => {
    const text = `Date,Weight\n${"2026-11-01 07:00,abc\n".repeat(500)}`;
    const r = parseScaleCsv(text, options);
    expect(r.problems).toHaveLength(101);
    expect(r.problems.at(-1)).toBe("… and 400 more problems");
  });
});
