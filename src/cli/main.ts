#!/usr/bin/env node
/** Entry point of the `gatehouse` command: parse, run, report, exit. */
import { CommanderError } from "commander";
import { buildProgram } from "./program.js";
import { EXIT, reportError } from "./output.js";

let finished: Promise<void> = Promise.resolve();

const program = buildProgram((work, json) => {
  finished = work().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.exitCode = reportError(err, json);
    },
  );
});

program.exitOverride();
try {
  await program.parseAsync(process.argv);
  await finished;
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander already printed its message (or the help text).
    const benign = ["commander.helpDisplayed", "commander.version", "commander.help"].includes(err.code);
    process.exitCode = benign ? EXIT.ok : EXIT.usage;
  } else {
    process.exitCode = reportError(err, false);
  }
}
