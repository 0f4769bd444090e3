import { describe, expect, it } from "vitest";
import { createRng } from "../../src/coach/rng.js";
import { initBackend, parseBackendName, tf } from "../../src/rl/backend.js";
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

describe("backend selection", () => {
  it("parses COACHRL_TF_BACKEND and rejects unknown names with the allowed list", () => {
    expect(parseBackendName(undefined)).toBeNull();
    expect(parseBackendName(" WASM ")).toBe("wasm");
    expect(() => parseBackendName("gpu")).toThrow(/node, wasm, cpu.*gpu/);
  });

  it("fails loudly when a forced backend cannot start (tfjs-node is not installed here)", async () => {
    await expect(initBackend({ force: "node" })).rejects.toThrow(/COACHRL_TF_BACKEND=node/);
  });

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
