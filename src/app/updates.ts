// Telegram (or any chat) deliveries are handled once: an update id is claimed before anything
// runs, so a re-delivered update is recognised and skipped, also when two deliveries race.

import { claimUpdate as claimUpdateId } from "../db/updates.js";
import type { AppDeps } from "./deps.js";

/** True when this call claimed the update (first delivery), false for a re-delivery. */
export async function claimUpdate(deps: Pick<AppDeps, "db">, updateId: number): Promise<boolean> {
  return claimUpdateId(deps.db, updateId);
}
