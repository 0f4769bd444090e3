// Everything stored about one person, loaded in one place: /export writes all of it, the Google
// Sheets mirror shows a part of it. A consumer names the parts it needs (policy weights are
// large, the mirror does not load them); every list comes in id order (plans in day order), a
// consumer sorts further for its own view.
import type {
  Habit,
  HabitEntry,
  Metric,
  MetricSample,
  OutboxEvent,
  Plan,
  PlanRevision,
  PolicyModel,
  TrainingMetric,
  TrainingRun,
  User,
} from "../generated/prisma/client.js";
import type { Database } from "./client.js";

export interface PersonData {
  user: User;
  habits: Habit[];
  entries: HabitEntry[];
  metrics: Metric[];
  samples: MetricSample[];
  plans: Plan[];
  /** the person's changes to their plans, in the order they were made */
  planRevisions: PlanRevision[];
  trainingRuns: TrainingRun[];
  trainingMetrics: TrainingMetric[];
  policyModels: PolicyModel[];
  outboxEvents: OutboxEvent[];
}

export type PersonPart = Exclude<keyof PersonData, "user">;

export const PERSON_PARTS: readonly PersonPart[] = [
  "habits",
  "entries",
  "metrics",
  "samples",
  "plans",
  "planRevisions",
  "trainingRuns",
  "trainingMetrics",
  "policyModels",
  "outboxEvents",
];

function loaders(
  db: Database,
  userId: number,
): { [K in PersonPart]: () => Promise<PersonData[K]> } {
  const p = db.prisma;
  const where = { userId };
  const byId = { id: "asc" } as const;
  const byDay = { day: "asc" } as const;
  return {
    habits: () => p.habit.findMany({ where, orderBy: byId }),
    entries: () => p.habitEntry.findMany({ where, orderBy: byId }),
    metrics: () => p.metric.findMany({ where, orderBy: byId }),
    samples: () => p.metricSample.findMany({ where, orderBy: byId }),
    plans: () => p.plan.findMany({ where, orderBy: byDay }),
    planRevisions: () => p.planRevision.findMany({ where, orderBy: byId }),
    trainingRuns: () => p.trainingRun.findMany({ where, orderBy: byId }),
    trainingMetrics: () => p.trainingMetric.findMany({ where: { run: where }, orderBy: byId }),
    policyModels: () => p.policyModel.findMany({ where, orderBy: byId }),
    outboxEvents: () => p.outboxEvent.findMany({ where, orderBy: byId }),
  };
}

/**
 * The person and the named parts of what is stored about them (all parts by default); null when
 * there is no such person.
 */
export async function loadPersonData<K extends PersonPart = PersonPart>(
  db: Database,
  userId: number,
  parts: readonly K[] = PERSON_PARTS as readonly K[],
): Promise<(Pick<PersonData, K> & { user: User }) | null> {
  const user = await db.prisma.user.findUnique({ where: { id: userId } });
  if (user === null) return null;
  const load = loaders(db, userId);
  const lists = await Promise.all(parts.map((part) => load[part]()));
  const data: Partial<PersonData> = { user };
  parts.forEach((part, i) => {
    (data as Record<PersonPart, unknown>)[part] = lists[i];
  });
  return data as Pick<PersonData, K> & { user: User };
}
