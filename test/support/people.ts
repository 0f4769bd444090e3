// A registered person with three duration habits (walk, read, stretch; 5 days a week): the
// small habit set the training tests retrain, through the app's own functions; and the
// configuration of tiny retrains.
import { expect } from "vitest";
import { addHabit } from "../../src/app/habits.js";
import { registerPerson } from "../../src/app/people.js";
import type { AppConfig } from "../../src/config.js";
import type { Database } from "../../src/db/client.js";
import type { User } from "../../src/generated/prisma/client.js";
import { createLogger } from "../../src/logger.js";

/** Configuration of tiny retrains (8 simulated people per update, a 2 × 14-day evaluation). */
export const TINY_RETRAIN_ENV = {
  TZ_DEFAULT: "Europe/Berlin",
  LOG_LEVEL: "silent",
  RETRAIN_NUM_ENVS: "8",
  RETRAIN_EVAL_EPISODES: "2",
  RETRAIN_EVAL_DAYS: "14",
};

const log = createLogger({ level: "silent", pretty: false, secrets: [] });

export async function personWithHabits(
  db: Database,
  config: AppConfig,
  telegramId: number,
  name: string,
): Promise<User> {
  const { person } = await registerPerson(
    { db, config },
    { telegramId: BigInt(telegramId), chatId: BigInt(telegramId), displayName: name },
  );
  const deps = { db, log, now: () => new Date() };
  for (const [i, habit] of ["walk", "read", "stretch"].entries()) {
    const added = await addHabit(deps, person, {
      name: habit,
      kind: "duration",
      unit: "min",
      target: 20 + 10 * i,
      daysPerWeek: 5,
    });
    expect(added.kind).toBe("added");
  }
  return person;
}
