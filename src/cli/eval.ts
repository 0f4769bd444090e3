// `coachrl eval --persona FILE --policy random|heuristic|CHECKPOINT [--days 365] [--episodes 32]
//   [--seed S] [--sample] [--json]`

import { evaluatePlanner } from "../rl/evaluate.js";
import { loadPersonaFile } from "../rl/persona.js";
import { plannerFromName } from "../rl/planner-source.js";
import { positiveInteger, runCommand } from "./args.js";

const USAGE = `Usage: coachrl eval --persona FILE --policy random|heuristic|CHECKPOINT [options]

Simulates fresh people of a persona planned by one policy and reports the mean daily reward
(95 % confidence interval over episodes), the mean over the last 90 days and each habit's mean EMA.

Options:
  --days N       days per episode                   (default 365)
  --episodes N   simulated people                   (default 32)
  --seed S       evaluation seed                    (default 12345)
  --sample       sample plans from the policy instead of taking the most likely level
  --json         print JSON on stdout`;

const OPTIONS = {
  persona: { type: "string" },
  policy: { type: "string" },
  days: { type: "string", default: "365" },
  episodes: { type: "string", default: "32" },
  seed: { type: "string", default: "12345" },
  sample: { type: "boolean", default: false },
  json: { type: "boolean", default: false },
} as const;

export function run(argv: string[]): Promise<number> {
  return runCommand(argv, USAGE, OPTIONS, async (values) => {
    if (!values.persona) throw new Error("--persona is required");
    const policyName = values.policy;
    if (!policyName)
      throw new Error("--policy is required (random, heuristic or a checkpoint file)");
    const days = positiveInteger(values.days, "--days");
    const episodes = positiveInteger(values.episodes, "--episodes");
    const seed = positiveInteger(values.seed, "--seed", true);
    const persona = await loadPersonaFile(values.persona);
    const source = await plannerFromName(policyName, persona, { seed, greedy: !values.sample });
    const result = evaluatePlanner(persona, source.planner, { seed, episodes, days });
    source.policy?.dispose();
    if (values.json) {
      console.log(
        JSON.stringify({ persona: persona.name, policy: policyName, seed, ...result }, null, 2),
      );
      return 0;
    }
    console.log(
      `${persona.name} · ${policyName} · ${episodes} people × ${days} days (seed ${seed})`,
    );
    console.log(
      `mean daily reward   ${result.meanReward.toFixed(4)} ± ${result.ci95.toFixed(4)} (95 % CI)`,
    );
    console.log(`last ${Math.min(90, days)} days         ${result.meanRewardLast90.toFixed(4)}`);
    console.log("mean EMA per habit:");
    const width = Math.max(...persona.habits.map((h) => h.id.length));
    for (const h of persona.habits) {
      console.log(`  ${h.id.padEnd(width)}  ${result.meanEmaByHabit[h.id].toFixed(3)}`);
    }
    return 0;
  });
}
