/**
 * A person's own logged days as UDRL episodes (hindsight learning from what really happened):
 * each day with a stored plan becomes a step — the observation from the EMAs before it and its
 * weekday, the action the plan's level per habit, the reward the coach core's dailyReward of the
 * EMAs after what was done, the effort the plan's planned load. The EMAs are recomputed from the
 * logged amounts with the coach core's EMA step, starting at the initial EMA where the window
 * starts; the first `burnInDays` days only warm them up (their EMAs are not yet the person's).
 * Days without a stored plan end a stretch; stretches are cut into episodes of at most
 * `episodeDays` days, and stretches shorter than `minEpisodeDays` are dropped.
 */
import { type CompiledHabits, plannedLoad } from "../coach/adjust.js";
import {
  alphaFromSpan,
  DEFAULT_EMA_SPAN_DAYS,
  dailyReward,
  INITIAL_EMA,
  stepEmas,
} from "../coach/ema.js";
import { buildObservation, type ObservationSpec } from "../coach/observation.js";
import type { HistoryDay } from "./fit-behaviour.js";
import type { Episode } from "./udrl.js";

export interface HistoryEpisodeOptions {
  episodeDays: number;
  /** Days at the window's start that only warm the EMAs up (default: the EMA span, 14). */
  burnInDays?: number;
  /** Shortest stretch kept as an episode (default 7). */
  minEpisodeDays?: number;
}

/** The level index whose amount is nearest to `amount` (ties: the lower level). */
function nearestLevel(levels: ArrayLike<number>, amount: number): number {
  let best = 0;
  for (let l = 1; l < levels.length; l++) {
    if (Math.abs(levels[l] - amount) < Math.abs(levels[best] - amount)) best = l;
  }
  return best;
}

/**
 * Episodes from logged days (oldest first, one per calendar day, as loadHistory gives them),
 * for the habits in `compiled`'s order and the observation `spec`.
 */
export function historyEpisodes(
  compiled: CompiledHabits,
  spec: ObservationSpec,
  days: readonly HistoryDay[],
  options: HistoryEpisodeOptions,
): Episode[] {
  const H = compiled.count;
  const ids = compiled.ids;
  const burnIn = options.burnInDays ?? DEFAULT_EMA_SPAN_DAYS;
  const minDays = Math.max(1, options.minEpisodeDays ?? 7);
  const alpha = alphaFromSpan(DEFAULT_EMA_SPAN_DAYS);
  const emas = new Float64Array(H).fill(INITIAL_EMA);
  const amounts = new Float64Array(H);
  const O = spec.size;
  const episodes: Episode[] = [];
  let stretch: { observations: number[]; actions: number[]; rewards: number[]; efforts: number[] } =
    { observations: [], actions: [], rewards: [], efforts: [] };
  const close = () => {
    const T = stretch.rewards.length;
    if (T >= minDays) {
      episodes.push({
        observations: Float32Array.from(stretch.observations),
        actions: Int32Array.from(stretch.actions),
        rewards: Float32Array.from(stretch.rewards),
        efforts: Float32Array.from(stretch.efforts),
        length: T,
        totalReward: stretch.rewards.reduce((s, r) => s + r, 0),
        heldOut: false,
      });
    }
    stretch = { observations: [], actions: [], rewards: [], efforts: [] };
  };
  const observation = new Float32Array(O);
  const action = new Int32Array(H);
  days.forEach((day, index) => {
    const usable = index >= burnIn && day.planned !== null;
    if (usable) {
      buildObservation(spec, emas, day.weekday, undefined, observation);
      for (let h = 0; h < H; h++) {
        action[h] = nearestLevel(compiled.levels[h], day.planned?.[ids[h]] ?? 0);
      }
    }
    for (let h = 0; h < H; h++) amounts[h] = day.done[ids[h]] ?? 0;
    stepEmas(compiled, emas, amounts, alpha);
    if (!usable) {
      close();
      return;
    }
    for (let o = 0; o < O; o++) stretch.observations.push(observation[o]);
    for (let h = 0; h < H; h++) stretch.actions.push(action[h]);
    stretch.rewards.push(dailyReward(emas));
    stretch.efforts.push(plannedLoad(compiled, action));
    if (stretch.rewards.length === options.episodeDays) close();
  });
  close();
  return episodes;
}
