// The app's last log lines at exit: the stdout destination writes asynchronously, so a process
// that exits while a write is held up by a full pipe (a slow reader: a log shipper, a loaded
// machine) lost or reordered its last lines — the clean-clone CI saw "shutting down" after
// "stopped cleanly". endLog (awaited by src/main.ts's shutdown) writes everything, in order.
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";

const FIXTURE = new URL("./fixtures/log-then-exit.ts", import.meta.url).pathname;
const LINES = 2000; // ~500 KB: far more than a pipe holds

/** Runs the fixture, reading its stdout only once it says (on stderr) that its last line is logged. */
function run(mode: "end-log" | "exit"): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", FIXTURE, String(LINES), mode], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const chunks: Buffer[] = [];
    child.stdout.pause();
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes("exiting")) child.stdout.resume();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`exit ${code}: ${stderr}`));
      const text = Buffer.concat(chunks).toString();
      resolve(
        text
          .split("\n")
          .filter((line) => line.startsWith("{"))
          .map((line) => Number((JSON.parse(line) as { i: number }).i)),
      );
    });
  });
}

describe("log lines at exit", () => {
  it("with endLog every line is written, in order, however slowly stdout is read", async () => {
    const order = await run("end-log");
    expect(order).toHaveLength(LINES + 1);
    expect(order).toEqual(Array.from({ length: LINES + 1 }, (_, i) => i));
  }, 60_000);

  it("without it a held-up write is lost or lands out of order (why endLog exists)", async () => {
    const order = await run("exit");
    const inOrder = order.length === LINES + 1 && order.every((n, i) => n === i);
    expect(inOrder).toBe(false);
  }, 60_000);
});
