/**
 * Picks the TensorFlow.js backend at run time.
 *
 * Preference: `tfjs-node` (native, optional dependency) when it loads, else the WASM backend
 * (its `.wasm` binaries are read from the package's own `dist` folder on disk, never fetched),
 * else the pure-JavaScript CPU backend. `COACHRL_TF_BACKEND=node|wasm|cpu` forces one choice;
 * a forced backend that cannot start is an error rather than a silent fallback.
 */
import { createRequire } from "node:module";
import path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
// Registers the pure-JavaScript "cpu" backend (the last fallback; ops work before initBackend).
import "@tensorflow/tfjs-backend-cpu";
// Registers tfjs-core's gradient functions (tf.variableGrads needs them for training): tfjs-core
// ships them only as browser ES modules Node cannot load; tfjs-layers' Node bundle registers them.
import "@tensorflow/tfjs-layers";

export type BackendName = "node" | "wasm" | "cpu";

/** Anything with a pino-style `info(obj, msg)` method. */
export interface BackendLogger {
  info(obj: Record<string, unknown>, msg: string): void;
}

export interface BackendChoice {
  backend: BackendName;
  /** Name tfjs itself reports (`tensorflow`, `wasm`, `cpu`). */
  tfBackend: string;
  forced: boolean;
  /** Why preferred backends were skipped, in the order tried. */
  skipped: { backend: BackendName; reason: string }[];
}

const BACKEND_NAMES: readonly BackendName[] = ["node", "wasm", "cpu"];

let current: Promise<BackendChoice> | null = null;

/** Parses `COACHRL_TF_BACKEND`; undefined/empty means "pick automatically". */
export function parseBackendName(value: string | undefined): BackendName | null {
  if (value === undefined || value.trim() === "") return null;
  const name = value.trim().toLowerCase();
  if ((BACKEND_NAMES as readonly string[]).includes(name)) return name as BackendName;
  throw new Error(`COACHRL_TF_BACKEND must be one of node, wasm, cpu (got "${value}")`);
}

async function tryNode(): Promise<void> {
  // Optional dependency: a computed specifier keeps bundlers and tsc from requiring it.
  const specifier = "@tensorflow/tfjs-node";
  await import(specifier);
  if (!(await tf.setBackend("tensorflow"))) throw new Error("tfjs-node loaded but did not start");
}

const PROCESS_EVENTS = ["uncaughtException", "unhandledRejection"] as const;
type ProcessListener = (...args: unknown[]) => void;
const listenersOf = (event: string) =>
  process.listeners(event as "uncaughtException") as unknown as ProcessListener[];

async function tryWasm(): Promise<void> {
  // The Emscripten loader adds process-wide handlers that rethrow every uncaught error with the
  // whole minified module as its source line; they are removed again once the backend runs.
  const before = PROCESS_EVENTS.map((event) => new Set(listenersOf(event)));
  try {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    const require = createRequire(import.meta.url);
    const packageDir = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json"));
    wasm.setWasmPaths(path.join(packageDir, "dist") + path.sep);
    if (!(await tf.setBackend("wasm"))) throw new Error("the WASM backend did not start");
  } finally {
    PROCESS_EVENTS.forEach((event, i) => {
      for (const listener of listenersOf(event)) {
        if (!before[i].has(listener)) process.removeListener(event, listener);
      }
    });
  }
}

async function tryCpu(): Promise<void> {
  if (!(await tf.setBackend("cpu"))) throw new Error("the CPU backend did not start");
}

const starters: Record<BackendName, () => Promise<void>> = {
  node: tryNode,
  wasm: tryWasm,
  cpu: tryCpu,
};

async function choose(
  forced: BackendName | null,
  logger: BackendLogger | undefined,
): Promise<BackendChoice> {
  // Production mode: skips tfjs debug checks and its "install tfjs-node" console banner.
  tf.enableProdMode();
  const order: BackendName[] = forced ? [forced] : [...BACKEND_NAMES];
  const skipped: BackendChoice["skipped"] = [];
  for (const backend of order) {
    try {
      await starters[backend]();
      await tf.ready();
      const choice: BackendChoice = {
        backend,
        tfBackend: tf.getBackend(),
        forced: forced !== null,
        skipped,
      };
      logger?.info({ ...choice }, `tensorflow backend: ${backend}`);
      return choice;
    } catch (error) {
      const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
      if (forced) throw new Error(`COACHRL_TF_BACKEND=${forced} could not start: ${reason}`);
      skipped.push({ backend, reason });
    }
  }
  throw new Error(`no TensorFlow.js backend could start: ${JSON.stringify(skipped)}`);
}

/**
 * Initialises the backend once per process (later calls return the first choice unless
 * `force` names a different backend, which switches tfjs to it).
 */
export function initBackend(
  options: { force?: BackendName; logger?: BackendLogger; env?: NodeJS.ProcessEnv } = {},
): Promise<BackendChoice> {
  const forced = options.force ?? parseBackendName((options.env ?? process.env).COACHRL_TF_BACKEND);
  if (current && !forced) return current;
  if (current && forced) {
    const previous = current;
    current = previous.then(
      (choice) => (choice.backend === forced ? choice : choose(forced, options.logger)),
      () => choose(forced, options.logger),
    );
    return current;
  }
  current = choose(forced, options.logger);
  current.catch(() => {
    current = null;
  });
  return current;
}

export { tf };
