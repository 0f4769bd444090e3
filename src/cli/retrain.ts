// `coachrl retrain --all | --telegram-id N [--steps N] [--algo ppo|udrl] [--wait]`: queues retrains from the
// shell (trained by whichever process works the queue: the bot or `coachrl worker`).
import { setCoachAlgorithm } from "../app/coach-algorithm.js";
import { queueRetrains, retrainTargets } from "../app/operations.js";
import { openTrainingQueue } from "../app/training/open-queue.js";
import { waitForRun } from "../app/training/queue.js";
import { configSecrets, loadConfig } from "../config.js";
import { openDatabase } from "../db/client.js";
import { createLogger } from "../logger.js";
import { COACH_ALGORITHMS, type CoachAlgorithm } from "../rl/coach-policy.js";
import { choice, positiveInteger, runCommand, USAGE_ERROR } from "./args.js";

const USAGE = `Usage: coachrl retrain (--all | --telegram-id N) [--steps N] [--algo ppo|udrl] [--wait]

Queues a retrain for everyone with active habits (--all) or for one person, ahead of the
night's jobs. The bot process or a \`coachrl worker\` trains it. Prints one line per person:
the training run's id, or why nothing was queued.

Options:
  --all             everyone with active habits
  --telegram-id N   the person with this Telegram id
  --steps N         training steps (default RETRAIN_STEPS)
  --algo A          ppo | udrl: the algorithm of these people's retrains from now on, the
                    nightly ones included (stored per person; default stays ppo)
  --wait            wait for the runs to finish and print their outcomes (exit 1 if one failed)`;

const OPTIONS = {
  all: { type: "boolean", default: false },
  "telegram-id": { type: "string" },
  steps: { type: "string" },
  algo: { type: "string" },
  wait: { type: "boolean", default: false },
} as const;

export function run(argv: string[]): Promise<number> {
  return runCommand(argv, USAGE, OPTIONS, async (values) => {
    const byId = values["telegram-id"];
    if (values.all === (byId !== undefined)) {
      console.error(`Give either --all or --telegram-id N.\n\n${USAGE}`);
      return USAGE_ERROR;
    }
    const steps = values.steps === undefined ? undefined : positiveInteger(values.steps, "--steps");
    const algorithm =
      values.algo === undefined
        ? undefined
        : choice<CoachAlgorithm>(values.algo, "--algo", COACH_ALGORITHMS, "ppo");
    const target =
      byId === undefined
        ? ({ kind: "all" } as const)
        : ({
            kind: "telegramId",
            telegramId: BigInt(positiveInteger(byId, "--telegram-id")),
          } as const);
    const config = loadConfig();
    const log = createLogger({ level: "warn", pretty: false, secrets: configSecrets(config) });
    const db = await openDatabase(config);
    const now = () => new Date();
    const training = await openTrainingQueue({ config, db, log, now });
    try {
      const targets = await retrainTargets({ db }, target, undefined);
      if (!targets.ok) throw new Error(targets.message);
      if (algorithm !== undefined) {
        await setCoachAlgorithm({ db }, targets.people, algorithm);
        console.log(`coach algorithm set to ${algorithm} for ${targets.people.length} people`);
      }
      const queued = await queueRetrains({ db, training }, targets.people, {
        requestedBy: null,
        steps,
      });
      for (const { person, runId } of queued) {
        console.log(
          runId === null
            ? `${person.telegramId} ${person.displayName}: already queued or training`
            : `${person.telegramId} ${person.displayName}: queued as run #${runId}`,
        );
      }
      if (!values.wait) return 0;
      // with the embedded database nobody else can train: this process works its queue
      if (training.kind === "in-process") await training.work(1);
      let failed = 0;
      for (const { person, runId } of queued) {
        if (runId === null) continue;
        const outcome = await waitForRun({ db }, runId);
        if (outcome.status === "failed") failed++;
        console.log(
          `${person.telegramId} ${person.displayName}: run #${runId} ${outcome.status}${outcome.status === "succeeded" ? ` — reward ${outcome.before?.toFixed(3)} → ${outcome.after?.toFixed(3)}, ${outcome.activated ? "activated" : "not activated"}` : ` — ${outcome.reason}`}`,
        );
      }
      return failed > 0 ? 1 : 0;
    } finally {
      await training.stop();
      await db.close();
    }
  });
}
