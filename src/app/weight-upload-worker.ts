/**
 * Worker-thread entry for reading weight uploads: parsing a 20 MiB CSV or inflating and scanning
 * an Apple Health export takes seconds of CPU, which on the bot's event loop would stall every
 * other person's update (and /healthz). Started by `workerWeightUploadReader` in
 * ./weight-upload-reader.ts, which streams the request's bytes in and checks every reply.
 * Several uploads may be read at once; each one's bytes arrive as "chunk" messages.
 */
import { parentPort } from "node:worker_threads";
import type { WeightUnit } from "../coach/weight.js";
import { parseWeightUpload, type UploadOptions } from "../ingest/upload.js";

export type UploadJob =
  | { kind: "start"; id: number; options: UploadOptions }
  | { kind: "chunk"; id: number; bytes: Uint8Array }
  | { kind: "end"; id: number }
  | { kind: "abort"; id: number };

/** Units of the samples, one byte each (index into WEIGHT_UNITS). */
export const WEIGHT_UNITS: readonly WeightUnit[] = ["kg", "lb", "g", "st"];

export type UploadReply =
  | {
      id: number;
      ok: true;
      format: "json" | "csv" | "xml" | "zip";
      bytes: number;
      /** the samples, column by column: instants (ms), values, units (WEIGHT_UNITS index) */
      measuredAt: Float64Array;
      values: Float64Array;
      units: Uint8Array;
      problems: string[];
    }
  | { id: number; ok: false; error: { name: string; message: string; limit?: number } };

/** The bytes of one upload, as an async iterable fed by messages. */
class ChunkQueue implements AsyncIterable<Uint8Array> {
  private readonly chunks: Uint8Array[] = [];
  private ended = false;
  private aborted = false;
  private wake: (() => void) | null = null;

  push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.notify();
  }
  end(): void {
    this.ended = true;
    this.notify();
  }
  abort(): void {
    this.aborted = true;
    this.chunks.length = 0;
    this.notify();
  }
  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    while (true) {
      if (this.aborted) throw new Error("the upload was abandoned");
      const next = this.chunks.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }
}

if (parentPort) {
  const port = parentPort;
  const uploads = new Map<number, ChunkQueue>();
  const read = async (id: number, queue: ChunkQueue, options: UploadOptions) => {
    try {
      const outcome = await parseWeightUpload(queue, options);
      const n = outcome.samples.length;
      const measuredAt = new Float64Array(n);
      const values = new Float64Array(n);
      const units = new Uint8Array(n);
      outcome.samples.forEach((s, i) => {
        measuredAt[i] = s.measuredAt.getTime();
        values[i] = s.value;
        units[i] = WEIGHT_UNITS.indexOf(s.unit);
      });
      const reply: UploadReply = {
        id,
        ok: true,
        format: outcome.format,
        bytes: outcome.bytes,
        measuredAt,
        values,
        units,
        problems: outcome.problems,
      };
      port.postMessage(reply, [measuredAt.buffer, values.buffer, units.buffer]);
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      const limit = (e as { limit?: unknown }).limit;
      port.postMessage({
        id,
        ok: false,
        error: {
          name: e.name,
          message: e.message,
          ...(typeof limit === "number" ? { limit } : {}),
        },
      } satisfies UploadReply);
    } finally {
      uploads.delete(id);
    }
  };
  port.on("message", (job: UploadJob) => {
    if (job.kind === "start") {
      const queue = new ChunkQueue();
      uploads.set(job.id, queue);
      void read(job.id, queue, job.options);
    } else if (job.kind === "chunk") uploads.get(job.id)?.push(job.bytes);
    else if (job.kind === "end") uploads.get(job.id)?.end();
    else uploads.get(job.id)?.abort();
  });
}
