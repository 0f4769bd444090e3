/**
 * Starts a module in a worker thread, from compiled JavaScript (`dist/…/x.js`) or from the
 * TypeScript sources (tsx, vitest), and checks every message the worker sends back.
 *
 * From sources the worker first registers tsx's loader. tsx is resolved from this module, not
 * from the working directory: a bare `import("tsx/esm/api")` inside an eval worker resolves from
 * the process's cwd and fails (`Cannot find package 'tsx'`) when the app is started elsewhere.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker, type WorkerOptions } from "node:worker_threads";
import type { z } from "zod";

/** A message from a worker that does not match what the worker promises to send. */
export class WorkerMessageError extends Error {
  constructor(entry: URL, issues: string) {
    super(`unexpected message from the worker ${entry.pathname}: ${issues}`);
    this.name = "WorkerMessageError";
  }
}

/** True when this process runs the TypeScript sources (tsx, vitest) rather than dist/. */
const fromSources = import.meta.url.endsWith(".ts");

/** URL of tsx's ESM register API, resolved from this module. */
function tsxApiUrl(): string {
  const resolve = (import.meta as { resolve?: (specifier: string) => string }).resolve;
  if (typeof resolve === "function") return resolve("tsx/esm/api");
  return pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm/api")).href;
}

export interface WorkerThreadOptions<Message>
  extends Pick<WorkerOptions, "workerData" | "resourceLimits"> {
  transferList?: WorkerOptions["transferList"];
  /** What the worker may send; anything else fails the worker with a WorkerMessageError. */
  messages: z.ZodType<Message>;
  onMessage(message: Message): void;
}

/**
 * Starts `entry`, named as the compiled module next to the caller
 * (`new URL("./worker.js", import.meta.url)`); from sources its `.ts` twin runs instead.
 * The first message that fails `messages` is reported as the worker's "error" event; the worker
 * is stopped and nothing after it is delivered.
 */
export function startWorkerThread<Message>(
  entry: URL,
  options: WorkerThreadOptions<Message>,
): Worker {
  const { messages, onMessage, ...workerOptions } = options;
  let worker: Worker;
  if (fromSources) {
    const source = new URL(entry.href.replace(/\.js$/, ".ts"));
    const bootstrap = `import(${JSON.stringify(tsxApiUrl())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source.href)}); });`;
    worker = new Worker(bootstrap, { ...workerOptions, eval: true });
  } else {
    worker = new Worker(entry, workerOptions);
  }
  let failed = false;
  worker.on("message", (raw: unknown) => {
    if (failed) return; // messages already queued behind the bad one
    const parsed = messages.safeParse(raw);
    if (parsed.success) {
      onMessage(parsed.data);
      return;
    }
    failed = true;
    worker.emit("error", new WorkerMessageError(entry, parsed.error.message));
    void worker.terminate();
  });
  return worker;
}

/**
 * The requests sent to a worker that await its reply, by id: `expect` gives a new id and the
 * promise of its reply; `take` removes a request when its reply arrives (undefined if it was
 * already given up); `failAll` rejects every one (the worker was lost or closed).
 */
export class PendingReplies<Reply> {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve(reply: Reply): void; reject(error: Error): void }
  >();

  expect(): { id: number; reply: Promise<Reply> } {
    const id = this.nextId++;
    const reply = new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
    });
    return { id, reply };
  }

  take(id: number): { resolve(reply: Reply): void; reject(error: Error): void } | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    return p;
  }

  has(id: number): boolean {
    return this.pending.has(id);
  }

  get size(): number {
    return this.pending.size;
  }

  failAll(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}
