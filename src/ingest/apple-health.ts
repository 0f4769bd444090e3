// Apple Health's export.xml, read as a stream: text arrives in chunks of any size (a real export
// is hundreds of megabytes), only the start tags of <Record> elements are looked at, and only
// body-mass records (HKQuantityTypeIdentifierBodyMass) are kept. Memory stays bounded by the
// longest tag, not the file. Pure: chunks of text in, samples out.

import { parseTimestamp } from "./timestamps.js";
import {
  type ParseOutcome,
  Problems,
  readWeight,
  TooManySamplesError,
  type WeightSample,
} from "./weight.js";

export const BODY_MASS_TYPE = "HKQuantityTypeIdentifierBodyMass";

/** A start tag longer than this is skipped with a problem instead of being buffered. */
const MAX_TAG_CHARS = 64 * 1024;
const RECORD = "<Record";
const ROOT = "<HealthData";

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#\d{1,7}|[a-z]+);/g, (whole, name: string) => {
    if (name.startsWith("#")) {
      const code = name[1] === "x" ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
      return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name] ?? whole;
  });
}

/** The attributes of one start tag. */
export function tagAttributes(tag: string): Map<string, string> {
  const attributes = new Map<string, string>();
  const re = /([A-Za-z_:][-\w:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
  for (let m = re.exec(tag); m !== null; m = re.exec(tag)) {
    attributes.set(m[1], decodeEntities(m[2] ?? m[3] ?? ""));
  }
  return attributes;
}

/** Index of the ">" that ends the tag starting at `from`, outside quoted values; -1 if not yet. */
function tagEnd(text: string, from: number): number {
  let quoteChar = "";
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (quoteChar !== "") {
      if (c === quoteChar) quoteChar = "";
    } else if (c === '"' || c === "'") quoteChar = c;
    else if (c === ">") return i;
  }
  return -1;
}

export interface AppleHealthOptions {
  timeZone: string;
  now: Date;
  /** More body-weight samples than this stop the parse with TooManySamplesError. */
  maxSamples?: number;
}

export class AppleHealthParser {
  private buffer = "";
  /** Line number of buffer[0]. */
  private line = 1;
  private readonly problems = new Problems();
  private readonly samples: WeightSample[] = [];
  private bodyMassRecords = 0;
  private sawRoot = false;
  private finished = false;

  constructor(private readonly options: AppleHealthOptions) {}

  /** Characters held back between pushes (bounded by the longest tag, not the file). */
  get pendingChars(): number {
    return this.buffer.length;
  }

  /** Feeds the next piece of the document (any size, split anywhere). */
  push(text: string): void {
    if (this.finished) throw new Error("AppleHealthParser: push after finish");
    this.buffer += text;
    this.scan(false);
  }

  /** Ends the document and returns what was found. */
  finish(): ParseOutcome & { bodyMassRecords: number } {
    if (!this.finished) {
      this.scan(true);
      this.finished = true;
      if (this.bodyMassRecords === 0) {
        this.problems.add(
          "",
          this.sawRoot
            ? `no body-weight records (${BODY_MASS_TYPE}) in the export`
            : "this is not an Apple Health export.xml (no <HealthData> element)",
        );
      }
    }
    return {
      samples: this.samples,
      problems: this.problems.toArray(),
      bodyMassRecords: this.bodyMassRecords,
    };
  }

  private countLines(text: string, from: number, to: number): number {
    let n = 0;
    for (let i = text.indexOf("\n", from); i >= 0 && i < to; i = text.indexOf("\n", i + 1)) n++;
    return n;
  }

  private scan(atEnd: boolean): void {
    const buf = this.buffer;
    if (!this.sawRoot && buf.includes(ROOT)) this.sawRoot = true;
    let line = this.line;
    let counted = 0;
    const lineAt = (index: number): number => {
      line += this.countLines(buf, counted, index);
      counted = index;
      return line;
    };
    let pos = 0;
    let keepFrom = -1;
    while (true) {
      const start = buf.indexOf(RECORD, pos);
      if (start < 0) break;
      const after = buf[start + RECORD.length];
      if (after === undefined) {
        keepFrom = start;
        break;
      }
      if (after !== " " && after !== "\n" && after !== "\r" && after !== "\t") {
        pos = start + RECORD.length;
        continue;
      }
      const end = tagEnd(buf, start + RECORD.length);
      if (end < 0) {
        if (buf.length - start > MAX_TAG_CHARS || atEnd) {
          this.problems.add(
            `line ${lineAt(start)}`,
            atEnd
              ? "the file ends inside a <Record> tag"
              : "a <Record> tag longer than 64 KB was skipped",
          );
          pos = start + RECORD.length;
          continue;
        }
        keepFrom = start;
        break;
      }
      const tag = buf.slice(start, end + 1);
      if (tag.includes(BODY_MASS_TYPE)) this.record(tag, lineAt(start));
      pos = end + 1;
    }
    if (keepFrom < 0) {
      // keep a tail long enough to hold a "<Record" or "<HealthData" split across chunks
      keepFrom = atEnd ? buf.length : Math.max(pos, buf.length - ROOT.length);
    }
    this.line = lineAt(keepFrom);
    this.buffer = buf.slice(keepFrom);
  }

  private record(tag: string, line: number): void {
    const attributes = tagAttributes(tag);
    if (attributes.get("type") !== BODY_MASS_TYPE) return;
    this.bodyMassRecords += 1;
    const where = `line ${line}`;
    const valueText = attributes.get("value");
    if (valueText === undefined || valueText.trim() === "") {
      this.problems.add(where, "body-weight record without a value");
      return;
    }
    const weight = readWeight(valueText, attributes.get("unit") ?? "kg", "kg");
    if (!weight.ok) {
      this.problems.add(where, weight.problem);
      return;
    }
    const dateText = attributes.get("startDate") ?? attributes.get("endDate");
    if (dateText === undefined) {
      this.problems.add(where, "no date (startDate)");
      return;
    }
    const at = parseTimestamp(dateText, this.options);
    if (!at.ok) {
      this.problems.add(where, at.message);
      return;
    }
    if (this.samples.length >= (this.options.maxSamples ?? Number.POSITIVE_INFINITY)) {
      throw new TooManySamplesError(this.options.maxSamples!);
    }
    this.samples.push({ value: weight.value, unit: weight.unit, measuredAt: at.at, where });
  }
}

/** Parses a whole export.xml held in memory (small files and tests). */
export function parseAppleHealthXml(text: string, options: AppleHealthOptions): ParseOutcome {
  const parser = new AppleHealthParser(options);
  parser.push(text);
  const { samples, problems } = parser.finish();
  return { samples, problems };
}
