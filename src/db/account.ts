// Deleting a person's account: every row about them, in one transaction. Entries go first
// because habit_entries → habits is ON DELETE RESTRICT (a habit is never deleted under its
// entries otherwise); the rest is deleted explicitly too rather than left to cascades, so the
// counts can be reported and nothing depends on cascade order.
import { personJobKeyPrefix } from "../coach/idempotency.js";
import type { Database } from "./client.js";

export interface DeletedCounts {
  entries: number;
  metricSamples: number;
  metrics: number;
  plans: number;
  planRevisions: number;
  trainingMetrics: number;
  policyModels: number;
  trainingRuns: number;
  outboxEvents: number;
  habits: number;
  jobRuns: number;
  users: number;
}

/** Deletes everything stored about user `userId`; all counts 0 when there is no such user. */
export async function deletePerson(db: Database, userId: number): Promise<DeletedCounts> {
  return db.prisma.$transaction(async (tx) => {
    const runs = await tx.trainingRun.findMany({ where: { userId }, select: { id: true } });
    const runIds = runs.map((r) => r.id);
    const entries = await tx.habitEntry.deleteMany({ where: { userId } });
    const metricSamples = await tx.metricSample.deleteMany({ where: { userId } });
    const metrics = await tx.metric.deleteMany({ where: { userId } });
    const planRevisions = await tx.planRevision.deleteMany({ where: { userId } });
    // plans reference policy models (SET NULL), so plans go before models
    const plans = await tx.plan.deleteMany({ where: { userId } });
    const trainingMetrics = await tx.trainingMetric.deleteMany({
      where: { runId: { in: runIds } },
    });
    const policyModels = await tx.policyModel.deleteMany({ where: { userId } });
    const trainingRuns = await tx.trainingRun.deleteMany({ where: { userId } });
    const outboxEvents = await tx.outboxEvent.deleteMany({ where: { userId } });
    const habits = await tx.habit.deleteMany({ where: { userId } });
    const jobRuns = await tx.jobRun.deleteMany({
      where: { key: { startsWith: personJobKeyPrefix(userId) } },
    });
    const users = await tx.user.deleteMany({ where: { id: userId } });
    return {
      entries: entries.count,
      metricSamples: metricSamples.count,
      metrics: metrics.count,
      plans: plans.count,
      planRevisions: planRevisions.count,
      trainingMetrics: trainingMetrics.count,
      policyModels: policyModels.count,
      trainingRuns: trainingRuns.count,
      outboxEvents: outboxEvents.count,
      habits: habits.count,
      jobRuns: jobRuns.count,
      users: users.count,
    };
  });
}
