#!/usr/bin/env node
/**
 * Entry point of the `gatehouse` command. `gateway run` gets its start settings before anything
 * else loads (lifecycle/start-settings.ts: loading the CLI's own modules already makes Node's
 * module loader hot); then the CLI parses, runs, reports and exits (cli.ts, bundled).
 */
const [command, subcommand] = process.argv.slice(2);
if (command === "gateway" && subcommand === "run") {
  (await import("./lifecycle/start-settings.js")).applyStartingSettings();
}
// The bundle of cli.js (scripts/bundle.mjs, run by every build after tsc): a few chunks instead of
// about 180 modules, so every command starts sooner and a gateway keeps less memory. tsc's modules
// when it is absent (a tree built by tsc alone).
const bundled = new URL("../bundle/cli.js", import.meta.url);
if (process.getBuiltinModule("node:fs").existsSync(bundled)) await import(bundled.href);
else await import("./cli.js");
