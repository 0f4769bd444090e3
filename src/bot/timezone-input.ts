// Reading a time zone and a time of day from what people type: an IANA name (Europe/Berlin), a
// city (Berlin, new york, São Paulo), a UTC offset (+2, UTC-5, GMT+5:30) or a shared location;
// and a plan time (7:30, 07:30, 7am, 9.15 pm).
import { canonicalTimeZone, foldName, isValidTimeZone, utcOffsetMinutes } from "../coach/index.js";

export type TimezoneAnswer =
  | { ok: true; zone: string; how: "name" | "city" | "offset" | "location" }
  | { ok: false; problem: string };

/** Cities people commonly name that are not themselves IANA zone names. */
const CITY_ZONES: Record<string, string> = {
  "san francisco": "America/Los_Angeles",
  seattle: "America/Los_Angeles",
  "las vegas": "America/Los_Angeles",
  "san diego": "America/Los_Angeles",
  portland: "America/Los_Angeles",
  boston: "America/New_York",
  washington: "America/New_York",
  philadelphia: "America/New_York",
  miami: "America/New_York",
  atlanta: "America/New_York",
  montreal: "America/Toronto",
  houston: "America/Chicago",
  dallas: "America/Chicago",
  austin: "America/Chicago",
  "salt lake city": "America/Denver",
  munich: "Europe/Berlin",
  hamburg: "Europe/Berlin",
  frankfurt: "Europe/Berlin",
  cologne: "Europe/Berlin",
  barcelona: "Europe/Madrid",
  milan: "Europe/Rome",
  geneva: "Europe/Zurich",
  manchester: "Europe/London",
  edinburgh: "Europe/London",
  kyiv: "Europe/Kyiv",
  kiev: "Europe/Kyiv",
  "st petersburg": "Europe/Moscow",
  "saint petersburg": "Europe/Moscow",
  delhi: "Asia/Kolkata",
  "new delhi": "Asia/Kolkata",
  mumbai: "Asia/Kolkata",
  bangalore: "Asia/Kolkata",
  bengaluru: "Asia/Kolkata",
  chennai: "Asia/Kolkata",
  beijing: "Asia/Shanghai",
  shenzhen: "Asia/Shanghai",
  "ho chi minh city": "Asia/Ho_Chi_Minh",
  saigon: "Asia/Ho_Chi_Minh",
  hanoi: "Asia/Bangkok",
  osaka: "Asia/Tokyo",
  kyoto: "Asia/Tokyo",
  "rio de janeiro": "America/Sao_Paulo",
  rio: "America/Sao_Paulo",
  "cape town": "Africa/Johannesburg",
  canberra: "Australia/Sydney",
  wellington: "Pacific/Auckland",
  "tel aviv": "Asia/Jerusalem",
  "abu dhabi": "Asia/Dubai",
};

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

/** A few cities with coordinates, to place a shared location in a zone with daylight saving. */
const REFERENCE_CITIES: [number, number, string][] = [
  [52.52, 13.4, "Europe/Berlin"],
  [51.51, -0.13, "Europe/London"],
  [48.86, 2.35, "Europe/Paris"],
  [40.42, -3.7, "Europe/Madrid"],
  [38.72, -9.14, "Europe/Lisbon"],
  [41.9, 12.5, "Europe/Rome"],
  [52.23, 21.01, "Europe/Warsaw"],
  [59.33, 18.07, "Europe/Stockholm"],
  [60.17, 24.94, "Europe/Helsinki"],
  [50.45, 30.52, "Europe/Kyiv"],
  [37.98, 23.73, "Europe/Athens"],
  [41.01, 28.98, "Europe/Istanbul"],
  [55.76, 37.62, "Europe/Moscow"],
  [30.04, 31.24, "Africa/Cairo"],
  [6.52, 3.38, "Africa/Lagos"],
  [-1.29, 36.82, "Africa/Nairobi"],
  [-26.2, 28.05, "Africa/Johannesburg"],
  [-33.92, 18.42, "Africa/Johannesburg"],
  [33.57, -7.59, "Africa/Casablanca"],
  [5.6, -0.19, "Africa/Accra"],
  [9.03, 38.74, "Africa/Addis_Ababa"],
  [24.71, 46.68, "Asia/Riyadh"],
  [43.24, 76.89, "Asia/Almaty"],
  [22.32, 114.17, "Asia/Hong_Kong"],
  [14.6, 120.98, "Asia/Manila"],
  [3.14, 101.69, "Asia/Kuala_Lumpur"],
  [10.82, 106.63, "Asia/Ho_Chi_Minh"],
  [-27.47, 153.03, "Australia/Brisbane"],
  [-34.93, 138.6, "Australia/Adelaide"],
  [64.15, -21.94, "Atlantic/Reykjavik"],
  [53.35, -6.26, "Europe/Dublin"],
  [25.2, 55.27, "Asia/Dubai"],
  [35.69, 51.39, "Asia/Tehran"],
  [24.86, 67.0, "Asia/Karachi"],
  [19.08, 72.88, "Asia/Kolkata"],
  [23.81, 90.41, "Asia/Dhaka"],
  [13.76, 100.5, "Asia/Bangkok"],
  [1.35, 103.82, "Asia/Singapore"],
  [-6.2, 106.85, "Asia/Jakarta"],
  [31.23, 121.47, "Asia/Shanghai"],
  [37.57, 126.98, "Asia/Seoul"],
  [35.68, 139.69, "Asia/Tokyo"],
  [-33.87, 151.21, "Australia/Sydney"],
  [-31.95, 115.86, "Australia/Perth"],
  [-36.85, 174.76, "Pacific/Auckland"],
  [21.31, -157.86, "Pacific/Honolulu"],
  [61.22, -149.9, "America/Anchorage"],
  [34.05, -118.24, "America/Los_Angeles"],
  [39.74, -104.99, "America/Denver"],
  [41.88, -87.63, "America/Chicago"],
  [40.71, -74.01, "America/New_York"],
  [43.65, -79.38, "America/Toronto"],
  [49.28, -123.12, "America/Vancouver"],
  [33.45, -112.07, "America/Phoenix"],
  [44.65, -63.57, "America/Halifax"],
  [23.11, -82.37, "America/Havana"],
  [10.49, -66.88, "America/Caracas"],
  [19.43, -99.13, "America/Mexico_City"],
  [4.71, -74.07, "America/Bogota"],
  [-12.05, -77.04, "America/Lima"],
  [-23.55, -46.63, "America/Sao_Paulo"],
  [-34.6, -58.38, "America/Argentina/Buenos_Aires"],
  [-33.45, -70.67, "America/Santiago"],
];

/** A shared location farther than this from every reference city falls back to longitude. */
export const NEAREST_CITY_KM = 1000;

let zoneIndex: Map<string, string> | undefined;

function knownZones(): Map<string, string> {
  if (zoneIndex) return zoneIndex;
  zoneIndex = new Map();
  const zones = Intl.supportedValuesOf("timeZone");
  for (const zone of zones) {
    zoneIndex.set(foldName(zone), zone);
    const city = zone.split("/").pop() ?? zone;
    const key = foldName(city.replace(/_/g, " "));
    if (!zoneIndex.has(key)) zoneIndex.set(key, zone);
  }
  return zoneIndex;
}

/** The zone for a UTC offset in minutes (east positive). */
export function zoneForOffset(minutes: number): string | undefined {
  if (minutes % 60 === 0) {
    const hours = minutes / 60;
    if (hours < -12 || hours > 14) return undefined;
    // IANA's Etc zones have inverted signs: UTC+2 is Etc/GMT-2.
    return hours === 0 ? "UTC" : `Etc/GMT${hours > 0 ? "-" : "+"}${Math.abs(hours)}`;
  }
  return FRACTIONAL_OFFSET_ZONES[String(minutes)];
}

const OFFSET = /^(?:utc|gmt)?\s*([+\-−])\s*(\d{1,2})(?::?(\d{2}))?$/i;

export function parseTimezone(text: string): TimezoneAnswer {
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
      return {
        ok: false,
        problem: `There is no time zone at UTC${offset[1]}${offset[2]}${offset[3] ? `:${offset[3]}` : ""}. Offsets go from -12 to +14.`,
      };
    }
    return { ok: true, zone, how: "offset" };
  }
  const canonical = input.includes("/") ? canonicalTimeZone(input) : null;
  if (canonical !== null) return { ok: true, zone: canonical, how: "name" };
  const key = foldName(input);
  const zone = CITY_ZONES[key] ?? knownZones().get(key);
  if (zone && isValidTimeZone(zone)) return { ok: true, zone, how: "city" };
  return {
    ok: false,
    problem: `I don't know a time zone for "${input.slice(0, 40)}". Try a big city near you (e.g. Lisbon), an offset like +2 or UTC-5, or share your location.`,
  };
}

function distanceKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a =
    Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(a));
}

/**
 * A zone for a shared location: the nearest reference city within NEAREST_CITY_KM (so daylight saving
 * is right in populated areas), otherwise the whole-hour offset of the longitude.
 */
export function timezoneFromLocation(latitude: number, longitude: number): TimezoneAnswer {
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude) || Math.abs(latitude) > 90) {
    return { ok: false, problem: "That location looks invalid." };
  }
  let best: { zone: string; km: number } | undefined;
  for (const [lat, lon, zone] of REFERENCE_CITIES) {
    const km = distanceKm(latitude, longitude, lat, lon);
    if (!best || km < best.km) best = { zone, km };
  }
  if (best && best.km <= NEAREST_CITY_KM && isValidTimeZone(best.zone)) {
    return { ok: true, zone: best.zone, how: "location" };
  }
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
  return `${zone} (UTC${minutes < 0 ? "-" : "+"}${hhmm})`;
}
