// `coachrl train --persona FILE --steps N [--algo ppo|udrl] [--envs 64] [--seed S] [--out FILE]
//   [--actor independent|shared] [--critic per-group|single] [--ratio joint|group|habit] [--json]`
import { writeFile } from "node:fs/promises";
import { initBackend } from "../rl/backend.js";
import { COACH_ALGORITHMS, type CoachAlgorithm, coachPlanner } from "../rl/coach-policy.js";
import { evaluatePlanner, heuristicPlanner } from "../rl/evaluate.js";
import { HABIT_PPO, trainOnPersona } from "../rl/habit-training.js";
import { loadPersonaFile } from "../rl/persona.js";
import type { ActorDesign, CriticDesign } from "../rl/policy-network.js";
import type { RatioMode } from "../rl/ratio-units.js";
import { trainUdrlOnPersona } from "../rl/udrl-policy.js";
import { choice, positiveInteger, runCommand } from "./args.js";
import { createProgressBar } from "./progress-bar.js";

const USAGE = `Usage: coachrl train --persona FILE --steps N [options]

Trains a policy on a simulated persona with PPO or upside-down RL and reports progress on stderr.

Options:
  --persona FILE   persona JSON (see docs/personas.md)            (required)
  --steps N        environment steps (person-days) to train on    (required)
  --algo A         ppo | udrl                                     (default ppo)
  --envs N         simulated people per rollout                   (default 64)
  --seed S         seed for everything random                     (default 1)
  --out FILE       write the policy checkpoint here
  --actor A        independent | shared (PPO only)                (default ${HABIT_PPO.network.actor})
  --critic C       per-group | single                             (default ${HABIT_PPO.network.critic})
  --ratio R        joint | group | habit                          (default ${HABIT_PPO.ratio})
  --features F     on | off: per-habit behaviour features in the shared actor's input
                                                                  (default ${HABIT_PPO.network.habitFeatures ? "on" : "off"})
  --eval-episodes N  episodes of the closing comparison with the heuristic (default 32, 0 = skip)
  --json           print the summary as JSON on stdout`;

const OPTIONS = {
  persona: { type: "string" },
  steps: { type: "string" },
  algo: { type: "string" },
  envs: { type: "string", default: "64" },
  seed: { type: "string", default: "1" },
  out: { type: "string" },
  actor: { type: "string" },
  critic: { type: "string" },
  ratio: { type: "string" },
  features: { type: "string" },
  "eval-episodes": { type: "string", default: "32" },
  json: { type: "boolean", default: false },
} as const;

export function run(argv: string[]): Promise<number> {
  return runCommand(argv, USAGE, OPTIONS, async (args) => {
    if (!args.persona) throw new Error("--persona is required");
    if (!args.steps) throw new Error("--steps is required");
    const steps = positiveInteger(args.steps, "--steps");
    const envs = positiveInteger(args.envs, "--envs");
    const seed = positiveInteger(args.seed, "--seed", true);
    const evalEpisodes = positiveInteger(args["eval-episodes"], "--eval-episodes", true);
    const network = {
      ...HABIT_PPO.network,
      actor: choice<ActorDesign>(
        args.actor,
        "--actor",
        ["independent", "shared"],
        HABIT_PPO.network.actor,
      ),
      critic: choice<CriticDesign>(
        args.critic,
        "--critic",
        ["per-group", "single"],
        HABIT_PPO.network.critic,
      ),
      habitFeatures:
        choice(
          args.features,
          "--features",
          ["on", "off"],
          HABIT_PPO.network.habitFeatures ? "on" : "off",
        ) === "on",
    };
    const ratio = choice<RatioMode>(
      args.ratio,
      "--ratio",
      ["joint", "group", "habit"],
      HABIT_PPO.ratio,
    );
    const algo = choice<CoachAlgorithm>(args.algo, "--algo", COACH_ALGORITHMS, "ppo");
    if (algo === "udrl" && (args.actor || args.critic || args.ratio || args.features)) {
      throw new Error(
        "--actor, --critic, --ratio and --features are PPO options; leave them out with --algo udrl",
      );
    }
    const persona = await loadPersonaFile(args.persona);
    const backend = await initBackend();
    const bar = createProgressBar();
    const { policy } =
      algo === "udrl"
        ? await trainUdrlOnPersona(persona, {
            steps,
            seed,
            numEnvs: envs,
            onProgress: (p) => bar.update(p),
          })
        : await trainOnPersona(persona, {
            steps,
            seed,
            numEnvs: envs,
            config: { network, ratio },
            onProgress: (p) => bar.update(p),
          });
    bar.done();
    if (args.out) await writeFile(args.out, policy.toBytes());
    const evaluation =
      evalEpisodes > 0
        ? {
            heuristic: evaluatePlanner(persona, heuristicPlanner(), {
              seed: seed + 1000,
              episodes: evalEpisodes,
            }),
            policy: evaluatePlanner(persona, coachPlanner(policy), {
              seed: seed + 1000,
              episodes: evalEpisodes,
            }),
          }
        : null;
    const summary = {
      persona: persona.name,
      algorithm: algo,
      backend: backend.backend,
      network: algo === "udrl" ? policy.network.config : network,
      ratio: algo === "udrl" ? null : ratio,
      training: policy.training,
      checkpoint: args.out ?? null,
      evaluation: evaluation && {
        heuristicMeanReward: evaluation.heuristic.meanReward,
        policyMeanReward: evaluation.policy.meanReward,
        policyCi95: evaluation.policy.ci95,
      },
    };
    policy.dispose();
    if (args.json) console.log(JSON.stringify(summary, null, 2));
    else {
      const t = summary.training;
      console.log(
        `trained ${persona.name} (${algo === "udrl" ? "UDRL behaviour function" : `${network.actor} actor, ${network.critic} critic, ${ratio} ratio`}) on ${backend.backend}: ` +
          `${t?.steps.toLocaleString("en")} steps in ${t?.elapsedSeconds.toFixed(1)} s ` +
          `(${Math.round(t?.samplesPerSecond ?? 0).toLocaleString("en")} samples/s), final rollout reward ${t?.finalMeanReward.toFixed(3)}`,
      );
      if (summary.evaluation) {
        console.log(
          `fresh people (${evalEpisodes} × 365 days): policy ${summary.evaluation.policyMeanReward.toFixed(3)} ± ${summary.evaluation.policyCi95.toFixed(3)}, heuristic ${summary.evaluation.heuristicMeanReward.toFixed(3)}`,
        );
      }
      console.log(
        args.out ? `checkpoint written to ${args.out}` : "no --out given: checkpoint not saved",
      );
    }
    return 0;
  });
}
