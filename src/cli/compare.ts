// `coachrl compare --persona FILE --policies heuristic,random,CHECKPOINT… [--days 365]
//   [--episodes 32] [--seed S] [--json]`

import { type EvaluationResult, evaluatePlanner } from "../rl/evaluate.js";
import { loadPersonaFile } from "../rl/persona.js";
import { plannerFromName } from "../rl/planner-source.js";
import { positiveInteger, runCommand } from "./args.js";

const USAGE = `Usage: coachrl compare --persona FILE --policies heuristic,random,CHECKPOINT… [options]

Evaluates several policies on the same simulated people (same seed) and prints a table.

Options:
  --days N       days per episode     (default 365)
  --episodes N   simulated people     (default 32)
  --seed S       evaluation seed      (default 12345)
  --json         print JSON on stdout`;

const OPTIONS = {
  persona: { type: "string" },
  policies: { type: "string" },
  days: { type: "string", default: "365" },
  episodes: { type: "string", default: "32" },
  seed: { type: "string", default: "12345" },
  json: { type: "boolean", default: false },
} as const;

export function run(argv: string[]): Promise<number> {
  return runCommand(argv, USAGE, OPTIONS, async (values) => {
    if (!values.persona) throw new Error("--persona is required");
    const names = (values.policies ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    if (names.length === 0)
      throw new Error("--policies needs a comma-separated list, e.g. heuristic,random,policy.crlp");
    const days = positiveInteger(values.days, "--days");
    const episodes = positiveInteger(values.episodes, "--episodes");
    const seed = positiveInteger(values.seed, "--seed", true);
    const persona = await loadPersonaFile(values.persona);
    const rows: { policy: string; result: EvaluationResult }[] = [];
    for (const name of names) {
      const source = await plannerFromName(name, persona, { seed });
      rows.push({
        policy: name,
        result: evaluatePlanner(persona, source.planner, { seed, episodes, days }),
      });
      source.policy?.dispose();
    }
    if (values.json) {
      console.log(JSON.stringify({ persona: persona.name, seed, episodes, days, rows }, null, 2));
      return 0;
    }
    const width = Math.max(6, ...names.map((n) => n.length));
    console.log(`${persona.name} · ${episodes} people × ${days} days (seed ${seed})`);
    console.log(`${"policy".padEnd(width)}  mean reward ± 95% CI   last 90 days`);
    for (const { policy, result } of rows) {
      console.log(
        `${policy.padEnd(width)}  ${result.meanReward.toFixed(4)} ± ${result.ci95.toFixed(4)}      ${result.meanRewardLast90.toFixed(4)}`,
      );
    }
    return 0;
  });
}
