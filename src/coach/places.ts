/**
 * Places people name when asked where they are: a city ("Kathmandu", "são paulo", "Paris,
 * France"), a country ("Nepal"; one with several time zones asks which), an IANA zone name
 * ("Asia/Calcutta"), each forgiving small typos ("Berln"). The data (cities with population,
 * countries with their zones, the zone list with its renamed and merged names) is passed in, so
 * the matching stays pure; the Telegram adapter loads it from maintained data packages.
 *
 * Zone names are shown in their modern spelling (Asia/Kolkata, Europe/Kyiv) even where the
 * platform's time-zone database still reports the old one (Asia/Calcutta, Europe/Kiev).
 */

import { canonicalTimeZone, utcOffsetMinutes } from "./days.js";
import { foldName } from "./habits.js";
import { editDistance } from "./parse.js";

export interface CityRecord {
  name: string;
  /** the name in plain ASCII letters, when it differs */
  asciiName?: string;
  /** ISO 3166-1 alpha-2 */
  countryCode: string;
  /** state or province, for "Portland, Oregon" */
  province?: string;
  zone: string;
  population: number;
}

export interface CountryRecord {
  /** ISO 3166-1 alpha-2 */
  code: string;
  name: string;
  /** other names people use: "USA", "UK", "Holland" */
  otherNames?: string[];
  /** its zones, the most relevant first */
  zones: string[];
}

export interface ZoneRecord {
  name: string;
  /** the zone this name now stands for (a renamed or merged zone) */
  aliasOf?: string;
  /** standard and daylight-saving offsets from UTC, in minutes */
  utcOffset: number;
  dstOffset: number;
}

export interface PlaceData {
  cities: CityRecord[];
  countries: CountryRecord[];
  zones: ZoneRecord[];
  /** the zone names the platform's time-zone database knows as canonical (Intl.supportedValuesOf) */
  platformZones: readonly string[];
}

interface Named {
  key: string;
  label: string;
}

interface IndexedCity extends Named {
  city: CityRecord;
  zone: string;
}

interface IndexedCountry extends Named {
  country: CountryRecord;
}

export interface PlaceIndex {
  readonly cities: IndexedCity[];
  readonly citiesByKey: Map<string, IndexedCity[]>;
  readonly countries: IndexedCountry[];
  readonly countriesByKey: Map<string, IndexedCountry>;
  /** folded "asia kolkata" and "kolkata" (a zone's last part) → modern zone name */
  readonly zonesByKey: Map<string, string>;
  /** the platform's name → the modern name, where they differ (Asia/Calcutta → Asia/Kolkata) */
  readonly modernNames: Map<string, string>;
  readonly zones: Map<string, ZoneRecord>;
}

/** A zone choice offered for a country with several: the zone and its best-known city. */
export interface ZoneChoice {
  zone: string;
  city: string;
}

export type PlaceMatch =
  | {
      kind: "zone";
      zone: string;
      how: "name" | "city" | "country";
      /** the place as the data spells it ("Berlin", "Nepal") */
      place: string;
      /** the input was read as a misspelling of `place` */
      corrected: boolean;
    }
  | { kind: "choose"; country: string; choices: ZoneChoice[] }
  | { kind: "unknown"; suggestions: string[] };

/** Most zone choices offered for one country; more → ask for the city instead. */
export const MAX_ZONE_CHOICES = 8;

/** Shortest input matched as a misspelling (shorter names must be exact). */
const MIN_FUZZY_INPUT = 4;

function fuzzyLimit(key: string): number {
  return key.length >= 8 ? 2 : 1;
}

/**
 * The modern name of a zone the platform knows, or null when it knows no such zone: the
 * platform's canonical spelling, renamed where the data says the zone has a newer name
 * (Asia/Calcutta → Asia/Kolkata). A zone merged into another (Europe/Stockholm shares Berlin's
 * rules) keeps its own name: people recognise their city.
 */
export function modernZoneName(index: PlaceIndex, zone: string): string | null {
  const canonical = canonicalTimeZone(zone);
  if (canonical === null) return null;
  return index.modernNames.get(canonical) ?? canonical;
}

/**
 * The platform's name → the modern name, where the platform still uses an old one: a zone the
 * data lists as an alias of another, which the platform knows while it does not know the other
 * (Asia/Calcutta → Asia/Kolkata). A merged zone (Europe/Stockholm, now sharing Berlin's rules)
 * is known by the platform under both names and keeps its own.
 */
export function zoneRenames(
  zones: readonly ZoneRecord[],
  platformZones: readonly string[],
): Map<string, string> {
  const known = new Set(platformZones);
  const renames = new Map<string, string>();
  for (const z of zones) {
    const target = z.aliasOf;
    if (target === undefined || target.startsWith("Etc/")) continue;
    if (known.has(z.name) && !known.has(target)) renames.set(z.name, target);
  }
  return renames;
}

export function buildPlaceIndex(data: PlaceData): PlaceIndex {
  const zones = new Map(data.zones.map((z) => [z.name, z]));
  const modernNames = zoneRenames(data.zones, data.platformZones);
  const known = new Set([...data.platformZones, ...modernNames.values()]);
  const modern = (zone: string, depth = 0): string | null => {
    const renamed = modernNames.get(zone);
    if (renamed !== undefined) return renamed;
    if (known.has(zone)) return zone;
    // an alias, or a zone newer than the platform's database: follow the data's alias
    const alias = zones.get(zone)?.aliasOf;
    return alias !== undefined && alias !== zone && depth < 3 ? modern(alias, depth + 1) : null;
  };
  const zonesByKey = new Map<string, string>();
  for (const z of data.zones) {
    const name = modern(z.name);
    if (name === null) continue;
    zonesByKey.set(foldName(z.name), name);
    const last = z.name.split("/").pop() ?? z.name;
    const key = foldName(last.replace(/_/g, " "));
    if (key !== "" && !zonesByKey.has(key)) zonesByKey.set(key, name);
  }
  const cities: IndexedCity[] = [];
  const citiesByKey = new Map<string, IndexedCity[]>();
  for (const city of data.cities) {
    const zone = modern(city.zone);
    if (zone === null) continue;
    const keys = new Set([foldName(city.name), foldName(city.asciiName ?? city.name)]);
    for (const key of keys) {
      if (key === "") continue;
      const entry = { key, label: city.name, city, zone };
      cities.push(entry);
      const list = citiesByKey.get(key) ?? [];
      list.push(entry);
      citiesByKey.set(key, list);
    }
  }
  for (const list of citiesByKey.values()) {
    list.sort((a, b) => b.city.population - a.city.population);
  }
  const countries: IndexedCountry[] = [];
  const countriesByKey = new Map<string, IndexedCountry>();
  for (const country of data.countries) {
    const ownZones = country.zones.map(modern).filter((z): z is string => z !== null);
    if (ownZones.length === 0) continue;
    const record = { ...country, zones: [...new Set(ownZones)] };
    for (const name of [country.name, ...(country.otherNames ?? [])]) {
      const key = foldName(name);
      if (key === "" || countriesByKey.has(key)) continue;
      const entry = { key, label: country.name, country: record };
      countries.push(entry);
      countriesByKey.set(key, entry);
    }
  }
  return { cities, citiesByKey, countries, countriesByKey, zonesByKey, modernNames, zones };
}

/**
 * The zones of a country that keep different clocks, each stood for by the zone with the most
 * populous city of that country (zones where none of its cities lie are left out when others
 * have some).
 */
function countryZones(index: PlaceIndex, country: CountryRecord, at: Date): ZoneChoice[] {
  const candidates = country.zones.map((zone) => {
    let best: IndexedCity | undefined;
    for (const c of index.cities) {
      if (c.zone !== zone || c.city.countryCode !== country.code) continue;
      if (!best || c.city.population > best.city.population) best = c;
    }
    const rules = index.zones.get(zone);
    return {
      zone,
      city: best?.label ?? (zone.split("/").pop() ?? zone).replace(/_/g, " "),
      population: best?.city.population ?? -1,
      // zones that keep the same clock all year count once
      clock: `${utcOffsetMinutes(at, zone)}|${rules?.utcOffset ?? ""}|${rules?.dstOffset ?? ""}`,
      offset: utcOffsetMinutes(at, zone),
    };
  });
  const inhabited = candidates.filter((c) => c.population >= 0);
  const byClock = new Map<string, (typeof candidates)[number]>();
  for (const c of inhabited.length > 0 ? inhabited : candidates) {
    const seen = byClock.get(c.clock);
    if (!seen || c.population > seen.population) byClock.set(c.clock, c);
  }
  return [...byClock.values()]
    .sort((a, b) => a.offset - b.offset)
    .map(({ zone, city }) => ({ zone, city }));
}

function countryMatch(
  index: PlaceIndex,
  country: CountryRecord,
  at: Date,
  corrected: boolean,
): PlaceMatch {
  const choices = countryZones(index, country, at);
  if (choices.length === 1) {
    return { kind: "zone", zone: choices[0].zone, how: "country", place: country.name, corrected };
  }
  return { kind: "choose", country: country.name, choices };
}

/** Cities called `key`, optionally only those in a country or province named `within`. */
function citiesCalled(index: PlaceIndex, key: string, within?: string): IndexedCity[] {
  const all = index.citiesByKey.get(key) ?? [];
  if (within === undefined) return all;
  const country = index.countriesByKey.get(within)?.country.code;
  return all.filter(
    (c) =>
      c.city.countryCode === country ||
      foldName(c.city.countryCode) === within ||
      (c.city.province !== undefined && foldName(c.city.province) === within),
  );
}

function closest<T extends Named>(
  key: string,
  entries: Iterable<T>,
  weight: (entry: T) => number,
): { entry: T; distance: number } | undefined {
  if (key.length < MIN_FUZZY_INPUT) return undefined;
  let best: { entry: T; distance: number } | undefined;
  for (const entry of entries) {
    const limit = Math.min(fuzzyLimit(key), fuzzyLimit(entry.key));
    const d = editDistance(key, entry.key, limit);
    if (d > limit) continue;
    if (!best || d < best.distance || (d === best.distance && weight(entry) > weight(best.entry))) {
      best = { entry, distance: d };
    }
  }
  return best;
}

/**
 * The place a person named. `at` is the instant whose offsets decide which zones of a country
 * keep the same clock. Order: IANA zone name → city (the most populous of that name, or the one
 * in the country or province after a comma) → country → a zone's city part → misspellings of a
 * city or country.
 */
export function findPlace(index: PlaceIndex, text: string, at: Date): PlaceMatch {
  const input = text.trim();
  if (input.includes("/")) {
    const zone = modernZoneName(index, input);
    if (zone !== null) return { kind: "zone", zone, how: "name", place: zone, corrected: false };
  }
  const [placePart, ...rest] = input.split(",");
  const key = foldName(placePart);
  const within = rest.length > 0 ? foldName(rest.join(" ")) : undefined;
  if (key === "") return { kind: "unknown", suggestions: [] };

  const named = citiesCalled(index, key, within);
  if (named.length > 0) {
    return {
      kind: "zone",
      zone: named[0].zone,
      how: "city",
      place: named[0].label,
      corrected: false,
    };
  }
  const country = index.countriesByKey.get(key);
  if (country) return countryMatch(index, country.country, at, false);
  const zone = index.zonesByKey.get(key);
  if (zone !== undefined) return { kind: "zone", zone, how: "name", place: zone, corrected: false };

  const city = closest(key, index.cities, (c) => c.city.population);
  const nearCountry = closest(key, index.countries, () => 0);
  if (nearCountry && (!city || nearCountry.distance <= city.distance)) {
    return countryMatch(index, nearCountry.entry.country, at, true);
  }
  if (city) {
    return {
      kind: "zone",
      zone: city.entry.zone,
      how: "city",
      place: city.entry.label,
      corrected: true,
    };
  }
  return { kind: "unknown", suggestions: [] };
}
