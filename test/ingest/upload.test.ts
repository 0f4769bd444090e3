import { describe, expect, it } from "vitest";
import {
  chooseFormat,
  parseWeightUpload,
  sniffFormat,
  UploadTooLargeError,
} from "../../src/ingest/upload.js";
import { appleHealthXml, appleHealthZip, chunked, dailyWeights } from "./fixtures.js";

const now = new Date("2026-11-30T12:00:00.000Z");
const options = { timeZone: "Europe/Berlin", now };
const bytes = (text: string) => new TextEncoder().encode(text);

describe("upload format", () => {
  it.each([
    ['{"weight":72}', "json"],
    ['  \n[{"weight":72}]', "json"],
    ["\uFEFFDate,Weight\n", "csv"],
    ['<?xml version="1.0"?><HealthData>', "xml"],
    ["<HealthData>", "xml"],
  ])("sniffs %j as %s", (text, format) => {
    expect(sniffFormat(bytes(text))).toBe(format);
  });

  it("recognises a zip by its bytes whatever is declared, else trusts the declaration", () => {
    const zip = appleHealthZip("<HealthData/>");
    expect(chooseFormat(zip, { ...options, contentType: "text/csv" })).toBe("zip");
    expect(
      chooseFormat(bytes("Date,Weight"), { ...options, contentType: "application/json" }),
    ).toBe("json");
    expect(
      chooseFormat(bytes("<x/>"), { ...options, contentType: "text/csv; charset=utf-8" }),
    ).toBe("csv");
    expect(chooseFormat(bytes("<x/>"), { ...options, fileName: "weights.CSV" })).toBe("csv");
    expect(chooseFormat(bytes("Date,W"), { ...options, contentType: "application/zip" })).toBe(
      "csv",
    );
    expect(chooseFormat(bytes("{}"), { ...options, contentType: "application/octet-stream" })).toBe(
      "json",
    );
    expect(chooseFormat(bytes("{}"), { ...options, format: "csv" })).toBe("csv");
  });
});

describe("parseWeightUpload", () => {
  it("reads CSV, JSON and XML bodies delivered in small chunks", async () => {
    const csv = await parseWeightUpload(
      chunked(bytes("Date;Weight (kg)\n2026-11-20 07:12;72,4\n"), 3),
      options,
    );
    expect([csv.format, csv.samples.length, csv.problems]).toEqual(["csv", 1, []]);
    const json = await parseWeightUpload(chunked(bytes('{"weight":"72,4"}'), 2), options);
    expect([json.format, json.samples.length, json.problems]).toEqual(["json", 1, []]);
    // a multi-byte character split across chunks
    const xml = appleHealthXml(dailyWeights(5)).replace("en_DE", "fr_FR é ü");
    const x = await parseWeightUpload(chunked(bytes(xml), 5), options);
    expect([x.format, x.samples.length, x.problems]).toEqual(["xml", 5, []]);
  });

  it("says an empty body is empty", async () => {
    const r = await parseWeightUpload(chunked(new Uint8Array(0), 1), options);
    expect(r.problems).toEqual(["the upload is empty"]);
  });

  it("stops reading as soon as the limit is passed", async () => {
    let produced = 0;
    async function* endless() {
      while (true) {
        produced += 1024;
        yield new Uint8Array(1024).fill(0x41);
      }
    }
    await expect(parseWeightUpload(endless(), { ...options, maxBytes: 10_000 })).rejects.toThrow(
      UploadTooLargeError,
    );
    expect(produced).toBeLessThanOrEqual(11 * 1024);
    const zip = appleHealthZip(appleHealthXml(dailyWeights(100), 1000));
    await expect(
      parseWeightUpload(chunked(zip, 1000), { ...options, maxBytes: zip.length - 1 }),
    ).rejects.toThrow("larger than the limit of");
  });
});
