// The person's plan settings that steer planning and the evening check-in: daily capacity
// (minutes) and the check-in time. Kept apart from the other settings' writes so that each use
// case changes only its own columns.
import type { User } from "../generated/prisma/client.js";
import type { Database } from "./client.js";

export interface PlanSettingsChange {
  /** minutes a day the plan may take (time habits); null = no limit */
  capacityMinutes?: number | null;
  /** local "HH:MM" of the evening check-in; null = off */
  checkInTime?: string | null;
}

export async function updatePlanSettings(
  db: Database,
  userId: number,
  change: PlanSettingsChange,
): Promise<User> {
  return db.prisma.user.update({ where: { id: userId }, data: change });
}

/** Onboarded, reachable people with active habits who chose an evening check-in. */
export async function peopleWithCheckIns(db: Database): Promise<User[]> {
  return db.prisma.user.findMany({
    where: {
      checkInTime: { not: null },
      onboardedAt: { not: null },
      blockedAt: null,
      habits: { some: { archivedAt: null } },
    },
  });
}
