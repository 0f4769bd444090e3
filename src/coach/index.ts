/**
 * Coach core: the pure rules of the method (habits, days, EMAs, reward, observations, plan
 * adjustment, heuristic planner, report parsing, body weight, idempotency keys). No I/O, no clock, no Math.random.
 */

export * from "./adjust.js";
export * from "./answers.js";
export * from "./days.js";
export * from "./ema.js";
export * from "./habits.js";
export * from "./idempotency.js";
export * from "./observation.js";
export * from "./parse.js";
export * from "./places.js";
export * from "./planner.js";
export * from "./rng.js";
export * from "./text.js";
export * from "./units.js";
export * from "./weight.js";
