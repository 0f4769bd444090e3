import { describe, expect, it } from "vitest";
import { AppleHealthParser, parseAppleHealthXml } from "../../src/ingest/apple-health.js";
import { AppleHealthZipReader, ZipProblem } from "../../src/ingest/apple-health-zip.js";
import { parseWeightUpload } from "../../src/ingest/upload.js";
import {
  appleHealthXml,
  appleHealthXmlParts,
  appleHealthZip,
  appleHealthZipStreamed,
  bodyMassRecord,
  chunked,
  dailyWeights,
} from "./fixtures.js";

const now = new Date("2026-11-30T12:00:00.000Z");
const options = { timeZone: "Europe/Berlin", now };

describe("Apple Health export.xml", () => {
  it("keeps body-mass records only, in kg or lb, at their instants", () => {
    const xml = appleHealthXml(
      [
        { value: "72.4", startDate: "2026-11-20 07:12:03 +0100" },
        { value: "160", unit: "lb", startDate: "2026-11-21 07:12:03 -0500" },
        { value: "72400", unit: "g", startDate: "2026-11-22 07:00:00 +0000" },
      ],
      40,
    );
    const r = parseAppleHealthXml(xml, options);
    expect(r.problems).toEqual([]);
    expect(r.samples.map((s) => [s.value, s.unit, s.measuredAt.toISOString()])).toEqual([
      [72.4, "kg", "2026-11-20T06:12:03.000Z"],
      [160, "lb", "2026-11-21T12:12:03.000Z"],
      [72400, "g", "2026-11-22T07:00:00.000Z"],
    ]);
    // locations are lines of the file
    const line = xml.split("\n").findIndex((l) => l.includes('value="72.4"')) + 1;
    expect(r.samples[0].where).toBe(`line ${line}`);
  });

  it("gives the same result however the text is split, down to one character at a time", () => {
    const xml = appleHealthXml(dailyWeights(30), 60);
    const whole = parseAppleHealthXml(xml, options);
    expect(whole.samples).toHaveLength(30);
    for (const size of [1, 7, 11, 64, 1000]) {
      const parser = new AppleHealthParser(options);
      for (let i = 0; i < xml.length; i += size) parser.push(xml.slice(i, i + size));
      const r = parser.finish();
      expect(r.samples).toEqual(whole.samples);
      expect(r.problems).toEqual([]);
    }
  });

  it("reports broken body-mass records by line and keeps the rest", () => {
    const xml = appleHealthXml([
      { value: "72.4", startDate: "2026-11-20 07:12:03 +0100" },
      { value: "7a.2", startDate: "2026-11-21 07:12:03 +0100" },
      { value: "1000", startDate: "2026-11-22 07:12:03 +0100" },
      { value: "72.1", startDate: "someday" },
      { value: "72.1", unit: "oz", startDate: "2026-11-23 07:12:03 +0100" },
      { value: "", startDate: "2026-11-24 07:12:03 +0100" },
      { value: "72.0", startDate: "2026-11-25 07:12:03 +0100" },
    ]);
    const lineOf = (needle: string) => xml.split("\n").findIndex((l) => l.includes(needle)) + 1;
    const r = parseAppleHealthXml(xml, options);
    expect(r.samples.map((s) => s.value)).toEqual([72.4, 72]);
    expect(r.problems).toEqual([
      `line ${lineOf('value="7a.2"')}: weight "7a.2" is not a number`,
      `line ${lineOf('value="1000"')}: weight 1000 kg is not a plausible body weight (accepted: 20–400 kg)`,
      `line ${lineOf("someday")}: date "someday" is not a date I can read (use YYYY-MM-DD HH:MM or ISO 8601)`,
      `line ${lineOf('unit="oz"')}: unit "oz" is not a weight unit (kg, lb, g or st)`,
      `line ${lineOf('value=""')}: body-weight record without a value`,
    ]);
  });

  it("says when an export has no weights, or is not an export at all", () => {
    expect(parseAppleHealthXml(appleHealthXml([], 20), options).problems).toEqual([
      "no body-weight records (HKQuantityTypeIdentifierBodyMass) in the export",
    ]);
    expect(parseAppleHealthXml("<html><body>hello</body></html>", options).problems).toEqual([
      "this is not an Apple Health export.xml (no <HealthData> element)",
    ]);
  });

  it("survives hostile XML: a tag that never ends, '>' inside values, entities, a truncated file", () => {
    const parser = new AppleHealthParser(options);
    parser.push('<HealthData>\n<Record type="x" value="');
    for (let i = 0; i < 200; i++) parser.push("a".repeat(1024));
    expect(parser.pendingChars).toBeLessThan(80 * 1024);
    parser.push('"/>\n');
    parser.push(bodyMassRecord({ value: "72.4", startDate: "2026-11-20 07:12:03 +0100" }));
    parser.push('<Record type="HKQuantityTypeIdentifierBodyMass" value="7');
    const r = parser.finish();
    expect(r.samples.map((s) => s.value)).toEqual([72.4]);
    expect(r.problems).toEqual([
      "line 2: a <Record> tag longer than 64 KB was skipped",
      "line 4: the file ends inside a <Record> tag",
    ]);
  });

  it("does not take BodyMassIndex or a type named in another attribute for a weight", () => {
    const xml = `<HealthData>
<Record type="HKQuantityTypeIdentifierBodyMassIndex" value="23" startDate="2026-11-20 07:00:00 +0100"/>
<Record type="HKQuantityTypeIdentifierHeight" sourceName="HKQuantityTypeIdentifierBodyMass" value="180" startDate="2026-11-20 07:00:00 +0100"/>
<Recorder type="HKQuantityTypeIdentifierBodyMass" value="72" startDate="2026-11-20 07:00:00 +0100"/>
<Record type='HKQuantityTypeIdentifierBodyMass' value='72.5' unit='kg' startDate='2026-11-20 07:00:00 +0100'/>
</HealthData>`;
    const r = parseAppleHealthXml(xml, options);
    expect(r.samples.map((s) => s.value)).toEqual([72.5]);
  });

  it("streams a 50,000-record export in 64 KB chunks with bounded memory", () => {
    const weights = dailyWeights(1000);
    const parts = appleHealthXmlParts(weights, 50_000);
    const bytes = new TextEncoder().encode(parts.join(""));
    expect(bytes.length).toBeGreaterThan(10_000_000);
    const parser = new AppleHealthParser(options);
    const decoder = new TextDecoder();
    let maxPending = 0;
    for (let i = 0; i < bytes.length; i += 65_536) {
      parser.push(decoder.decode(bytes.subarray(i, i + 65_536), { stream: true }));
      maxPending = Math.max(maxPending, parser.pendingChars);
    }
    const r = parser.finish();
    expect(r.problems).toEqual([]);
    expect(r.samples).toHaveLength(1000);
    expect(r.samples[0].measuredAt.toISOString()).toBe("2024-01-01T06:12:03.000Z");
    expect(maxPending).toBeLessThan(1024);
  });
});

describe("Apple Health export.zip", () => {
  it("finds apple_health_export/export.xml in a streamed zip (data descriptors) and skips export_cda.xml", async () => {
    const parts = appleHealthXmlParts(dailyWeights(1000), 50_000);
    const zip = appleHealthZipStreamed(parts);
    let pieces = 0;
    let text = 0;
    let maxPending = 0;
    const parser = new AppleHealthParser(options);
    const reader = new AppleHealthZipReader((t) => {
      pieces += 1;
      text += t.length;
      parser.push(t);
      maxPending = Math.max(maxPending, parser.pendingChars);
    });
    for (let i = 0; i < zip.length; i += 65_536) reader.push(zip.subarray(i, i + 65_536));
    reader.push(new Uint8Array(0), true);
    const r = parser.finish();
    expect(r.samples).toHaveLength(1000);
    expect(r.problems).toEqual([]);
    expect(pieces).toBeGreaterThan(10);
    expect(text).toBe(parts.join("").length);
    expect(maxPending).toBeLessThan(1024);
    expect(zip.length * 5).toBeLessThan(text);
  });

  it("reads a zip written in one go, through the upload reader", async () => {
    const zip = appleHealthZip(appleHealthXml(dailyWeights(10), 100));
    const r = await parseWeightUpload(chunked(zip, 4096), { ...options });
    expect(r.format).toBe("zip");
    expect(r.samples).toHaveLength(10);
    expect(r.problems).toEqual([]);
  });

  it("says what is wrong with a zip without export.xml, a truncated zip and garbage", async () => {
    const other = appleHealthZip("<x/>", "apple_health_export/other.xml");
    const r1 = await parseWeightUpload(chunked(other, 100), options);
    expect(r1.problems).toEqual([
      'the zip has no export.xml (expected apple_health_export/export.xml from Apple Health\'s "Export All Health Data")',
    ]);
    const full = appleHealthZipStreamed(appleHealthXmlParts(dailyWeights(200), 2000));
    const r2 = await parseWeightUpload(chunked(full.subarray(0, full.length >> 1), 1000), options);
    expect(r2.problems.at(-1)).toBe("the zip ends before export.xml does (incomplete upload?)");
    const garbage = new Uint8Array(5000).map((_, i) =>
      i < 4 ? [0x50, 0x4b, 3, 4][i] : (i * 7919) % 251,
    );
    const r3 = await parseWeightUpload(chunked(garbage, 100), options);
    expect(r3.samples).toEqual([]);
    expect(r3.problems).toHaveLength(1);
  });

  it("refuses, before inflating, a zip whose export.xml declares more than 60 times its packed size", () => {
    const zip = appleHealthZip(`<HealthData>${" ".repeat(8 * 1024 * 1024)}</HealthData>`);
    let texts = 0;
    const reader = new AppleHealthZipReader(() => texts++);
    expect(() => reader.push(zip, true)).toThrow(
      /declares \d+ bytes packed into \d+: more than 60 times/,
    );
    expect(texts).toBe(0);
    // a real-looking export (records of many kinds) passes the same check
    const export_ = appleHealthZip(appleHealthXml(dailyWeights(200), 5000));
    const ok = new AppleHealthZipReader(() => {});
    expect(() => ok.push(export_, true)).not.toThrow();
  });

  it("refuses a zip bomb beyond the unzipped limit", () => {
    const zip = appleHealthZip(appleHealthXml(dailyWeights(10), 5000));
    const reader = new AppleHealthZipReader(() => {}, { maxUnzippedBytes: 100_000 });
    expect(() => reader.push(zip, true)).toThrow(ZipProblem);
    expect(() => reader.push(zip, true)).toThrow("unpacks to more than 100000 bytes");
  });
});
