// Reading a time zone and a time of day from what people type: an IANA name (Europe/Berlin), a
// city (Berlin, new york, São Paulo), a UTC offset (+2, UTC-5, GMT+5:30) or a shared location;
// and a plan time (7:30, 07:30, 7am, 9.15 pm).
import tzLookup from "@photostructure/tz-lookup";
import cityTimezones from "city-timezones";
import countriesAndTimezones from "countries-and-timezones";
import {
  buildPlaceIndex,
  type CityRecord,
  canonicalTimeZone,
  findPlace,
  isValidTimeZone,
  MAX_ZONE_CHOICES,
  modernZoneName,
  type PlaceData,
  type PlaceIndex,
  utcOffsetMinutes,
  type ZoneChoice,
  type ZoneRecord,
  zoneRenames,
} from "../coach/index.js";

export type TimezoneAnswer =
  | {
      ok: true;
      zone: string;
      how: "name" | "city" | "country" | "offset" | "location";
      /** the typed place was read as a misspelling of this one ("Berln" → Berlin) */
      correctedTo?: string;
    }
  | { ok: false; problem: string }
  /** a country with several time zones: which one? */
  | { ok: false; country: string; choices: ZoneChoice[]; problem: string };

/**
 * Where the place data comes from: city-timezones (7,300 cities with population, country,
 * province and zone), countries-and-timezones (every country's zones, and the zone list with its
 * renamed and merged names) and @photostructure/tz-lookup (a shared location's zone from the
 * time-zone boundaries). All three are maintained data packages; the matching itself is the coach
 * core's (src/coach/places.ts).
 */
function zoneRecords(): ZoneRecord[] {
  return Object.values(countriesAndTimezones.getAllTimezones({ deprecated: true })).map((z) => ({
    name: z.name,
    ...(z.aliasOf ? { aliasOf: z.aliasOf } : {}),
    utcOffset: z.utcOffset,
    dstOffset: z.dstOffset,
  }));
}

function placeData(): PlaceData {
  const zones = zoneRecords();
  const countries = Object.values(countriesAndTimezones.getAllCountries()).map((c) => ({
    code: c.id,
    name: c.name,
    otherNames: OTHER_COUNTRY_NAMES[c.id] ?? [],
    zones: c.timezones,
  }));
  const cities: CityRecord[] = cityTimezones.cityMapping.map((c) => ({
    name: c.city,
    ...(c.city_ascii && c.city_ascii !== c.city ? { asciiName: c.city_ascii } : {}),
    countryCode: c.iso2,
    ...(c.province ? { province: c.province } : {}),
    zone: c.timezone,
    population: c.pop,
  }));
  for (const [name, zone] of Object.entries(OTHER_CITY_NAMES)) {
    cities.push({ name, countryCode: "", zone, population: 0 });
  }
  return { cities, countries, zones, platformZones: Intl.supportedValuesOf("timeZone") };
}

/** Names people use for a country besides the data set's own (keys: ISO codes). */
const OTHER_COUNTRY_NAMES: Record<string, string[]> = {
  US: ["USA", "US", "United States", "America"],
  GB: ["UK", "Great Britain", "Britain", "England", "Scotland", "Wales"],
  NL: ["Holland", "The Netherlands"],
  CZ: ["Czech Republic"],
  TR: ["Turkey"],
  KR: ["Korea"],
  AE: ["UAE", "Emirates"],
  CI: ["Côte d'Ivoire"],
  CV: ["Cape Verde"],
  MM: ["Burma"],
  SZ: ["Swaziland"],
  MK: ["Macedonia"],
  RU: ["Russian Federation"],
};

/** Nicknames and older names of cities that the city list spells differently. */
const OTHER_CITY_NAMES: Record<string, string> = {
  rio: "America/Sao_Paulo",
  saigon: "Asia/Ho_Chi_Minh",
  bombay: "Asia/Kolkata",
  calcutta: "Asia/Kolkata",
  madras: "Asia/Kolkata",
  bangalore: "Asia/Kolkata",
  "st petersburg": "Europe/Moscow",
  "saint petersburg": "Europe/Moscow",
  "new york city": "America/New_York",
  nyc: "America/New_York",
  la: "America/Los_Angeles",
  sf: "America/Los_Angeles",
};

let places: PlaceIndex | undefined;
let renames: Map<string, string> | undefined;

/** The place index, built once on first use. */
export function placeIndex(): PlaceIndex {
  places ??= buildPlaceIndex(placeData());
  return places;
}

/** The modern spelling of a stored zone name (Asia/Calcutta → Asia/Kolkata). */
export function modernZone(zone: string): string {
  renames ??= places?.modernNames ?? zoneRenames(zoneRecords(), Intl.supportedValuesOf("timeZone"));
  const canonical = canonicalTimeZone(zone);
  return canonical === null ? zone : (renames.get(canonical) ?? canonical);
}

/** Offsets that are not whole hours map to the zone most people with that offset live in. */
const FRACTIONAL_OFFSET_ZONES: Record<string, string> = {
  "-570": "Pacific/Marquesas",
  "-210": "America/St_Johns",
  "210": "Asia/Tehran",
  "270": "Asia/Kabul",
  "330": "Asia/Kolkata",
  "345": "Asia/Kathmandu",
  "390": "Asia/Yangon",
  "525": "Australia/Eucla",
  "570": "Australia/Darwin",
  "630": "Australia/Lord_Howe",
  "765": "Pacific/Chatham",
};

/** The zone for a UTC offset in minutes (east positive). */
export function zoneForOffset(minutes: number): string | undefined {
  if (minutes % 60 === 0) {
    const hours = minutes / 60;
    if (hours < -12 || hours > 14) return undefined;
    // IANA's Etc zones have inverted signs: UTC+2 is Etc/GMT-2.
    return hours === 0 ? "UTC" : `Etc/GMT${hours > 0 ? "-" : "+"}${Math.abs(hours)}`;
  }
  const zone = FRACTIONAL_OFFSET_ZONES[String(minutes)];
  return zone === undefined ? undefined : modernZone(zone);
}

/** Whether a zone is a fixed offset (no daylight saving, no place): UTC, Etc/GMT-2. */
export function isFixedOffsetZone(zone: string): boolean {
  return zone === "UTC" || zone.startsWith("Etc/");
}

const OFFSET = /^(?:utc|gmt)?\s*([+\-−])\s*(\d{1,2})(?:[:.]?(\d{2}))?$/i;

/**
 * A time zone from what a person typed: an offset, an IANA name, a city, or a country (one with
 * several zones asks which). `at` decides which of a country's zones keep the same clock.
 */
export function parseTimezone(text: string, at: Date = new Date()): TimezoneAnswer {
  const input = text.trim();
  if (input === "")
    return { ok: false, problem: "Please send a city, an offset like +2, or your location." };
  if (/^(utc|gmt|z)$/i.test(input)) return { ok: true, zone: "UTC", how: "offset" };
  const offset = OFFSET.exec(input);
  if (offset) {
    const sign = offset[1] === "+" ? 1 : -1;
    const minutes = sign * (Number(offset[2]) * 60 + Number(offset[3] ?? 0));
    const zone = zoneForOffset(minutes);
    if (!zone) {
      const typed = `UTC${offset[1]}${offset[2]}${offset[3] ? `:${offset[3]}` : ""}`;
      return {
        ok: false,
        problem:
          Math.abs(minutes) > 14 * 60
            ? `There is no time zone at ${typed}. Offsets go from -12 to +14.`
            : `No time zone uses ${typed}. Send your city instead (e.g. Kathmandu), or a whole-hour offset like +5.`,
      };
    }
    return { ok: true, zone, how: "offset" };
  }
  if (input.length > 80) {
    return {
      ok: false,
      problem: "That is too long for a place — send just your city, e.g. Lisbon.",
    };
  }
  const found = findPlace(placeIndex(), input, at);
  if (found.kind === "zone" && isValidTimeZone(found.zone)) {
    return {
      ok: true,
      zone: found.zone,
      how: found.how,
      ...(found.corrected ? { correctedTo: found.place } : {}),
    };
  }
  if (found.kind === "choose") {
    if (found.choices.length > MAX_ZONE_CHOICES) {
      return {
        ok: false,
        problem: `${found.country} has ${found.choices.length} time zones — send your city instead (e.g. ${found.choices[0].city}).`,
      };
    }
    return {
      ok: false,
      country: found.country,
      choices: found.choices,
      problem: `${found.country} has more than one time zone — which is yours? Tap one, or send your city.`,
    };
  }
  return {
    ok: false,
    problem: `I don't know a time zone for "${input.slice(0, 40)}". Try a big city near you (e.g. Lisbon), your country, an offset like +2 or UTC-5, or share your location.`,
  };
}

/**
 * A zone for a shared location, from the time-zone boundaries (so daylight saving is right
 * wherever people live); out at sea, the whole-hour offset of the longitude.
 */
export function timezoneFromLocation(latitude: number, longitude: number): TimezoneAnswer {
  if (
    !Number.isFinite(latitude) ||
    !Number.isFinite(longitude) ||
    Math.abs(latitude) > 90 ||
    Math.abs(longitude) > 180
  ) {
    return { ok: false, problem: "That location looks invalid." };
  }
  let zone: string | null = null;
  try {
    zone = modernZoneName(placeIndex(), tzLookup(latitude, longitude));
  } catch {
    zone = null;
  }
  if (zone !== null && isValidTimeZone(zone)) return { ok: true, zone, how: "location" };
  const hours = Math.max(-12, Math.min(14, Math.round(longitude / 15)));
  return { ok: true, zone: zoneForOffset(hours * 60) ?? "UTC", how: "location" };
}

/** "07:30" from 7:30, 07:30, 7.30, 7, 7am, 7:30 pm, 19h; undefined when it is not a time. */
export function parseTimeOfDay(text: string): string | undefined {
  const m = /^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|h)?$/i.exec(text.trim());
  if (!m) return undefined;
  let hour = Number(m[1]);
  const minute = Number(m[2] ?? 0);
  const suffix = m[3]?.toLowerCase();
  if (m[2] === undefined && suffix === undefined) return undefined; // "7" alone is ambiguous with counts
  if (suffix === "am" || suffix === "pm") {
    if (hour < 1 || hour > 12) return undefined;
    hour = (hour % 12) + (suffix === "pm" ? 12 : 0);
  }
  if (hour > 23 || minute > 59) return undefined;
  return `${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}`;
}

/** The current UTC offset of a zone as "UTC+02:00". */
export function describeZone(zone: string, now: Date): string {
  const minutes = utcOffsetMinutes(now, zone);
  const abs = Math.abs(minutes);
  const hhmm = `${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
  return `${modernZone(zone)} (UTC${minutes < 0 ? "-" : "+"}${hhmm})`;
}
