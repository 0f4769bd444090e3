/**
 * Where weight uploads are parsed. The app reads them in one long-lived worker thread
 * (`workerWeightUploadReader`) so that a 20 MiB CSV or an Apple Health export never delays
 * anyone's chat message, the webhook or /healthz; `coachrl import` and tests may parse in-process
 * (`inlineWeightUploadReader`). Both give the same outcome.
 *
 * The request's bytes are counted here (UploadTooLargeError past `maxBytes`, before the worker
 * gets them) and streamed to the worker, which holds at most one upload's bytes and refuses more
 * than `maxSamples` samples or a zip bomb on its own. The worker's heap is capped, so an upload
 * that still grows too big ends the worker (restarted on the next upload), never the app.
 */
import type { Worker } from "node:worker_threads";
import { z } from "zod";
import {
  parseWeightUpload,
  type UploadOptions,
  type UploadOutcome,
  UploadTooLargeError,
} from "../ingest/upload.js";
import { TooManySamplesError } from "../ingest/weight.js";
import { type UploadJob, type UploadReply, WEIGHT_UNITS } from "./weight-upload-worker.js";
import { PendingReplies, startWorkerThread } from "./worker-thread.js";

export interface WeightUploadReader {
  read(body: AsyncIterable<Uint8Array>, options: UploadOptions): Promise<UploadOutcome>;
  /** Stops the worker (uploads being read fail); in-process reading has nothing to stop. */
  close(): Promise<void>;
}

export const inlineWeightUploadReader: WeightUploadReader = {
  read: parseWeightUpload,
  close: async () => {},
};

/** An upload the worker could not read for a reason of its own (crash, memory, time). */
export class UploadNotReadError extends Error {
  constructor(reason: string) {
    super(`The upload could not be read (${reason}).`);
    this.name = "UploadNotReadError";
  }
}

const typed = <T>(type: new (...args: never[]) => T, name: string) =>
  z.custom<T>((value) => value instanceof type, name);

/** What the upload worker may answer (checked before the answer is used). */
const uploadReply: z.ZodType<UploadReply> = z.discriminatedUnion("ok", [
  z.object({
    id: z.number().int(),
    ok: z.literal(true),
    format: z.enum(["json", "csv", "xml", "zip"]),
    bytes: z.number().int().nonnegative(),
    measuredAt: typed(Float64Array, "instants"),
    values: typed(Float64Array, "values"),
    units: typed(Uint8Array, "units"),
    problems: z.array(z.string()),
  }),
  z.object({
    id: z.number().int(),
    ok: z.literal(false),
    error: z.object({ name: z.string(), message: z.string(), limit: z.number().optional() }),
  }),
]);

function outcomeOf(reply: Extract<UploadReply, { ok: true }>): UploadOutcome {
  const { measuredAt, values, units } = reply;
  const samples = Array.from(measuredAt, (ms, i) => ({
    measuredAt: new Date(ms),
    value: values[i],
    unit: WEIGHT_UNITS[units[i]] ?? "kg",
    where: "",
  }));
  return { format: reply.format, bytes: reply.bytes, samples, problems: reply.problems };
}

function errorOf(error: Extract<UploadReply, { ok: false }>["error"]): Error {
  if (error.name === "TooManySamplesError" && error.limit !== undefined) {
    return new TooManySamplesError(error.limit);
  }
  if (error.name === "UploadTooLargeError" && error.limit !== undefined) {
    return new UploadTooLargeError(error.limit);
  }
  return new UploadNotReadError(error.message);
}

export interface WorkerUploadReaderOptions {
  /** The worker's heap limit (MB); an upload beyond it ends the worker. Default 160. */
  maxHeapMb?: number;
  /** Longest time one upload may take to read before the worker is stopped. Default 120 s. */
  timeoutMs?: number;
}

export function workerWeightUploadReader(
  options: WorkerUploadReaderOptions = {},
): WeightUploadReader {
  const maxHeapMb = options.maxHeapMb ?? 160;
  const timeoutMs = options.timeoutMs ?? 120_000;
  let worker: Worker | undefined;
  let closed = false;
  const pending = new PendingReplies<UploadOutcome>();
  const failAll = (error: Error) => pending.failAll(error);

  const start = (): Worker => {
    const w = startWorkerThread(new URL("./weight-upload-worker.js", import.meta.url), {
      resourceLimits: { maxOldGenerationSizeMb: maxHeapMb },
      messages: uploadReply,
      onMessage(reply) {
        const p = pending.take(reply.id);
        if (!p) return;
        if (reply.ok) p.resolve(outcomeOf(reply));
        else p.reject(errorOf(reply.error));
        if (pending.size === 0) w.unref();
      },
    });
    const lost = (reason: string) => {
      if (worker === w) worker = undefined;
      failAll(new UploadNotReadError(reason));
    };
    w.on("error", (error) =>
      lost(
        (error as { code?: string }).code === "ERR_WORKER_OUT_OF_MEMORY"
          ? "it needs more memory than an upload may take"
          : error.message,
      ),
    );
    w.on("exit", (code) => lost(`the reader stopped with code ${code}`));
    return w;
  };

  return {
    async read(body, uploadOptions) {
      if (closed) throw new UploadNotReadError("the app is shutting down");
      worker ??= start();
      const w = worker;
      w.ref(); // keep the process alive while an upload is read
      const { id, reply: result } = pending.expect();
      const timer = setTimeout(() => {
        if (!pending.has(id)) return;
        // every upload in this worker fails; the next one starts a new worker
        failAll(new UploadNotReadError(`reading it took longer than ${timeoutMs / 1000} s`));
        void w.terminate();
      }, timeoutMs);
      try {
        w.postMessage({ kind: "start", id, options: uploadOptions } satisfies UploadJob);
        let bytes = 0;
        for await (const chunk of body) {
          bytes += chunk.length;
          if (uploadOptions.maxBytes !== undefined && bytes > uploadOptions.maxBytes) {
            if (pending.take(id)) w.postMessage({ kind: "abort", id } satisfies UploadJob);
            throw new UploadTooLargeError(uploadOptions.maxBytes);
          }
          // already answered (a zip bomb refused, or the worker lost): the rest is read, unused
          if (!pending.has(id)) continue;
          // a copy: a request's chunk may share its memory with other buffers
          const copy = new Uint8Array(chunk);
          w.postMessage({ kind: "chunk", id, bytes: copy } satisfies UploadJob, [copy.buffer]);
        }
        if (pending.has(id)) w.postMessage({ kind: "end", id } satisfies UploadJob);
        return await result;
      } catch (error) {
        if (pending.take(id)) w.postMessage({ kind: "abort", id } satisfies UploadJob);
        throw error;
      } finally {
        clearTimeout(timer);
        result.catch(() => {}); // answered by the throw above
      }
    },
    async close() {
      closed = true;
      const w = worker;
      worker = undefined;
      failAll(new UploadNotReadError("the app is shutting down"));
      if (w) await w.terminate();
    },
  };
}
