// The argument rules every `coachrl` subcommand shares: options are parsed strictly (an unknown
// flag, a missing value or an unexpected argument prints the problem and the usage and exits 2
// without doing anything), `--help`/`-h` prints the usage and does nothing else (exit 0), and
// an error a person can fix is one line on stderr (exit 1), without a stack trace.
import { type ParseArgsConfig, parseArgs } from "node:util";

/** The exit code of a command line that was not understood (nothing was done). */
export const USAGE_ERROR = 2;

type OptionsConfig = NonNullable<ParseArgsConfig["options"]>;
type WithHelp<O extends OptionsConfig> = O & { help: { type: "boolean"; short: "h" } };
export type CommandValues<O extends OptionsConfig> = ReturnType<
  typeof parseArgs<{ options: WithHelp<O>; strict: true; allowPositionals: true }>
>["values"];

export interface CommandLine<O extends OptionsConfig> {
  values: CommandValues<O>;
  positionals: string[];
}

export interface CommandIo {
  /** where the usage goes for --help (default: console.log) */
  out?: (text: string) => void;
  /** where problems go (default: console.error) */
  err?: (text: string) => void;
}

/**
 * Parses `argv` against `options` (`--help`/`-h` is added). Returns the parsed command line, or
 * the exit code when the command must not act: 0 after printing the usage for --help, 2
 * (USAGE_ERROR) after printing the problem and the usage.
 */
export function parseCommandLine<O extends OptionsConfig>(
  argv: string[],
  usage: string,
  options: O,
  { positionals = false, ...io }: CommandIo & { positionals?: boolean } = {},
): CommandLine<O> | number {
  const out = io.out ?? ((text: string) => console.log(text));
  const err = io.err ?? ((text: string) => console.error(text));
  let parsed: CommandLine<O>;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: "boolean", short: "h" } } as WithHelp<O>,
      strict: true,
      allowPositionals: true,
    }) as CommandLine<O>;
  } catch (error) {
    // a --help anywhere wins over the problem: it asks for the usage, and nothing is done
    if (argv.includes("--help") || argv.includes("-h")) {
      out(usage);
      return 0;
    }
    err(`${(error as Error).message}\n\n${usage}`);
    return USAGE_ERROR;
  }
  if ((parsed.values as { help?: boolean }).help) {
    out(usage);
    return 0;
  }
  if (!positionals && parsed.positionals.length > 0) {
    err(`Unexpected argument '${parsed.positionals[0]}'\n\n${usage}`);
    return USAGE_ERROR;
  }
  return parsed;
}

/**
 * The frame of a command: parse the command line (see parseCommandLine), run `body`, and turn an
 * error a person can fix into its message on stderr with exit 1 (no stack trace).
 */
export async function runCommand<O extends OptionsConfig>(
  argv: string[],
  usage: string,
  options: O,
  body: (values: CommandValues<O>, positionals: string[]) => Promise<number>,
  io: CommandIo & { positionals?: boolean } = {},
): Promise<number> {
  const commandLine = parseCommandLine(argv, usage, options, io);
  if (typeof commandLine === "number") return commandLine;
  try {
    return await body(commandLine.values, commandLine.positionals);
  } catch (error) {
    (io.err ?? ((text: string) => console.error(text)))((error as Error).message);
    return 1;
  }
}

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
