// The `coachrl` command line: one dispatcher, one module per subcommand (src/cli/*.ts), each
// exporting run(argv) → exit code. Errors a person can fix are printed without a stack trace.
import { ConfigError } from "./config.js";
import { MigrationError } from "./db/migrate.js";

type Command = { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> };

const COMMANDS: Record<string, Command> = {
  migrate: {
    summary: "apply database migrations (--status to list, --resolve-rolled-back NAME)",
    load: () => import("./cli/migrate.js"),
  },
  import: {
    summary:
      "import body weights from a scale CSV or an Apple Health export.zip/xml (--telegram-id N FILE)",
    load: () => import("./cli/import.js"),
  },
  train: {
    summary: "train a policy with PPO on a simulated persona (--persona FILE --steps N --out FILE)",
    load: () => import("./cli/train.js"),
  },
  eval: {
    summary: "evaluate one policy (random, heuristic or a checkpoint) on a persona",
    load: () => import("./cli/eval.js"),
  },
  compare: {
    summary: "evaluate several policies on the same simulated people and print a table",
    load: () => import("./cli/compare.js"),
  },
  seed: {
    summary: "create simulated people acting like a persona (--people N --persona FILE)",
    load: () => import("./cli/seed.js"),
  },
  worker: {
    summary: "train queued retrains (Postgres); run as many as you like (--concurrency N)",
    load: () => import("./cli/worker.js"),
  },
  retrain: {
    summary: "queue retrains from the shell (--all | --telegram-id N) [--wait]",
    load: () => import("./cli/retrain.js"),
  },
  simulate: {
    summary:
      "the product in a closed loop against simulated people, next to heuristics and an oracle (--persona FILE)",
    load: () => import("./cli/simulate.js"),
  },
  runs: {
    summary: "list training runs, or show one with its curves (runs show ID [--png FILE])",
    load: () => import("./cli/runs.js"),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(
    ([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`,
  );
  return `Usage: coachrl <command> [options]\n\nCommands:\n${lines.join("\n")}\n\nRun "coachrl <command> --help" for a command's options.`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    console.error(`Unknown command "${name}".\n\n${usage()}`);
    return 2;
  }
  const module = await command.load();
  return module.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof MigrationError) {
      console.error(error.message);
    } else {
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    }
    process.exitCode = 1;
  },
);
