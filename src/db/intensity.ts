// The person's /intensity setting (users.intensity, users.intensity_until).
import type { LocalDate } from "../coach/index.js";
import type { User } from "../generated/prisma/client.js";
import type { Database } from "./client.js";
import { toDbDate } from "./dates.js";

/** Stores the intensity and the last day it holds (null: until changed); returns the person. */
export async function storeIntensity(
  db: Database,
  userId: number,
  intensity: string,
  until: LocalDate | null,
): Promise<User> {
  return db.prisma.user.update({
    where: { id: userId },
    data: { intensity, intensityUntil: until === null ? null : toDbDate(until) },
  });
}
