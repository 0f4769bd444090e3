import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { createRng } from "../../src/coach/rng.js";
import { type BackendChoice, initBackend, parseBackendName, tf } from "../../src/rl/backend.js";
import { ActorCriticNetwork, evaluateNetwork } from "../../src/rl/policy-network.js";

const spec = {
  observationSize: 6,
  levelCount: [3, 2, 4],
  actorGroupOf: [0, 1, 0],
  groupCount: 2,
  habitDescriptors: [
    [1, 0.5],
    [0.3, 1],
    [0.5, 0.2],
  ],
  emaIndex: [0, 1, 2],
};

function runOn(actor: "independent" | "shared") {
  const network = new ActorCriticNetwork(
    spec,
    { actor, critic: "per-group", hiddenSize: 16 },
    createRng(5),
  );
  const obs = Float32Array.from({ length: 4 * 6 }, (_, i) => Math.sin(i) * 0.8);
  const out = evaluateNetwork(network, obs, 4);
  network.dispose();
  return out;
}

const run = promisify(execFile);

/** The backend a fresh process picks (or its error), optionally with a stand-in tfjs-node. */
async function choiceIn(
  env: Record<string, string>,
  fakeTfjsNode?: "loads" | "broken",
): Promise<Partial<BackendChoice> & { error?: string }> {
  const fake = fakeTfjsNode ? ["--import", "./test/rl/support/fake-tfjs-node.mjs"] : [];
  const { stdout } = await run(
    process.execPath,
    ["--import", "tsx", ...fake, "test/rl/support/backend-choice.ts"],
    {
      env: { ...process.env, COACHRL_TF_BACKEND: "", FAKE_TFJS_NODE: fakeTfjsNode ?? "", ...env },
      timeout: 180_000,
    },
  );
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

/** Whether the real, optional @tensorflow/tfjs-node loads here. */
async function tfjsNodeLoads(): Promise<boolean> {
  try {
    await run(
      process.execPath,
      ["--input-type=module", "-e", 'await import("@tensorflow/tfjs-node")'],
      { timeout: 180_000 },
    );
    return true;
  } catch {
    return false;
  }
}

describe("backend selection", () => {
  it("parses COACHRL_TF_BACKEND and rejects unknown names with the allowed list", () => {
    expect(parseBackendName(undefined)).toBeNull();
    expect(parseBackendName(" WASM ")).toBe("wasm");
    expect(() => parseBackendName("gpu")).toThrow(/node, wasm, cpu.*gpu/);
  });

  // The choice is made once per process, so each case runs in a child process
  // (test/rl/support/backend-choice.ts). tfjs-node is optional: where it is installed and loads
  // it must be chosen, elsewhere WASM; a stand-in tfjs-node (test/rl/support/fake-tfjs-node.mjs)
  // checks both sides of the rule on every machine.
  it("picks tfjs-node when it loads on this machine, else WASM; forced, it starts or fails loudly", async () => {
    const loads = await tfjsNodeLoads();
    const [automatic, forced] = await Promise.all([
      choiceIn({}),
      choiceIn({ COACHRL_TF_BACKEND: "node" }),
    ]);
    expect(automatic).toMatchObject({ backend: loads ? "node" : "wasm", forced: false });
    if (loads) expect(forced).toMatchObject({ backend: "node", forced: true });
    else expect(forced.error).toMatch(/^COACHRL_TF_BACKEND=node could not start: /);
  }, 240_000);

  it("follows the rule with a tfjs-node that loads and with one whose native library does not", async () => {
    const [loading, broken, forcedBroken] = await Promise.all([
      choiceIn({}, "loads"),
      choiceIn({}, "broken"),
      choiceIn({ COACHRL_TF_BACKEND: "node" }, "broken"),
    ]);
    expect(loading).toEqual({
      backend: "node",
      tfBackend: "tensorflow",
      forced: false,
      skipped: [],
    });
    expect(broken).toEqual({
      backend: "wasm",
      tfBackend: "wasm",
      forced: false,
      skipped: [{ backend: "node", reason: expect.stringContaining("libtensorflow") }],
    });
    expect(forcedBroken.error).toMatch(/^COACHRL_TF_BACKEND=node could not start: libtensorflow/);
  }, 240_000);

  it("WASM and CPU give the same network outputs within float tolerance", async () => {
    const handlersBefore = process.listeners("uncaughtException").length;
    const logged: string[] = [];
    const wasm = await initBackend({
      force: "wasm",
      logger: { info: (_o, msg) => logged.push(msg) },
    });
    expect(wasm.backend).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
    expect(logged).toContain("tensorflow backend: wasm");
    // The WASM loader's process-wide error handlers are removed again.
    expect(process.listeners("uncaughtException")).toHaveLength(handlersBefore);
    const onWasm = [runOn("independent"), runOn("shared")];
    await initBackend({ force: "cpu" });
    expect(tf.getBackend()).toBe("cpu");
    const onCpu = [runOn("independent"), runOn("shared")];
    for (let i = 0; i < 2; i++) {
      const valid = onWasm[i].logits.filter((x) => x > -1e8);
      expect(valid.length).toBeGreaterThan(0);
      onWasm[i].logits.forEach((x, j) => {
        expect(Math.abs(x - onCpu[i].logits[j])).toBeLessThan(1e-4 * Math.max(1, Math.abs(x)));
      });
      onWasm[i].values.forEach((x, j) => {
        expect(x).toBeCloseTo(onCpu[i].values[j], 5);
      });
    }
    await initBackend({ force: "wasm" });
  });
});
