// The coach core's place matching on small hand-made data (the bot feeds it the real data set:
// test/bot/chat-input.test.ts and test/bot/first-week.test.ts).
import { describe, expect, it } from "vitest";
import {
  buildPlaceIndex,
  daysPerWeekAnswer,
  findPlace,
  habitKindAnswer,
  modernZoneName,
  numberWordsToDigits,
  type PlaceData,
  smallTalkOf,
  yesNoAnswer,
  zoneRenames,
} from "../../src/coach/index.js";

const AT = new Date("2026-01-15T12:00:00Z");

const DATA: PlaceData = {
  zones: [
    { name: "Asia/Kolkata", utcOffset: 330, dstOffset: 330 },
    { name: "Asia/Calcutta", aliasOf: "Asia/Kolkata", utcOffset: 330, dstOffset: 330 },
    { name: "Europe/Berlin", utcOffset: 60, dstOffset: 120 },
    { name: "Europe/Stockholm", aliasOf: "Europe/Berlin", utcOffset: 60, dstOffset: 120 },
    { name: "Europe/Madrid", utcOffset: 60, dstOffset: 120 },
    { name: "Europe/Paris", utcOffset: 60, dstOffset: 120 },
    { name: "America/Chicago", utcOffset: -360, dstOffset: -300 },
    { name: "Atlantic/Canary", utcOffset: 0, dstOffset: 60 },
    { name: "Etc/UTC", utcOffset: 0, dstOffset: 0 },
    { name: "UTC", aliasOf: "Etc/UTC", utcOffset: 0, dstOffset: 0 },
  ],
  // what a platform with the old spelling lists as canonical
  platformZones: [
    "Asia/Calcutta",
    "Europe/Berlin",
    "Europe/Stockholm",
    "Europe/Madrid",
    "Europe/Paris",
    "America/Chicago",
    "Atlantic/Canary",
    "UTC",
  ],
  countries: [
    { code: "IN", name: "India", zones: ["Asia/Kolkata"] },
    { code: "DE", name: "Germany", zones: ["Europe/Berlin"] },
    {
      code: "ES",
      name: "Spain",
      otherNames: ["España"],
      zones: ["Europe/Madrid", "Atlantic/Canary"],
    },
  ],
  cities: [
    { name: "Mumbai", countryCode: "IN", zone: "Asia/Calcutta", population: 15_000_000 },
    { name: "Berlin", countryCode: "DE", zone: "Europe/Berlin", population: 3_400_000 },
    { name: "Bern", countryCode: "CH", zone: "Europe/Berlin", population: 130_000 },
    { name: "Stockholm", countryCode: "SE", zone: "Europe/Stockholm", population: 1_500_000 },
    { name: "Madrid", countryCode: "ES", zone: "Europe/Madrid", population: 3_200_000 },
    { name: "Las Palmas", countryCode: "ES", zone: "Atlantic/Canary", population: 380_000 },
    { name: "Paris", countryCode: "FR", zone: "Europe/Paris", population: 2_100_000 },
    {
      name: "Paris",
      countryCode: "US",
      province: "Texas",
      zone: "America/Chicago",
      population: 25_000,
    },
  ],
};

describe("places (coach core)", () => {
  const index = buildPlaceIndex(DATA);

  it("renames a zone the platform still spells the old way, and keeps merged zones' own names", () => {
    expect(zoneRenames(DATA.zones, DATA.platformZones)).toEqual(
      new Map([["Asia/Calcutta", "Asia/Kolkata"]]),
    );
    expect(findPlace(index, "Mumbai", AT)).toMatchObject({ kind: "zone", zone: "Asia/Kolkata" });
    expect(findPlace(index, "Stockholm", AT)).toMatchObject({ zone: "Europe/Stockholm" });
    // a real platform: Node's ICU reports Asia/Calcutta for both names
    expect(modernZoneName(index, "Asia/Kolkata")).toBe("Asia/Kolkata");
    expect(modernZoneName(index, "asia/calcutta")).toBe("Asia/Kolkata");
    expect(modernZoneName(index, "Mars/Olympus")).toBeNull();
  });

  it("reads cities (the most populous of a name, or the one after a comma), countries and typos", () => {
    expect(findPlace(index, "paris", AT)).toMatchObject({ zone: "Europe/Paris", corrected: false });
    expect(findPlace(index, "Paris, Texas", AT)).toMatchObject({ zone: "America/Chicago" });
    expect(findPlace(index, "Germany", AT)).toMatchObject({
      kind: "zone",
      how: "country",
      zone: "Europe/Berlin",
    });
    expect(findPlace(index, "Berln", AT)).toMatchObject({
      zone: "Europe/Berlin",
      place: "Berlin",
      corrected: true,
    });
    expect(findPlace(index, "Bern", AT)).toMatchObject({ place: "Bern", corrected: false });
    expect(findPlace(index, "Gremany", AT)).toMatchObject({ how: "country", corrected: true });
    expect(findPlace(index, "Atlantis", AT)).toEqual({ kind: "unknown", suggestions: [] });
    expect(findPlace(index, "Xy", AT)).toMatchObject({ kind: "unknown" });
  });

  it("asks which zone for a country whose zones keep different clocks", () => {
    expect(findPlace(index, "España", AT)).toEqual({
      kind: "choose",
      country: "Spain",
      choices: [
        { zone: "Atlantic/Canary", city: "Las Palmas" },
        { zone: "Europe/Madrid", city: "Madrid" },
      ],
    });
  });
});

describe("answers to the bot's questions (coach core)", () => {
  it.each([
    ["daily", 7],
    ["every day", 7],
    ["5", 5],
    ["5/week", 5],
    ["3x a week", 3],
    ["four times a week", 4],
    ["twice a week", 2],
    ["once", 1],
    ["weekdays", 5],
    ["9", 9],
  ])("%s → %i days a week", (text, days) => {
    expect(daysPerWeekAnswer(text)).toBe(days);
  });
  it.each(["run 30", "soon", ""])("%j is no number of days", (text) => {
    expect(daysPerWeekAnswer(text)).toBeUndefined();
  });

  it("reads yes/no, how a habit is measured, number words and small talk", () => {
    expect([yesNoAnswer("Yes!"), yesNoAnswer("nope"), yesNoAnswer("maybe")]).toEqual([
      true,
      false,
      undefined,
    ]);
    expect([
      habitKindAnswer("minutes"),
      habitKindAnswer("an amount"),
      habitKindAnswer("done or not"),
    ]).toEqual(["duration", "count", "check"]);
    expect(numberWordsToDigits("ran twenty-five minutes, read six", () => false)).toBe(
      "ran 25 minutes, read 6",
    );
    expect(numberWordsToDigits("one minute journal 5", (w) => w === "one")).toBe(
      "one minute journal 5",
    );
    expect(smallTalkOf("Thanks!")).toBe("thanks");
    expect(smallTalkOf("what should I do today?")).toBe("today");
    expect(smallTalkOf("hello")).toBe("greeting");
    expect(smallTalkOf("run 30")).toBeUndefined();
  });
});
