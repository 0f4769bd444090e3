// One entry point for every upload: decide the format (zip by its magic bytes; otherwise the
// declared Content-Type or file name; otherwise a look at the first bytes), then read the bytes
// as they arrive. Apple Health XML and ZIP are parsed while streaming; CSV and JSON are read
// whole (at most INGEST_MAX_BYTES), CSV rows then one at a time. More than `maxSamples` samples
// stop the parse (TooManySamplesError). A byte limit is enforced while reading, never after. No I/O of its own: the
// caller hands in the bytes (an HTTP request, a file stream) as an async iterable.
import { AppleHealthParser } from "./apple-health.js";
import { AppleHealthZipReader, ZipProblem } from "./apple-health-zip.js";
import { parseWeightJson } from "./json-body.js";
import { parseScaleCsv } from "./scale-csv.js";
import type { ParseOutcome } from "./weight.js";

export type UploadFormat = "json" | "csv" | "xml" | "zip";
export const UPLOAD_FORMATS: readonly UploadFormat[] = ["json", "csv", "xml", "zip"];

export class UploadTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(
      `The upload is larger than the limit of ${limit} bytes (INGEST_MAX_BYTES). Send fewer samples at once, or zip an Apple Health export.xml.`,
    );
    this.name = "UploadTooLargeError";
  }
}

export interface UploadOptions {
  /** A format decided by the caller (CLI --format); skips detection. */
  format?: UploadFormat;
  /** The request's Content-Type, if any. */
  contentType?: string;
  /** The file's name, if any (export.zip, weights.csv). */
  fileName?: string;
  timeZone: string;
  now: Date;
  defaultUnit?: "kg" | "lb";
  /** Refuse (UploadTooLargeError) beyond this many bytes; unlimited when undefined. */
  maxBytes?: number;
  maxUnzippedBytes?: number;
  /** Largest inflated-to-packed ratio of a zip's export.xml (see AppleHealthZipReader). */
  maxZipRatio?: number;
  /** Refuse (TooManySamplesError) an upload with more samples; unlimited when undefined. */
  maxSamples?: number;
}

export interface UploadOutcome extends ParseOutcome {
  format: UploadFormat;
  bytes: number;
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const HEAD_BYTES = 512;

export function formatFromContentType(contentType: string | undefined): UploadFormat | null {
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  if (type === "application/json" || type.endsWith("+json")) return "json";
  if (["text/csv", "application/csv", "text/comma-separated-values"].includes(type)) return "csv";
  if (type === "application/xml" || type === "text/xml") return "xml";
  if (["application/zip", "application/x-zip-compressed", "application/x-zip"].includes(type)) {
    return "zip";
  }
  return null;
}

export function formatFromFileName(fileName: string | undefined): UploadFormat | null {
  const m = /\.([a-z]+)$/i.exec(fileName ?? "");
  const ext = m?.[1].toLowerCase();
  if (ext === "zip") return "zip";
  if (ext === "xml") return "xml";
  if (ext === "csv" || ext === "txt" || ext === "tsv") return "csv";
  if (ext === "json") return "json";
  return null;
}

/** The format of a body from its first bytes. */
export function sniffFormat(head: Uint8Array): UploadFormat {
  if (ZIP_MAGIC.every((b, i) => head[i] === b)) return "zip";
  const text = new TextDecoder("utf-8").decode(head.subarray(0, HEAD_BYTES)).replace(/^\uFEFF/, "");
  const start = text.trimStart();
  if (start.startsWith("<")) return "xml";
  if (start.startsWith("{") || start.startsWith("[")) return "json";
  return "csv";
}

export function chooseFormat(head: Uint8Array, options: UploadOptions): UploadFormat {
  if (options.format !== undefined) return options.format;
  if (ZIP_MAGIC.every((b, i) => head[i] === b)) return "zip";
  const declared =
    formatFromContentType(options.contentType) ?? formatFromFileName(options.fileName);
  // a zip is recognised by its bytes; a declared zip that is not one is read by its content
  if (declared !== null && declared !== "zip") return declared;
  return sniffFormat(head);
}

/** Reads and parses an upload of body weights. Throws UploadTooLargeError beyond maxBytes. */
export async function parseWeightUpload(
  body: AsyncIterable<Uint8Array>,
  options: UploadOptions,
): Promise<UploadOutcome> {
  const iterator = body[Symbol.asyncIterator]();
  let bytes = 0;
  const next = async (): Promise<Uint8Array | null> => {
    const r = await iterator.next();
    if (r.done) return null;
    const chunk = typeof r.value === "string" ? new TextEncoder().encode(r.value) : r.value;
    bytes += chunk.length;
    if (options.maxBytes !== undefined && bytes > options.maxBytes) {
      await iterator.return?.();
      throw new UploadTooLargeError(options.maxBytes);
    }
    return chunk;
  };

  // enough of the start to recognise the format
  const head: Uint8Array[] = [];
  let headBytes = 0;
  let ended = false;
  while (headBytes < HEAD_BYTES) {
    const chunk = await next();
    if (chunk === null) {
      ended = true;
      break;
    }
    head.push(chunk);
    headBytes += chunk.length;
  }
  const first = Buffer.concat(head, headBytes);
  const format = chooseFormat(first, options);
  if (bytes === 0) {
    return { format, bytes, samples: [], problems: ["the upload is empty"] };
  }
  const rest = async function* (): AsyncGenerator<Uint8Array> {
    yield first;
    if (ended) return;
    for (let chunk = await next(); chunk !== null; chunk = await next()) yield chunk;
  };

  if (format === "xml" || format === "zip") {
    const parser = new AppleHealthParser(options);
    if (format === "xml") {
      const decoder = new TextDecoder("utf-8");
      for await (const chunk of rest()) parser.push(decoder.decode(chunk, { stream: true }));
      parser.push(decoder.decode());
    } else {
      const reader = new AppleHealthZipReader((text) => parser.push(text), {
        ...(options.maxUnzippedBytes === undefined
          ? {}
          : { maxUnzippedBytes: options.maxUnzippedBytes }),
        ...(options.maxZipRatio === undefined ? {} : { maxRatio: options.maxZipRatio }),
      });
      try {
        for await (const chunk of rest()) reader.push(chunk);
        reader.push(new Uint8Array(0), true);
      } catch (error) {
        if (!(error instanceof ZipProblem)) throw error;
        // whatever was read before the damage still counts; the problem says why it stopped
        const partial = parser.finish();
        if (error.refusesAll) return { format, bytes, samples: [], problems: [error.message] };
        const problems =
          partial.samples.length === 0 ? [error.message] : [...partial.problems, error.message];
        return { format, bytes, samples: partial.samples, problems };
      }
    }
    const { samples, problems } = parser.finish();
    return { format, bytes, samples, problems };
  }

  const chunks: Uint8Array[] = [];
  for await (const chunk of rest()) chunks.push(chunk);
  const text = new TextDecoder("utf-8").decode(Buffer.concat(chunks, bytes));
  const outcome = format === "json" ? parseWeightJson(text, options) : parseScaleCsv(text, options);
  return { format, bytes, ...outcome };
}
