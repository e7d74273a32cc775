#!/usr/bin/env node
/**
 * Entry point of the `gatehouse` command. `gateway run` gets its start settings before anything
 * else loads (lifecycle/start-settings.ts: loading the CLI's own modules already makes Node's
 * module loader hot); then the CLI parses, runs, reports and exits (cli.ts).
 */
const [command, subcommand] = process.argv.slice(2);
if (command === "gateway" && subcommand === "run") {
  (await import("./lifecycle/start-settings.js")).applyStartingSettings();
}
await import("./cli.js");
