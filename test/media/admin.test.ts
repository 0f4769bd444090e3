// /retrain and /status end to end over the Bot API emulator: refused for everyone but admins
// (and then nothing runs), and for an admin a real (tiny) PPO training in a worker thread that
// reports by editing one message while the bot keeps answering other people.
import { hostname } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInProcessQueue } from "../../src/app/training/in-process-queue.js";
import { type RetrainRunner, workerThreadRunner } from "../../src/app/training/retrain.js";
import { onboard, startTestBot, type TestBot } from "../support/telegram-bot.js";

const ADMIN = 501;
const PERSON = 502;
let t: TestBot;
/** Progress events the first run reported (fast ones first, so edits must be throttled). */
let progressEvents = 0;
let burstDone = false;
/**
 * The real worker-thread runner, preceded (on the first run only) by a burst of 30 progress
 * reports in 3 s — far more than the 5-second edit interval lets through to Telegram.
 */
const burstThenTrain: RetrainRunner = async (request, onProgress, signal) => {
  const counting: typeof onProgress = (p) => {
    progressEvents++;
    onProgress(p);
  };
  if (!burstDone) {
    burstDone = true;
    for (let i = 1; i <= 30; i++) {
      counting({
        update: i,
        updates: 30,
        steps: i,
        totalSteps: request.steps,
        samplesPerSecond: 1000,
        meanReward: 0.5,
        entropy: 1,
        approxKl: 0,
        clipFraction: 0,
        policyLoss: 0,
        valueLoss: 0,
        explainedVariance: 0,
        learningRate: 0.003,
      });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return workerThreadRunner(request, counting, signal);
};
/**
 * The text a bot message was first sent with (the emulator's message shows its latest edit,
 * and a fast training may already have edited it when the reply is read).
 */
function sentText(message: { text?: string; edits: string[] }): string {
  return message.edits[0] ?? message.text ?? "";
}

beforeAll(async () => {
  // tiny training and evaluation so the test stays fast; the real worker thread still runs
  t = await startTestBot({
    env: {
      ADMIN_TELEGRAM_IDS: String(ADMIN),
      RETRAIN_STEPS: "1024",
      RETRAIN_NUM_ENVS: "8",
      RETRAIN_EVAL_EPISODES: "8",
      RETRAIN_EVAL_DAYS: "60",
    },
  });
  await t.deps.training.stop();
  t.deps.training = createInProcessQueue(t.deps, { runner: burstThenTrain });
  await t.deps.training.work(1);
  await onboard(t, ADMIN, { habits: ["run 30min 5/week", "violin 20min daily"] });
  await onboard(t, PERSON, { habits: ["read 10 pages daily"] });
});
afterAll(async () => {
  await t?.stop();
});

describe("/retrain", () => {
  it("politely refuses anyone who is not an admin, and nothing runs", async () => {
    const [reply] = await t.emulator.ask(PERSON, "/retrain all");
    expect(reply.text).toBe("Sorry, /retrain is only available to the bot's administrators.");
    const [status] = await t.emulator.ask(PERSON, "/status");
    expect(status.text).toContain("only available to the bot's administrators");
    await new Promise((r) => setTimeout(r, 200));
    expect(await t.db.prisma.trainingRun.count()).toBe(0);
    expect(await t.db.prisma.policyModel.count()).toBe(0);
  });

  it("explains bad arguments", async () => {
    const [steps] = await t.emulator.ask(ADMIN, "/retrain steps=lots");
    expect(steps.text).toContain(
      'steps must be a whole number from 512 to 100,000,000, got "lots"',
    );
    const [who] = await t.emulator.ask(ADMIN, "/retrain 123");
    expect(who.text).toBe("No registered person has Telegram id 123.");
    expect(await t.db.prisma.trainingRun.count()).toBe(0);
  });

  it("trains for the admin in a worker, keeps answering others, and reports by editing one message", async () => {
    const [queued] = await t.emulator.ask(ADMIN, "/retrain");
    expect(sentText(queued)).toContain("Retrain for User501 queued");
    // another person is answered while the training runs
    const [help] = await t.emulator.ask(PERSON, "/stats 3");
    expect(help.text).toContain("the last 7 to 365 days");
    const runningRuns = await t.db.prisma.trainingRun.count({
      where: { status: { in: ["queued", "running"] } },
    });
    expect(runningRuns).toBe(1);

    await t.emulator.waitFor(
      () => (t.emulator.message(ADMIN, queued.message_id)?.text ?? "").includes("done."),
      "the retrain to finish",
      120_000,
    );
    const final = t.emulator.message(ADMIN, queued.message_id)!;
    expect(final.text).toMatch(
      /reward before 0\.\d{3} \(heuristic\) → after 0\.\d{3}; heuristic 0\.\d{3}\./,
    );
    expect(final.text).toMatch(/The new policy is now active|Not activated/);
    expect(final.text).toContain("Trained on default behaviour (not enough history yet).");
    // one message, edited; never two edits within the interval except the final one
    const edits = t.emulator
      .callsOf("editMessageText")
      .filter((c) => c.payload.message_id === queued.message_id);
    expect(edits.length).toBeGreaterThanOrEqual(1);
    for (let i = 1; i < edits.length - 1; i++) {
      // edits are scheduled ≥ 5 s apart; allow for one arriving late over HTTP
      expect(edits[i].at - edits[i - 1].at).toBeGreaterThanOrEqual(4000);
    }
    // 30+ progress reports, but at most one edit per 5 s (plus the first and the final one)
    expect(progressEvents).toBeGreaterThanOrEqual(30);
    const span = edits[edits.length - 1].at - edits[0].at;
    expect(edits.length).toBeLessThanOrEqual(2 + Math.ceil(span / 5000));
    expect(edits.length).toBeLessThan(progressEvents);

    const admin = await t.db.prisma.user.findUniqueOrThrow({
      where: { telegramId: BigInt(ADMIN) },
    });
    const run = await t.db.prisma.trainingRun.findFirstOrThrow({ where: { userId: admin.id } });
    expect(run.status).toBe("succeeded");
    expect(run.trigger).toBe("admin");
    expect(run.requestedBy).toBe(BigInt(ADMIN));
    expect(await t.db.prisma.trainingMetric.count({ where: { runId: run.id } })).toBeGreaterThan(0);
    const model = await t.db.prisma.policyModel.findFirstOrThrow({
      where: { trainingRunId: run.id },
    });
    expect(final.text?.includes("now active")).toBe(model.active);
  }, 150_000);

  it("retrains everyone with /retrain all, one after another, in one message", async () => {
    const before = await t.db.prisma.trainingRun.count();
    const [queued] = await t.emulator.ask(ADMIN, "/retrain all");
    expect(sentText(queued)).toContain("Retrain for 2 people queued");
    await t.emulator.waitFor(
      () => (t.emulator.message(ADMIN, queued.message_id)?.text ?? "").includes("done."),
      "the batch retrain to finish",
      120_000,
    );
    const final = t.emulator.message(ADMIN, queued.message_id)!.text!;
    expect(final).toContain("Retraining 2 people");
    expect(final).toMatch(
      /User501 \(run #\d+\): reward before 0\.\d{3} \((heuristic|active policy)\)/,
    );
    expect(final).toMatch(/User502 \(run #\d+\): reward before 0\.\d{3} \(heuristic\)/);
    expect(await t.db.prisma.trainingRun.count()).toBe(before + 2);
    // at most one active policy per person
    const active = await t.db.prisma.policyModel.groupBy({
      by: ["userId"],
      where: { active: true },
      _count: true,
    });
    expect(active.every((g) => g._count === 1)).toBe(true);
  }, 150_000);

  it("retrains another person by Telegram id: their run, one edited message naming them", async () => {
    const person = await t.db.prisma.user.findUniqueOrThrow({
      where: { telegramId: BigInt(PERSON) },
    });
    const runsBefore = await t.db.prisma.trainingRun.findMany({ select: { id: true } });
    const adminMessagesBefore = t.emulator.botMessages(ADMIN).length;
    const personMessagesBefore = t.emulator.botMessages(PERSON).length;
    const editsBefore = t.emulator.callsOf("editMessageText").length;

    const [queued] = await t.emulator.ask(ADMIN, `/retrain ${PERSON} steps=512`);
    expect(sentText(queued)).toBe("⏳ Retrain for User502 queued…");
    await t.emulator.waitFor(
      () => (t.emulator.message(ADMIN, queued.message_id)?.text ?? "").includes("done."),
      "the retrain for the other person to finish",
      120_000,
    );

    // progress and result arrive by editing that one message, which names the person
    const final = t.emulator.message(ADMIN, queued.message_id)!;
    expect(final.text).toMatch(/^Retraining User502 \(512 steps\): done\.\n\n/);
    expect(final.text).toMatch(
      /User502 \(run #\d+\): reward before 0\.\d{3} \((heuristic|active policy)\) → after 0\.\d{3}; heuristic 0\.\d{3}\./,
    );
    expect(final.text).not.toContain("User501");
    expect(final.edits.some((text) => text.includes("⏳ User502:"))).toBe(true);
    const edits = t.emulator.callsOf("editMessageText").slice(editsBefore);
    expect(edits.length).toBeGreaterThanOrEqual(2); // at least one progress edit and the final one
    expect(
      edits.every(
        (c) => Number(c.payload.chat_id) === ADMIN && c.payload.message_id === queued.message_id,
      ),
    ).toBe(true);
    expect(t.emulator.botMessages(ADMIN)).toHaveLength(adminMessagesBefore + 1); // only `queued`
    expect(t.emulator.botMessages(PERSON)).toHaveLength(personMessagesBefore); // not bothered

    // exactly one new run, recorded for that person and requested by the admin
    const runs = await t.db.prisma.trainingRun.findMany({
      where: { id: { notIn: runsBefore.map((r) => r.id) } },
    });
    expect(runs).toHaveLength(1);
    const [run] = runs;
    expect(run.userId).toBe(person.id);
    expect(run.status).toBe("succeeded");
    expect(run.trigger).toBe("admin");
    expect(run.requestedBy).toBe(BigInt(ADMIN));
    expect(run.hyperparameters).toMatchObject({ steps: 512, behaviour: "default" });
    expect(final.text).toContain(`(run #${run.id})`);
    expect(await t.db.prisma.trainingMetric.count({ where: { runId: run.id } })).toBeGreaterThan(0);
    const model = await t.db.prisma.policyModel.findFirstOrThrow({
      where: { trainingRunId: run.id },
    });
    expect(model.userId).toBe(person.id);
    expect(final.text?.includes("now active")).toBe(model.active);
  }, 150_000);

  it("shows health, training state and the outbox in /status", async () => {
    await t.db.prisma.outboxEvent.create({
      data: { kind: "notification", payload: {}, attempts: 2, lastError: "timeout" },
    });
    const [status] = await t.emulator.ask(ADMIN, "/status");
    expect(status.text).toContain("Database: reachable");
    expect(status.text).toContain("People: 2 (2 with active habits)");
    expect(status.text).toContain("Training queue (in-process): idle; 0 failed in the last 24 h");
    // the retrains above, all trained in this process by its in-process queue
    const trained = await t.db.prisma.trainingRun.count({ where: { status: "succeeded" } });
    expect(trained).toBeGreaterThan(0);
    expect(status.text).toContain(
      `Training throughput: ${Math.round((trained / 15) * 100) / 100} jobs/min (last 15 min); by worker in the last hour: ${hostname()}:${process.pid} ${trained}`,
    );
    expect(status.text).toMatch(/Last training run: #\d+ \(admin\) succeeded, created \d+ s ago/);
    expect(status.text).toContain("Outbox backlog: 1 pending");
    expect(status.text).toContain("last error: timeout");
  });
});
