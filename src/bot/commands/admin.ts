// Admin commands (ADMIN_TELEGRAM_IDS only): /retrain and /status. Anyone else gets a polite
// refusal and nothing runs.
//   /retrain                 the admin's own policy
//   /retrain all             everyone with active habits (queued before the night's jobs)
//   /retrain 123456789       a person by Telegram id (or by display name)
//   /retrain all steps=20000 override RETRAIN_STEPS for this run
import { Composer } from "telegraf";
import {
  alreadyTraining,
  queueRetrains,
  type RetrainTarget,
  retrainTargets,
  type ServiceStatus,
  serviceStatus,
} from "../../app/operations.js";
import type { PlanFanOut } from "../../app/plan-fan-out.js";
import { waitForRun } from "../../app/training/queue.js";
import { outcomeWithoutPolicy, type RetrainOutcome } from "../../app/training/retrain.js";
import type { User } from "../../generated/prisma/client.js";
import type { BotDeps, CoachContext } from "../context.js";
import { commandArgs } from "../person-guard.js";
import { batchText, outcomeText, progressLine, throttledEditor } from "../training-messages.js";

export const MIN_STEPS = 512;
export const MAX_STEPS = 100_000_000;

export interface RetrainArgs {
  target: RetrainTarget;
  steps: number | null;
  numEnvs: number | null;
}

/** Parses "/retrain" arguments; the message names the problem. */
export function parseRetrainArgs(
  args: string,
): { ok: true; value: RetrainArgs } | { ok: false; message: string } {
  let steps: number | null = null;
  let numEnvs: number | null = null;
  const rest: string[] = [];
  for (const token of args
    .trim()
    .split(/\s+/)
    .filter((t) => t !== "")) {
    const option = /^(steps|envs)=(.*)$/i.exec(token);
    if (option === null) {
      rest.push(token);
      continue;
    }
    const raw = option[2].replace(/_/g, "");
    const value = /^\d+k$/i.test(raw)
      ? Number(raw.slice(0, -1)) * 1000
      : /^\d+$/.test(raw)
        ? Number(raw)
        : Number.NaN;
    if (option[1].toLowerCase() === "steps") {
      if (!Number.isInteger(value) || value < MIN_STEPS || value > MAX_STEPS) {
        return {
          ok: false,
          message: `steps must be a whole number from ${MIN_STEPS} to ${MAX_STEPS.toLocaleString("en-US")}, got "${option[2]}".`,
        };
      }
      steps = value;
    } else {
      if (!Number.isInteger(value) || value < 1 || value > 1024) {
        return {
          ok: false,
          message: `envs must be a whole number from 1 to 1024, got "${option[2]}".`,
        };
      }
      numEnvs = value;
    }
  }
  const who = rest.join(" ");
  let target: RetrainTarget;
  if (who === "" || who.toLowerCase() === "me") target = { kind: "me" };
  else if (who.toLowerCase() === "all") target = { kind: "all" };
  else if (/^\d{1,20}$/.test(who)) target = { kind: "telegramId", telegramId: BigInt(who) };
  else target = { kind: "name", name: who.replace(/^@/, "") };
  return { ok: true, value: { target, steps, numEnvs } };
}

export function isAdmin(deps: BotDeps, telegramId: number | undefined): boolean {
  return telegramId !== undefined && deps.config.adminTelegramIds.has(BigInt(telegramId));
}

/**
 * Follows queued retrains wherever they are trained, editing one message with the progress of
 * the one in training and the outcomes so far.
 */
async function reportRetrains(
  ctx: CoachContext,
  queued: { person: User; runId: number | null }[],
  args: RetrainArgs,
  messageId: number,
  chatId: number,
): Promise<void> {
  const deps = ctx.deps;
  const people = queued.map((q) => q.person);
  const header =
    people.length === 1
      ? `Retraining ${people[0].displayName} (${(args.steps ?? deps.config.retrainSteps).toLocaleString("en-US")} steps)`
      : `Retraining ${people.length} people (${(args.steps ?? deps.config.retrainSteps).toLocaleString("en-US")} steps each)`;
  const editor = throttledEditor(async (text) => {
    await ctx.telegram.editMessageText(chatId, messageId, undefined, text);
  });
  const finished: RetrainOutcome[] = [];
  for (let i = 0; i < queued.length; i++) {
    const { person, runId } = queued[i];
    const waiting = queued.length - i - 1;
    if (runId === null) {
      finished.push(
        outcomeWithoutPolicy({
          runId: null,
          userId: person.id,
          displayName: person.displayName,
          status: "skipped",
          reason: "a retrain for this person is already queued or running",
          seconds: 0,
        }),
      );
      continue;
    }
    finished.push(
      await waitForRun(deps, runId, {
        onEvent: (event) =>
          editor.update(
            event.kind === "waiting"
              ? `${header}\n\n${progressLine(person.displayName, null).replace("starting…", "waiting in the queue…")}`
              : batchText(
                  header,
                  finished,
                  {
                    name: person.displayName,
                    progress: event.kind === "progress" ? event.progress : null,
                  },
                  waiting,
                ),
          ),
      }),
    );
  }
  const final =
    people.length === 1
      ? `${header}: done.\n\n${outcomeText(finished[0])}`
      : batchText(`${header}: done.`, finished, null, 0);
  await editor.flush(final);
}

function ago(from: Date, now: Date): string {
  const s = Math.max(0, Math.round((now.getTime() - from.getTime()) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

const utc = (d: Date) => `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;

/** The /status report. */
export async function statusReport(deps: BotDeps): Promise<string> {
  const status = await serviceStatus(deps);
  if (status.database === "unreachable") {
    return `Status\nDatabase: UNREACHABLE — ${status.error}`;
  }
  const now = deps.now();
  const lines = ["Status"];
  lines.push(`Database: reachable (${status.kind}, ${Math.round(status.pingMs)} ms)`);
  lines.push(`People: ${status.people.all} (${status.people.withHabits} with active habits)`);
  const q = status.training;
  const oldest =
    q.oldestWaitingSeconds === null
      ? ""
      : ` (oldest waiting ${ago(new Date(now.getTime() - q.oldestWaitingSeconds * 1000), now).replace(/ ago$/, "")})`;
  lines.push(
    q.waiting + q.active === 0
      ? `Training queue (${q.kind}): idle; ${q.failed} failed in the last 24 h`
      : `Training queue (${q.kind}): ${q.waiting} waiting${oldest}, ${q.active} training, ${q.failed} failed in the last 24 h`,
  );
  const workers = q.finishedByWorker.map((w) => `${w.worker} ${w.runs}`).join(", ");
  lines.push(
    `Training throughput: ${formatRate(q.finishedPerMinute)} jobs/min (last 15 min); by worker in the last hour: ${workers === "" ? "none" : workers}`,
  );

  const cron = status.retrainCron;
  if (cron === "off") lines.push("Nightly retrain: off (RETRAIN_CRON=off)");
  const nightly = status.nightly;
  if (nightly === null) {
    if (cron !== "off") lines.push(`Nightly retrain (${cron} UTC): has not run yet`);
  } else {
    const { run, runs } = nightly;
    const total = Object.values(runs).reduce<number>((a, b) => a + (b ?? 0), 0);
    const state =
      run.error !== null
        ? `failed: ${run.error}`
        : run.finishedAt === null
          ? "still running (or interrupted)"
          : `finished ${utc(run.finishedAt)}`;
    lines.push(
      `Last nightly retrain: ${run.key}, started ${utc(run.startedAt)} by ${run.instance}, ${state}; ${total} runs (${runs.succeeded ?? 0} succeeded, ${runs.failed ?? 0} failed), ${nightly.activated} activated`,
    );
  }
  const last = status.lastRun;
  if (last !== null) {
    lines.push(
      `Last training run: #${last.id} (${last.trigger}) ${last.status}, created ${ago(last.createdAt, now)}`,
    );
  }

  const outbox = status.outbox;
  if (outbox.pending === 0) lines.push("Outbox: empty");
  else {
    const lastError = outbox.nextRetry?.lastError;
    lines.push(
      `Outbox backlog: ${outbox.pending} pending, oldest created ${ago(outbox.oldestPending!.createdAt, now)}; ${outbox.retrying} retrying${lastError ? ` (last error: ${lastError.slice(0, 200)})` : ""}`,
    );
  }
  // Closed after their last attempt, so not in the backlog: still worth an operator's look.
  if (outbox.gaveUp > 0) {
    lines.push(
      `Outbox gave up on ${outbox.gaveUp} event${outbox.gaveUp === 1 ? "" : "s"} in the last 24 h (latest: ${outbox.latestGaveUp!.lastError!.slice(0, 200)})`,
    );
  }
  lines.push(sheetsStatusLine(status.sheets));
  lines.push(fanOutLine(status.fanOut));
  return lines.join("\n");
}

/** The morning plans on /status: the busiest minute and how long it takes to send. */
export function fanOutLine(fanOut: PlanFanOut): string {
  if (fanOut.busiest === null) return "Morning plans: nobody has a plan time yet";
  const seconds = Math.ceil(fanOut.busiestSeconds);
  const duration =
    seconds < 90 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  const minute = fanOut.busiest.at.toISOString().slice(11, 16);
  return `Morning plans: busiest minute ${minute} UTC with ${fanOut.busiest.people} of ${fanOut.people} people, sent in about ${duration} at ${fanOut.perSecond} messages/s`;
}

type SheetsStatus = Extract<ServiceStatus, { database: "reachable" }>["sheets"];

/** The Sheets mirror on /status: sheets, backlog, and calls in the last minute per quota. */
export function sheetsStatusLine(sheets: SheetsStatus): string {
  const perMinute = (name: string) => sheets.buckets.find((b) => b.name === name)?.perMinute ?? 0;
  const throttled = sheets.buckets.reduce((n, b) => n + b.throttled, 0);
  const blocked = sheets.buckets.some((b) => b.blockedUntil !== null);
  return [
    `Sheets mirror: ${sheets.linked} linked (${sheets.editsEnabled} with edits on); backlog ${sheets.backlog} (${sheets.due} due)`,
    `last minute ${perMinute("sheets:read")} reads, ${perMinute("sheets:write")} writes, ${perMinute("drive:read")} Drive checks`,
    `${throttled} Google 429s so far${blocked ? ", paused by a 429 now" : ""}`,
  ].join("; ");
}

/** /retrain and /status (admins only). */
export const adminCommands = new Composer<CoachContext>();
adminCommands.command("retrain", async (ctx) => {
  if (!isAdmin(ctx.deps, ctx.from?.id)) {
    await ctx.reply("Sorry, /retrain is only available to the bot's administrators.");
    return;
  }
  const parsed = parseRetrainArgs(commandArgs(ctx));
  if (!parsed.ok) {
    await ctx.reply(`${parsed.message}\nUsage: /retrain [me|all|<telegram id>] [steps=N]`);
    return;
  }
  const targets = await retrainTargets(ctx.deps, parsed.value.target, ctx.person);
  if (!targets.ok) {
    await ctx.reply(targets.message);
    return;
  }
  const busy = await alreadyTraining(ctx.deps, targets.people);
  if (busy.length === targets.people.length) {
    await ctx.reply(
      `A retrain for ${busy.map((p) => p.displayName).join(", ")} is already queued or running; /status shows its progress.`,
    );
    return;
  }
  // queued now (the admin's before the night's jobs); trained by whichever process works the queue
  const queued = await queueRetrains(ctx.deps, targets.people, {
    requestedBy: ctx.from ? BigInt(ctx.from.id) : null,
    steps: parsed.value.steps ?? undefined,
    numEnvs: parsed.value.numEnvs ?? undefined,
  });
  const message = await ctx.reply(
    targets.people.length === 1
      ? `⏳ Retrain for ${targets.people[0].displayName} queued…`
      : `⏳ Retrain for ${targets.people.length} people queued…`,
  );
  // Training takes minutes: follow it in the background so this update (and every other
  // person's) is answered now. Progress arrives by editing `message`.
  const chatId = message.chat.id;
  void reportRetrains(ctx, queued, parsed.value, message.message_id, chatId).catch(
    async (error: unknown) => {
      ctx.log.error({ err: error }, "retrain report failed");
      await ctx.telegram
        .editMessageText(
          chatId,
          message.message_id,
          undefined,
          "❌ Something went wrong while retraining; the error is in the log. /status shows the training state.",
        )
        .catch(() => {});
    },
  );
});

adminCommands.command("status", async (ctx) => {
  if (!isAdmin(ctx.deps, ctx.from?.id)) {
    await ctx.reply("Sorry, /status is only available to the bot's administrators.");
    return;
  }
  await ctx.reply(await statusReport(ctx.deps));
});

/** A rate with at most two decimals, without trailing zeros (0, 0.07, 1.5, 12). */
function formatRate(perMinute: number): string {
  return String(Math.round(perMinute * 100) / 100);
}
