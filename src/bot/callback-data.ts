// Inline-button payloads. Telegram allows 1-64 bytes of callback data; every payload carries only
// ids and small codes, and every handler re-checks them against the database and the person who
// pressed the button (never trusting the data itself).
export const MAX_CALLBACK_DATA_BYTES = 64;

export type CallbackAction =
  | { kind: "plan-log"; planId: number; habitId: number }
  /** today's amount of a plan item becomes `amount` (0 = not today) */
  | { kind: "plan-change"; planId: number; habitId: number; amount: number }
  /** shows the choices for a plan item: other amounts, not today, another habit instead */
  | { kind: "plan-choices"; planId: number; habitId: number }
  | { kind: "plan-swap"; planId: number; outId: number; inId: number }
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
    case "plan-change":
      data = `pc:${action.planId}:${action.habitId}:${action.amount}`;
      break;
    case "plan-choices":
      data = `pa:${action.planId}:${action.habitId}`;
      break;
    case "plan-swap":
      data = `ps:${action.planId}:${action.outId}:${action.inId}`;
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
  if (action.kind === "plan-change" && !AMOUNT.test(String(action.amount))) {
    throw new RangeError(`a plan amount in a button must be 0 or 0.01–999999.99: ${action.amount}`);
  }
  if (Buffer.byteLength(data, "utf8") > MAX_CALLBACK_DATA_BYTES) {
    throw new RangeError(`callback data longer than ${MAX_CALLBACK_DATA_BYTES} bytes: ${data}`);
  }
  return data;
}

/** ids of 32-bit columns (plans, habits) */
const ID = /^[1-9]\d{0,9}$/;
/** a plan amount in a button: 0 or a positive number with at most two decimals */
const AMOUNT = /^(?:0|[1-9]\d{0,5})(?:\.\d{1,2})?$/;
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
    case "pc": {
      const [plan, habit, amount] = rest;
      if (rest.length !== 3 || !ID.test(plan) || !ID.test(habit) || !AMOUNT.test(amount))
        return undefined;
      return {
        kind: "plan-change",
        planId: Number(plan),
        habitId: Number(habit),
        amount: Number(amount),
      };
    }
    case "pa": {
      const [plan, habit] = rest;
      if (rest.length !== 2 || !ID.test(plan) || !ID.test(habit)) return undefined;
      return { kind: "plan-choices", planId: Number(plan), habitId: Number(habit) };
    }
    case "ps": {
      const [plan, out, inn] = rest;
      if (rest.length !== 3 || !ID.test(plan) || !ID.test(out) || !ID.test(inn)) return undefined;
      return { kind: "plan-swap", planId: Number(plan), outId: Number(out), inId: Number(inn) };
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
