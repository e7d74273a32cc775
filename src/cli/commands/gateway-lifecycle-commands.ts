/**
 * `gatehouse gateway start|stop|restart|status|install`: the flags and help. The work is in
 * gateway-lifecycle.ts, loaded when one of them runs (not when the gateway itself runs).
 */
import { Option, type Command } from "commander";
import type { RunCommand } from "./client-flags.js";
import { ENABLE_COMMAND } from "../lifecycle/systemd.js";
import { createReporter, type Reporter } from "../output.js";
import {
  DEFAULT_START_TIMEOUT_MS,
  DEFAULT_STOP_TIMEOUT_MS,
  type InstallOptions,
  type LifecycleOptions,
} from "./gateway-lifecycle-options.js";

const impl = () => import("./gateway-lifecycle.js");

/** The `gateway run` flags, for `start` and `restart`. */
function withRunFlags(cmd: Command): Command {
  return cmd
    .option("--port <port>", "port to listen on (default: GATEHOUSE_PORT, config, 18789)")
    .addOption(
      new Option("--bind <mode>", "which addresses to listen on").choices(["loopback", "lan", "custom"]),
    )
    .option("--host <addr>", "address to listen on (implies --bind custom)")
    .addOption(new Option("--auth <mode>", "how clients authenticate").choices(["token", "password", "none"]))
    .option(
      "--token <token>",
      "shared token, passed to the gateway through its environment (never its command line) and not recorded",
    )
    .option("--password <password>", "shared password, passed like --token")
    .addOption(new Option("--log-format <format>", "log line format").choices(["text", "json"]))
    .option("--state-dir <dir>", "state directory (default: GATEHOUSE_STATE_DIR, else ~/.gatehouse)")
    .option("--json", "print machine-readable JSON");
}

function reporterFor(opts: { json?: boolean }): Reporter {
  return createReporter(!!opts.json);
}

/** Adds `start`, `stop`, `restart`, `status` and `install` under `gatehouse gateway`. */
export function registerGatewayLifecycle(program: Command, run: RunCommand): void {
  const gateway =
    program.commands.find((c) => c.name() === "gateway") ??
    program.command("gateway").description("run and manage the gateway");

  withRunFlags(
    gateway
      .command("start")
      .description(
        "start the gateway in the background (pid file <state>/gateway.pid, log <state>/logs/gateway.log) and wait until it accepts connections",
      ),
  )
    .option("--timeout <ms>", "how long to wait for it to answer", String(DEFAULT_START_TIMEOUT_MS))
    .addHelpText(
      "after",
      "\nIf a gateway already runs for this state dir, says so and exits 0 without starting another.\n" +
        "A stale pid file (dead pid, or a pid that is not a gatehouse gateway) is ignored and replaced.\n" +
        "If the gateway exits or does not answer in time, the last lines of its log are printed and the exit status is 1.",
    )
    .action((opts: LifecycleOptions) =>
      run(async () => (await impl()).gatewayStart(opts, reporterFor(opts)), !!opts.json),
    );

  gateway
    .command("stop")
    .description(
      "stop the gateway: SIGTERM (clients get `shutdown` and close 1012), SIGKILL after the timeout",
    )
    .option(
      "--timeout <ms>",
      "how long to wait after SIGTERM before SIGKILL",
      String(DEFAULT_STOP_TIMEOUT_MS),
    )
    .option("--state-dir <dir>", "state directory (default: GATEHOUSE_STATE_DIR, else ~/.gatehouse)")
    .option("--json", "print machine-readable JSON")
    .addHelpText(
      "after",
      "\nStops the gateway of this state dir however it was started. Not running: says so, exit 0.\n" +
        "A process is only signalled after its command line shows it is `gatehouse gateway run` for this state dir.",
    )
    .action((opts: LifecycleOptions) =>
      run(async () => (await impl()).gatewayStop(opts, reporterFor(opts)), !!opts.json),
    );

  withRunFlags(
    gateway
      .command("restart")
      .description("stop the gateway, then start it in the background with the flags it was started with"),
  )
    .option(
      "--timeout <ms>",
      "how long to wait after SIGTERM before SIGKILL",
      String(DEFAULT_STOP_TIMEOUT_MS),
    )
    .addHelpText(
      "after",
      "\nWithout gateway run flags, reuses those recorded in <state>/gateway.pid; with any, uses only the ones given.\n" +
        "A --token/--password given to the previous start is not recorded: give it again (or set the env variable).",
    )
    .action((opts: LifecycleOptions) =>
      run(async () => (await impl()).gatewayRestart(opts, reporterFor(opts)), !!opts.json),
    );

  gateway
    .command("status")
    .description("is the gateway running: pid, uptime, URL, bind, auth mode, connected clients by role")
    .option("--timeout <ms>", "connect and request timeout in milliseconds", "10000")
    .option("--state-dir <dir>", "state directory (default: GATEHOUSE_STATE_DIR, else ~/.gatehouse)")
    .option("--json", "print machine-readable JSON")
    .addHelpText(
      "after",
      "\nExit status: 0 running, 3 not running (like `systemctl is-active`), 1 running but not answering, 2 bad usage.",
    )
    .action((opts: LifecycleOptions) =>
      run(async () => (await impl()).gatewayStatus(opts, reporterFor(opts)), !!opts.json),
    );

  gateway
    .command("install")
    .description(
      "write a systemd user unit (~/.config/systemd/user/gatehouse.service) that runs the gateway; no secret goes into it",
    )
    .option("--user", "install for the current user (the default, and the only mode)")
    .option("--print", "print the unit instead of writing it")
    .option(
      "--state-dir <dir>",
      "state directory the service uses (default: GATEHOUSE_STATE_DIR, else ~/.gatehouse)",
    )
    .option("--json", "print machine-readable JSON")
    .addHelpText(
      "after",
      `\nThen: ${ENABLE_COMMAND}\n` +
        "The token stays in <state>/gatehouse.json (mode 0600), which the gateway reads when it starts.",
    )
    .action((opts: InstallOptions) =>
      run(async () => (await impl()).gatewayInstall(opts, reporterFor(opts)), !!opts.json),
    );
}
