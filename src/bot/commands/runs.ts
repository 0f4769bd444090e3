// /runs (admins only): the latest training runs, or one run in full with its metric curves.
//   /runs        the latest 10
//   /runs 42     run #42: hyperparameters, behaviour, evaluation, and the curves as a photo
import { Composer, Input } from "telegraf";
import {
  listRuns,
  type RunDetails,
  type RunSummary,
  runCurvesChart,
  runDetails,
} from "../../app/runs.js";
import type { CoachContext } from "../context.js";
import { commandArgs } from "../person-guard.js";
import { isAdmin } from "./admin.js";

export const RUNS_IN_CHAT = 10;

const reward = (x: number | null) => (x === null ? "–" : x.toFixed(3));
const took = (s: number | null) =>
  s === null ? "" : s < 120 ? `, ${Math.round(s)} s` : `, ${(s / 60).toFixed(1)} min`;

function runLine(run: RunSummary): string {
  const who = run.person?.displayName ?? "deleted person";
  const result =
    run.status === "succeeded"
      ? `${reward(run.before)} → ${reward(run.after)}${run.activated ? ", activated" : ", kept the old policy"}`
      : run.status;
  const behaviour = run.behaviour && run.behaviour !== "pending" ? `, ${run.behaviour}` : "";
  return `#${run.id} ${who} (${run.trigger}${behaviour}): ${result}${took(run.seconds)}`;
}

/** The /runs list. */
export function runsListText(runs: RunSummary[]): string {
  if (runs.length === 0) return "No training runs yet. /retrain starts one.";
  return [
    `Latest ${runs.length} training run${runs.length === 1 ? "" : "s"} (mean daily reward before → after):`,
    ...runs.map(runLine),
    "",
    "/runs ID shows one with its curves.",
  ].join("\n");
}

/** /runs ID. */
export function runText(run: RunDetails): string {
  const lines = [runLine(run)];
  if (run.error) lines.push(`Error: ${run.error}`);
  const h = run.hyperparameters;
  const sizes = ["steps", "numEnvs", "evalEpisodes", "evalDays"]
    .filter((k) => h[k] !== undefined)
    .map((k) => `${k} ${String(h[k])}`);
  if (sizes.length > 0) lines.push(`Hyperparameters: ${sizes.join(", ")}`);
  // which stored policy training continued (the training line, the active policy) or scratch
  if (typeof h.startFrom === "string") lines.push(`Started from: ${h.startFrom}`);
  if (run.ppo) {
    const ppo = [
      "learningRate",
      "clip",
      "gamma",
      "gaeLambda",
      "epochs",
      "minibatches",
      "rolloutSteps",
      "entropyCoef",
    ]
      .filter((k) => run.ppo![k] !== undefined)
      .map((k) => `${k} ${String(run.ppo![k])}`);
    if (ppo.length > 0) lines.push(`PPO: ${ppo.join(", ")}`);
  }
  const b = run.behaviourUsed;
  if (b) {
    lines.push(
      `Behaviour: ${b.source} (${b.daysWithPlan} of ${b.days} days with a plan${b.fit ? `; capacity ${b.fit.capacity}` : ""})`,
    );
  }
  const e = run.evaluation;
  if (e) {
    const row = (label: string, s: { meanReward: number; ci95: number } | null) =>
      s === null ? `${label}: –` : `${label}: ${s.meanReward.toFixed(3)} ± ${s.ci95.toFixed(3)}`;
    lines.push(
      `Evaluation on ${e.episodes} simulated people × ${e.days} days:`,
      row("  new policy", e.candidate),
      row("  heuristic", e.heuristic),
      row("  active policy", e.active),
    );
  }
  for (const c of run.curves.filter((c) => c.name === "mean_reward" || c.name === "entropy")) {
    lines.push(
      `${c.name}: ${c.points[0].value.toFixed(3)} → ${c.points.at(-1)!.value.toFixed(3)} over ${c.points.length} updates`,
    );
  }
  return lines.join("\n");
}

export const runsCommand = new Composer<CoachContext>();
runsCommand.command("runs", async (ctx) => {
  if (!isAdmin(ctx.deps, ctx.from?.id)) {
    await ctx.reply("Sorry, /runs is only available to the bot's administrators.");
    return;
  }
  const args = commandArgs(ctx);
  if (args === "") {
    await ctx.reply(runsListText(await listRuns(ctx.deps, { limit: RUNS_IN_CHAT })));
    return;
  }
  const id = /^#?(\d{1,9})$/.exec(args);
  if (id === null) {
    await ctx.reply("Usage: /runs (the latest 10) or /runs ID (one run with its curves).");
    return;
  }
  const found = await runDetails(ctx.deps, Number(id[1]));
  if (found.kind === "not-found") {
    await ctx.reply(`No training run #${id[1]}.`);
    return;
  }
  await ctx.reply(runText(found.run));
  const chart = await runCurvesChart(ctx.deps, found.run);
  if (chart !== null) {
    await ctx.replyWithPhoto(Input.fromBuffer(chart, `run-${found.run.id}.png`), {
      caption: `Training curves of run #${found.run.id}`,
    });
  }
});
