// Inline-button payloads. Telegram allows 1-64 bytes of callback data; every payload carries only
// ids and small codes, and every handler re-checks them against the database and the person who
// pressed the button (never trusting the data itself).
export const MAX_CALLBACK_DATA_BYTES = 64;

export type CallbackAction =
  | { kind: "plan-log"; planId: number; habitId: number }
  | { kind: "undo"; entryId: bigint }
  | { kind: "plan-time"; time: string }
  | { kind: "starter"; choice: "starter" | "own" }
  | { kind: "habit-restore"; habitId: number }
  | { kind: "rotate-token" };

export function encodeCallback(action: CallbackAction): string {
  let data: string;
  switch (action.kind) {
    case "plan-log":
      data = `p:${action.planId}:${action.habitId}`;
      break;
    case "undo":
      data = `u:${action.entryId}`;
      break;
    case "plan-time":
      data = `pt:${action.time}`;
      break;
    case "starter":
      data = `st:${action.choice}`;
      break;
    case "habit-restore":
      data = `hr:${action.habitId}`;
      break;
    case "rotate-token":
      data = "tok:rotate";
      break;
  }
  if (Buffer.byteLength(data, "utf8") > MAX_CALLBACK_DATA_BYTES) {
    throw new RangeError(`callback data longer than ${MAX_CALLBACK_DATA_BYTES} bytes: ${data}`);
  }
  return data;
}

/** ids of 32-bit columns (plans, habits) */
const ID = /^[1-9]\d{0,9}$/;
/** ids of 64-bit columns (entries) */
const BIG_ID = /^[1-9]\d{0,18}$/;

/** Parses callback data; undefined for anything malformed (forged or from an old version). */
export function decodeCallback(data: string): CallbackAction | undefined {
  if (Buffer.byteLength(data, "utf8") > MAX_CALLBACK_DATA_BYTES) return undefined;
  const [prefix, ...rest] = data.split(":");
  const arg = rest.join(":");
  switch (prefix) {
    case "p": {
      const [plan, habit] = rest;
      if (rest.length !== 2 || !ID.test(plan) || !ID.test(habit)) return undefined;
      return { kind: "plan-log", planId: Number(plan), habitId: Number(habit) };
    }
    case "u":
      return BIG_ID.test(arg) ? { kind: "undo", entryId: BigInt(arg) } : undefined;
    case "pt":
      return /^\d{2}:\d{2}$/.test(arg) ? { kind: "plan-time", time: arg } : undefined;
    case "st":
      return arg === "starter" || arg === "own" ? { kind: "starter", choice: arg } : undefined;
    case "hr":
      return ID.test(arg) ? { kind: "habit-restore", habitId: Number(arg) } : undefined;
    case "tok":
      return arg === "rotate" ? { kind: "rotate-token" } : undefined;
    default:
      return undefined;
  }
}

/** The data of the callback query behind an update ("" when there is none). */
export function callbackData(ctx: { callbackQuery?: object }): string {
  const query = ctx.callbackQuery as { data?: unknown } | undefined;
  return typeof query?.data === "string" ? query.data : "";
}
