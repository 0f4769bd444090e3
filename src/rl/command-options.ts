// Argument checks shared by the train, eval and compare commands.
import { type ParseArgsConfig, parseArgs } from "node:util";

export const USAGE_ERROR = 2;

export function positiveInteger(
  value: string | undefined,
  flag: string,
  allowZero = false,
): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
    throw new Error(
      `${flag} must be a whole number ${allowZero ? "≥ 0" : "≥ 1"}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

export function choice<T extends string>(
  value: string | undefined,
  flag: string,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Error(`${flag} must be one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

type OptionsConfig = NonNullable<ParseArgsConfig["options"]>;
type WithHelp<O extends OptionsConfig> = O & { help: { type: "boolean"; short: "h" } };
export type CommandValues<O extends OptionsConfig> = ReturnType<
  typeof parseArgs<{ options: WithHelp<O>; strict: true; allowPositionals: false }>
>["values"];

/**
 * The frame every RL command shares: parse `argv` strictly (a bad flag prints the message and
 * the usage, exit 2), answer `--help`, run `body`, and turn an error a person can fix into its
 * message on stderr with exit 1 (no stack trace).
 */
export async function runCommand<O extends OptionsConfig>(
  argv: string[],
  usage: string,
  options: O,
  body: (values: CommandValues<O>) => Promise<number>,
): Promise<number> {
  let values: CommandValues<O>;
  try {
    values = parseArgs({
      args: argv,
      options: { ...options, help: { type: "boolean", short: "h" } } as WithHelp<O>,
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usage}`);
    return USAGE_ERROR;
  }
  if ((values as { help?: boolean }).help) {
    console.log(usage);
    return 0;
  }
  try {
    return await body(values);
  } catch (error) {
    console.error((error as Error).message);
    return 1;
  }
}
