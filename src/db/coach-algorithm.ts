// Which learning algorithm a person's retrains use (users.coach_algorithm).
import type { Database } from "./client.js";

export async function storeCoachAlgorithm(
  db: Database,
  userIds: number[],
  algorithm: string,
): Promise<void> {
  await db.prisma.user.updateMany({
    where: { id: { in: userIds } },
    data: { coachAlgorithm: algorithm },
  });
}
