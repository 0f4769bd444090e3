// Prints, as one JSON line, the TensorFlow.js backend this process picks (initBackend with the
// environment's COACHRL_TF_BACKEND), or the error. Run in a child process by
// test/rl/backend.test.ts: the choice is made once per process.
import { initBackend } from "../../../src/rl/backend.js";

try {
  const choice = await initBackend();
  process.stdout.write(`${JSON.stringify(choice)}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ error: (error as Error).message })}\n`);
}
