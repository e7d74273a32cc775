/**
 * Usage errors (a misspelt command, an unknown flag, a missing argument) reported like every other
 * failure: one `error CODE: …` line on stderr, or `{"error": {…}}` on stdout with --json, and exit
 * status 2 from every level of the command tree.
 */
import { CommanderError, type Command } from "commander";
import { CliError, type CliErrorCode, EXIT, reportError } from "./output.js";

/** True when the command line asks for JSON (`--json` before any `--`). */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).includes("--json");
}

/** A commander error raised in `command`, so the report can name it. */
class UsageFailure extends Error {
  constructor(
    readonly failure: CommanderError,
    readonly command: Command,
  ) {
    super(failure.message);
  }
}

/** `gatehouse devices list` for the command `list` under `devices`. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

const CODES: Readonly<Record<string, CliErrorCode>> = {
  "commander.unknownCommand": "UNKNOWN_COMMAND",
  "commander.unknownOption": "UNKNOWN_OPTION",
  "commander.missingArgument": "MISSING_ARGUMENT",
  "commander.optionMissingArgument": "MISSING_ARGUMENT",
  "commander.missingMandatoryOptionValue": "MISSING_FLAG",
  "commander.invalidArgument": "INVALID_FLAG",
  "commander.conflictingOption": "INVALID_FLAG",
  "commander.excessArguments": "TOO_MANY_ARGUMENTS",
  "commander.help": "MISSING_COMMAND",
};

/** The CliError a commander usage failure stands for: what was wrong, and what to try. */
export function usageError(err: CommanderError, cmd: Command): CliError {
  const path = commandPath(cmd);
  const code: CliErrorCode = CODES[err.code] ?? "USAGE";
  const [first = "", ...rest] = err.message.replace(/^error: /, "").split("\n");
  const what = first.replace(/\.$/, "");
  const suggestion = /\(Did you mean (.+)\?\)/.exec(rest.join(" "))?.[1];
  const subcommands = cmd
    .createHelp()
    .visibleCommands(cmd)
    .map((c) => c.name())
    .filter((name) => name !== "help");
  if (code === "MISSING_COMMAND") {
    return new CliError(
      code,
      `${path} needs a command: ${subcommands.join(", ")}`,
      EXIT.usage,
      `see: ${path} --help`,
      { fields: { commands: subcommands } },
    );
  }
  let hint: string;
  if (suggestion) hint = `did you mean ${suggestion}? (see: ${path} --help)`;
  else if (code === "UNKNOWN_COMMAND" && subcommands.length > 0)
    hint = `${path} has: ${subcommands.join(", ")}`;
  else hint = `see: ${path} --help`;
  return new CliError(code, `${path}: ${what}`, EXIT.usage, hint, {
    fields: suggestion ? { didYouMean: suggestion } : {},
  });
}

/**
 * Makes every command in the tree throw instead of exiting and stop commander's own error text, so
 * `usageExit` reports one way (text or JSON). Help with --help still prints as commander does.
 */
export function routeUsageErrors(program: Command, json: boolean): void {
  const visit = (cmd: Command) => {
    cmd.exitOverride((err) => {
      throw err.exitCode === 0 ? err : new UsageFailure(err, cmd);
    });
    cmd.configureOutput({
      outputError: () => {},
      // A command run without its subcommand prints its help on stderr: keep that for people, not --json.
      writeErr: (s) => {
        if (!json) process.stderr.write(s);
      },
    });
    cmd.showHelpAfterError(false);
    cmd.commands.forEach(visit);
  };
  visit(program);
}

/** The exit status for what `parseAsync` threw, after reporting it (usage errors exit 2). */
export function usageExit(err: unknown, json: boolean): number {
  if (err instanceof UsageFailure) {
    const failure = usageError(err.failure, err.command);
    // Help already went to stderr for a missing subcommand; one line after it says what was wrong.
    return reportError(failure, json);
  }
  if (err instanceof CommanderError) {
    // --help, `help` and --version: commander printed them.
    return ["commander.helpDisplayed", "commander.version", "commander.help"].includes(err.code)
      ? EXIT.ok
      : EXIT.usage;
  }
  return reportError(err, json);
}
