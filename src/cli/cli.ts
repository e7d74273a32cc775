/** The `gatehouse` command once its process is set up (main.ts): parse, run, report, exit. */
import { buildProgram, commandsNeeded } from "./program.js";
import { reportError } from "./output.js";
import { routeUsageErrors, usageExit, wantsJson } from "./usage.js";

let finished: Promise<void> = Promise.resolve();

const program = await buildProgram(
  (work, json) => {
    finished = work().then(
      (code) => {
        process.exitCode = code;
      },
      (err: unknown) => {
        process.exitCode = reportError(err, json);
      },
    );
  },
  commandsNeeded(process.argv.slice(2)),
);

const json = wantsJson(process.argv);
routeUsageErrors(program, json);
try {
  await program.parseAsync(process.argv);
  await finished;
} catch (err) {
  process.exitCode = usageExit(err, json);
}
