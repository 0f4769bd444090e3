// Apple Health–shaped exports generated in the tests: the DTD, <ExportDate>, <Me>, many records
// of other types (heart rate, steps, body-mass index — a near-miss type name), records with
// <MetadataEntry> children, a workout, and the body-mass records under test.
import { strToU8, Zip, ZipDeflate, zipSync } from "fflate";

export interface BodyMass {
  value: string;
  unit?: string;
  startDate: string;
}

const HEADER = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 14 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record
  type          CDATA #REQUIRED
  unit          CDATA #IMPLIED
  value         CDATA #IMPLIED
  sourceName    CDATA #REQUIRED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
]>
<HealthData locale="en_DE">
 <ExportDate value="2026-11-30 08:00:00 +0100"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth="1990-01-01" HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale"/>
`;

export function bodyMassRecord(r: BodyMass): string {
  return ` <Record type="HKQuantityTypeIdentifierBodyMass" sourceName="Withings &amp; Health" sourceVersion="6.2" device="&lt;&lt;HKDevice: 0x28&gt;, name:Body+&gt;" unit="${r.unit ?? "kg"}" creationDate="${r.startDate}" startDate="${r.startDate}" endDate="${r.startDate}" value="${r.value}"/>\n`;
}

function noise(i: number): string {
  const day = String((i % 28) + 1).padStart(2, "0");
  switch (i % 4) {
    case 0:
      return ` <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Apple Watch" unit="count/min" creationDate="2026-10-${day} 10:00:00 +0100" startDate="2026-10-${day} 10:00:00 +0100" endDate="2026-10-${day} 10:00:00 +0100" value="${60 + (i % 40)}">\n  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="0"/>\n </Record>\n`;
    case 1:
      return ` <Record type="HKQuantityTypeIdentifierStepCount" sourceName="iPhone" unit="count" creationDate="2026-10-${day} 11:00:00 +0100" startDate="2026-10-${day} 10:50:00 +0100" endDate="2026-10-${day} 11:00:00 +0100" value="${i % 900}"/>\n`;
    case 2:
      return ` <Record type="HKQuantityTypeIdentifierBodyMassIndex" sourceName="Withings" unit="count" creationDate="2026-10-${day} 07:00:00 +0100" startDate="2026-10-${day} 07:00:00 +0100" endDate="2026-10-${day} 07:00:00 +0100" value="23.1"/>\n`;
    default:
      return ` <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="30" durationUnit="min" sourceName="Apple Watch" startDate="2026-10-${day} 18:00:00 +0100" endDate="2026-10-${day} 18:30:00 +0100">\n  <WorkoutEvent type="HKWorkoutEventTypeSegment" date="2026-10-${day} 18:10:00 +0100"/>\n </Workout>\n`;
  }
}

/** The export as a list of text pieces: header, body-mass records spread among `noiseRecords` others. */
export function appleHealthXmlParts(bodyMass: BodyMass[], noiseRecords = 0): string[] {
  const parts = [HEADER];
  const every = bodyMass.length === 0 ? 1 : Math.max(1, Math.floor(noiseRecords / bodyMass.length));
  let b = 0;
  for (let i = 0; i < noiseRecords; i++) {
    parts.push(noise(i));
    if (i % every === 0 && b < bodyMass.length) parts.push(bodyMassRecord(bodyMass[b++]));
  }
  while (b < bodyMass.length) parts.push(bodyMassRecord(bodyMass[b++]));
  parts.push(
    ' <ActivitySummary dateComponents="2026-11-29" activeEnergyBurned="400"/>\n</HealthData>\n',
  );
  return parts;
}

export function appleHealthXml(bodyMass: BodyMass[], noiseRecords = 0): string {
  return appleHealthXmlParts(bodyMass, noiseRecords).join("");
}

/** `count` daily weights from 2024-01-01 07:12:03 +0100 on, 70.0 + (i mod 50)/10 kg. */
export function dailyWeights(count: number): BodyMass[] {
  const start = Date.UTC(2024, 0, 1, 6, 12, 3);
  return Array.from({ length: count }, (_, i) => {
    const d = new Date(start + i * 86_400_000);
    const p = (n: number) => String(n).padStart(2, "0");
    const local = new Date(d.getTime() + 3_600_000);
    return {
      value: (70 + (i % 50) / 10).toFixed(1),
      startDate: `${local.getUTCFullYear()}-${p(local.getUTCMonth() + 1)}-${p(local.getUTCDate())} ${p(local.getUTCHours())}:${p(local.getUTCMinutes())}:${p(local.getUTCSeconds())} +0100`,
    };
  });
}

/** export.zip as Apple writes it (apple_health_export/…), streamed with data descriptors. */
export function appleHealthZipStreamed(xmlParts: string[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  let error: Error | null = null;
  const zip = new Zip((err, data) => {
    if (err) error = err;
    else chunks.push(data);
  });
  const cda = new ZipDeflate("apple_health_export/export_cda.xml", { level: 1 });
  zip.add(cda);
  cda.push(
    strToU8(
      '<?xml version="1.0"?><ClinicalDocument><Record type="HKQuantityTypeIdentifierBodyMass" value="99"/></ClinicalDocument>',
    ),
    true,
  );
  const xml = new ZipDeflate("apple_health_export/export.xml", { level: 1 });
  zip.add(xml);
  const encoder = new TextEncoder();
  for (let i = 0; i < xmlParts.length; i++)
    xml.push(encoder.encode(xmlParts[i]), i === xmlParts.length - 1);
  zip.end();
  if (error) throw error;
  return Buffer.concat(chunks);
}

/** export.zip written in one go (sizes in the local headers). */
export function appleHealthZip(
  xml: string,
  entryName = "apple_health_export/export.xml",
): Uint8Array {
  return zipSync({
    "apple_health_export/workout-routes/route_1.gpx": strToU8("<gpx/>"),
    [entryName]: strToU8(xml),
  });
}

/** Splits bytes into chunks of `size` (the way a stream would deliver them). */
export async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}
