// Admin commands (ADMIN_TELEGRAM_IDS only): /retrain and /status. Anyone else gets a polite
// refusal and nothing runs.
//   /retrain                 the admin's own policy
//   /retrain all             everyone with active habits, one after another
//   /retrain 123456789       a person by Telegram id (or by display name)
//   /retrain all steps=20000 override RETRAIN_STEPS for this run
import type { Telegraf } from "telegraf";
import { NIGHTLY_RETRAIN_JOB } from "../../app/scheduling/schedule.js";
import {
  outcomeWithoutPolicy,
  RetrainBusyError,
  type RetrainOutcome,
} from "../../app/training/retrain.js";
import type { Database } from "../../db/client.js";
import { lastJobRun } from "../../db/jobs.js";
import { activationsSince, lastTrainingRun, runCountsSince } from "../../db/training.js";
import type { User } from "../../generated/prisma/client.js";
import type { BotDeps, CoachContext } from "../context.js";
import { commandArgs } from "../person-guard.js";
import { batchText, outcomeText, progressLine, throttledEditor } from "../retrain-report.js";

export const MIN_STEPS = 512;
export const MAX_STEPS = 100_000_000;

export type RetrainTarget =
  | { kind: "me" }
  | { kind: "all" }
  | { kind: "telegramId"; telegramId: bigint }
  | { kind: "name"; name: string };

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

/** The people a target means, or the message explaining why there are none. */
async function resolveTargets(
  db: Database,
  target: RetrainTarget,
  self: User | undefined,
): Promise<{ ok: true; people: User[] } | { ok: false; message: string }> {
  if (target.kind === "me") {
    if (self === undefined)
      return { ok: false, message: "Send /start first so that I know your habits." };
    return { ok: true, people: [self] };
  }
  if (target.kind === "all") {
    const people = await db.prisma.user.findMany({
      where: { habits: { some: { archivedAt: null } } },
      orderBy: { id: "asc" },
    });
    if (people.length === 0)
      return { ok: false, message: "Nobody has active habits yet; nothing to train." };
    return { ok: true, people };
  }
  if (target.kind === "telegramId") {
    const person = await db.prisma.user.findUnique({ where: { telegramId: target.telegramId } });
    if (person === null)
      return { ok: false, message: `No registered person has Telegram id ${target.telegramId}.` };
    return { ok: true, people: [person] };
  }
  const matches = await db.prisma.user.findMany({
    where: { displayName: { equals: target.name, mode: "insensitive" } },
    take: 5,
  });
  if (matches.length === 0)
    return {
      ok: false,
      message: `No registered person is called "${target.name}". Use their Telegram id.`,
    };
  if (matches.length > 1) {
    return {
      ok: false,
      message: `Several people are called "${target.name}": ${matches.map((m) => m.telegramId).join(", ")}. Use a Telegram id.`,
    };
  }
  return { ok: true, people: matches };
}

/** Runs the retrains one after another, editing one message with the progress. */
async function runAndReport(
  ctx: CoachContext,
  people: User[],
  args: RetrainArgs,
  messageId: number,
  chatId: number,
): Promise<void> {
  const deps = ctx.deps;
  const service = deps.retrain;
  const header =
    people.length === 1
      ? `Retraining ${people[0].displayName} (${(args.steps ?? deps.config.retrainSteps).toLocaleString("en-US")} steps)`
      : `Retraining ${people.length} people (${(args.steps ?? deps.config.retrainSteps).toLocaleString("en-US")} steps each)`;
  const editor = throttledEditor(async (text) => {
    await ctx.telegram.editMessageText(chatId, messageId, undefined, text);
  });
  const finished: RetrainOutcome[] = [];
  for (let i = 0; i < people.length; i++) {
    const person = people[i];
    const waiting = people.length - i - 1;
    let outcome: RetrainOutcome;
    try {
      outcome = await service.enqueue({
        userId: person.id,
        trigger: "admin",
        requestedBy: ctx.from ? BigInt(ctx.from.id) : null,
        steps: args.steps ?? undefined,
        numEnvs: args.numEnvs ?? undefined,
        onProgress: (event) =>
          editor.update(
            batchText(
              header,
              finished,
              {
                name: person.displayName,
                progress: event.kind === "progress" ? event.progress : null,
              },
              waiting,
            ),
          ),
      });
    } catch (error) {
      const reason =
        error instanceof RetrainBusyError
          ? "a retrain for this person is already queued or running"
          : error instanceof Error
            ? error.message
            : String(error);
      outcome = outcomeWithoutPolicy({
        runId: null,
        userId: person.id,
        displayName: person.displayName,
        status: "skipped",
        reason,
        seconds: 0,
      });
    }
    finished.push(outcome);
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
  const { db } = deps;
  const now = deps.now();
  const lines = ["Status"];
  const t0 = performance.now();
  try {
    await db.prisma.$queryRaw`SELECT 1`;
    lines.push(`Database: reachable (${db.kind}, ${Math.round(performance.now() - t0)} ms)`);
  } catch (error) {
    lines.push(
      `Database: UNREACHABLE — ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
    );
    return lines.join("\n");
  }
  const [people, withHabits] = await Promise.all([
    db.prisma.user.count(),
    db.prisma.user.count({ where: { habits: { some: { archivedAt: null } } } }),
  ]);
  lines.push(`People: ${people} (${withHabits} with active habits)`);

  const service = deps.retrain.status();
  if (service.running) {
    lines.push(
      `Training now: ${progressLine(`user ${service.running.userId}`, service.running.progress).replace(/^⏳ /, "")}${service.queued > 0 ? `; ${service.queued} queued` : ""}`,
    );
  } else lines.push("Training now: idle");

  if (deps.config.retrainCron === "off") lines.push("Nightly retrain: off (RETRAIN_CRON=off)");
  const nightly = await lastJobRun(db, NIGHTLY_RETRAIN_JOB);
  if (nightly === null) {
    if (deps.config.retrainCron !== "off")
      lines.push(`Nightly retrain (${deps.config.retrainCron} UTC): has not run yet`);
  } else {
    const counts = await runCountsSince(db, "nightly", nightly.startedAt);
    const activated = await activationsSince(db, "nightly", nightly.startedAt);
    const total = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);
    const state =
      nightly.error !== null
        ? `failed: ${nightly.error}`
        : nightly.finishedAt === null
          ? "still running (or interrupted)"
          : `finished ${utc(nightly.finishedAt)}`;
    lines.push(
      `Last nightly retrain: ${nightly.key}, started ${utc(nightly.startedAt)} by ${nightly.instance}, ${state}; ${total} runs (${counts.succeeded ?? 0} succeeded, ${counts.failed ?? 0} failed), ${activated} activated`,
    );
  }
  const last = await lastTrainingRun(db);
  if (last !== null) {
    lines.push(
      `Last training run: #${last.id} (${last.trigger}) ${last.status}, created ${ago(last.createdAt, now)}`,
    );
  }

  const [backlog, failing, oldest] = await Promise.all([
    db.prisma.outboxEvent.count({ where: { doneAt: null } }),
    db.prisma.outboxEvent.findMany({
      where: { doneAt: null, attempts: { gt: 0 } },
      orderBy: { nextAttemptAt: "asc" },
      take: 1,
    }),
    db.prisma.outboxEvent.findFirst({ where: { doneAt: null }, orderBy: { createdAt: "asc" } }),
  ]);
  if (backlog === 0) lines.push("Outbox: empty");
  else {
    const failingCount = await db.prisma.outboxEvent.count({
      where: { doneAt: null, attempts: { gt: 0 } },
    });
    lines.push(
      `Outbox backlog: ${backlog} pending, oldest created ${ago(oldest!.createdAt, now)}; ${failingCount} retrying${failing[0]?.lastError ? ` (last error: ${failing[0].lastError.slice(0, 200)})` : ""}`,
    );
  }
  // Closed after their last attempt, so not in the backlog: still worth an operator's look.
  const gaveUpWhere = {
    doneAt: { gte: new Date(now.getTime() - 24 * 3_600_000) },
    lastError: { startsWith: "gave up" },
  };
  const [gaveUp, latestGaveUp] = await Promise.all([
    db.prisma.outboxEvent.count({ where: gaveUpWhere }),
    db.prisma.outboxEvent.findFirst({ where: gaveUpWhere, orderBy: { doneAt: "desc" } }),
  ]);
  if (gaveUp > 0) {
    lines.push(
      `Outbox gave up on ${gaveUp} event${gaveUp === 1 ? "" : "s"} in the last 24 h (latest: ${latestGaveUp!.lastError!.slice(0, 200)})`,
    );
  }
  return lines.join("\n");
}

export function register(bot: Telegraf<CoachContext>): void {
  bot.command("retrain", async (ctx) => {
    if (!isAdmin(ctx.deps, ctx.from?.id)) {
      await ctx.reply("Sorry, /retrain is only available to the bot's administrators.");
      return;
    }
    const parsed = parseRetrainArgs(commandArgs(ctx));
    if (!parsed.ok) {
      await ctx.reply(`${parsed.message}\nUsage: /retrain [me|all|<telegram id>] [steps=N]`);
      return;
    }
    const targets = await resolveTargets(ctx.deps.db, parsed.value.target, ctx.person);
    if (!targets.ok) {
      await ctx.reply(targets.message);
      return;
    }
    const service = ctx.deps.retrain;
    const busy = targets.people.filter((p) => service.isBusy(p.id));
    if (busy.length === targets.people.length) {
      await ctx.reply(
        `A retrain for ${busy.map((p) => p.displayName).join(", ")} is already queued or running; /status shows its progress.`,
      );
      return;
    }
    const message = await ctx.reply(
      targets.people.length === 1
        ? `⏳ Retrain for ${targets.people[0].displayName} queued…`
        : `⏳ Retrain for ${targets.people.length} people queued…`,
    );
    // Training takes minutes: run it in the background so this update (and every other
    // person's) is answered now. Progress arrives by editing `message`.
    const chatId = message.chat.id;
    void runAndReport(ctx, targets.people, parsed.value, message.message_id, chatId).catch(
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

  bot.command("status", async (ctx) => {
    if (!isAdmin(ctx.deps, ctx.from?.id)) {
      await ctx.reply("Sorry, /status is only available to the bot's administrators.");
      return;
    }
    await ctx.reply(await statusReport(ctx.deps));
  });
}
