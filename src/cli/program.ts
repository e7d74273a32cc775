/** The `gatehouse` command tree. */
import { Command, Option } from "commander";
import { GATEHOUSE_VERSION } from "../version.js";
import { call, type CallOptions } from "./commands/call.js";
import { gatewayRun, type GatewayRunOptions } from "./commands/gateway-run.js";
import { health } from "./commands/health.js";
import type { CommonOptions } from "./connect.js";
import { createReporter } from "./output.js";

/** Adds the flags shared by every command that talks to a gateway. */
function withClientOptions(cmd: Command): Command {
  return cmd
    .option("--url <url>", "gateway URL (default: GATEHOUSE_GATEWAY_URL, else the local gateway)")
    .option(
      "--token <token>",
      "shared gateway token (default: GATEHOUSE_GATEWAY_TOKEN, else the local config)",
    )
    .option("--password <password>", "shared gateway password (default: GATEHOUSE_GATEWAY_PASSWORD)")
    .option("--timeout <ms>", "connect and request timeout in milliseconds", "10000")
    .option("--state-dir <dir>", "state directory (default: GATEHOUSE_STATE_DIR, else ~/.gatehouse)")
    .option("--allow-insecure", "allow ws:// to a non-loopback address (secrets travel in the clear)")
    .option("--json", "print machine-readable JSON");
}

/** Builds the program; `run` receives each command's exit status. */
export function buildProgram(run: (work: () => Promise<number>, json: boolean) => void): Command {
  const program = new Command("gatehouse")
    .description("Gateway control plane that gets device pairing right (OpenClaw gateway protocol 4)")
    .version(GATEHOUSE_VERSION, "-V, --version")
    .showHelpAfterError("(run with --help for usage)");

  const gateway = program.command("gateway").description("run and manage the gateway");
  gateway
    .command("run")
    .description("run the gateway in the foreground, logging one line per connection decision")
    .option("--port <port>", "port to listen on (default: GATEHOUSE_PORT, config, 18789)")
    .addOption(
      new Option("--bind <mode>", "which addresses to listen on").choices(["loopback", "lan", "custom"]),
    )
    .option("--host <addr>", "address to listen on (implies --bind custom)")
    .addOption(new Option("--auth <mode>", "how clients authenticate").choices(["token", "password", "none"]))
    .option("--token <token>", "shared token (default: GATEHOUSE_GATEWAY_TOKEN, config, or generated)")
    .option("--password <password>", "shared password (default: GATEHOUSE_GATEWAY_PASSWORD, config)")
    .option("--state-dir <dir>", "state directory (default: GATEHOUSE_STATE_DIR, else ~/.gatehouse)")
    .addOption(
      new Option("--log-format <format>", "log line format").choices(["text", "json"]).default("text"),
    )
    .action((opts: GatewayRunOptions) => run(() => gatewayRun(opts), false));

  withClientOptions(
    program
      .command("call")
      .description("call one gateway method and print its result")
      .argument("<method>", "method name, e.g. status")
      .option("--params <json>", "method params as JSON"),
  ).action((method: string, opts: CallOptions) =>
    run(() => call(method, opts, createReporter(!!opts.json)), !!opts.json),
  );

  withClientOptions(
    program.command("health").description("check that the gateway is up and answering"),
  ).action((opts: CommonOptions) => run(() => health(opts, createReporter(!!opts.json)), !!opts.json));

  return program;
}
