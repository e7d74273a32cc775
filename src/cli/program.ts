/** The `gatehouse` command tree. */
import { Command, Option } from "commander";
import { GATEHOUSE_VERSION } from "../version.js";
import { call, type CallOptions } from "./commands/call.js";
import { gatewayRun, type GatewayRunOptions } from "./commands/gateway-run.js";
import {
  devicesApprove,
  devicesList,
  devicesReject,
  devicesRemove,
  devicesRename,
  devicesRevoke,
  devicesRotate,
  type RenameOptions,
  type RoleOptions,
} from "./commands/devices.js";
import { health } from "./commands/health.js";
import { registerGatewayLifecycle } from "./commands/gateway-lifecycle.js";
import { registerGatewayLogs } from "./commands/gateway-logs.js";
import { registerStatus } from "./commands/status.js";
import { registerDashboard } from "./commands/dashboard.js";
import { registerConfigCommands } from "./commands/config.js";
import { registerAudit } from "./commands/audit.js";
import { registerDoctor } from "./commands/doctor.js";
import { registerExplain } from "./commands/explain.js";
import { registerImport } from "./commands/import.js";
import { withClientOptions } from "./commands/client-flags.js";
import { registerCronCommands } from "./commands/cron.js";
import { registerNodeCommands } from "./commands/node.js";
import { registerPairCommands } from "./commands/pair.js";
import { registerSessionsCommands } from "./commands/sessions.js";
import type { CommonOptions } from "./connect.js";
import { addHelpSections } from "./help.js";
import { CliError, createReporter, EXIT } from "./output.js";

/** Collects a repeatable flag (`--scope a --scope b`). */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `--device <id>`: the old spelling of the device argument, still accepted, no longer shown. */
function deviceAlias(): Option {
  return new Option("--device <id>", "old spelling of the deviceId argument").hideHelp();
}

/** The device named by the argument or by `--device`; both at once must agree. */
function withDevice<T extends { device?: string }>(id: string | undefined, opts: T): T {
  if (id !== undefined && opts.device !== undefined && id !== opts.device) {
    throw new CliError("INVALID_FLAG", `two devices given: ${id} and --device ${opts.device}`, EXIT.usage);
  }
  return { ...opts, device: id ?? opts.device };
}

/** Builds the program; `run` receives each command's exit status. */
export function buildProgram(run: (work: () => Promise<number>, json: boolean) => void): Command {
  const program = new Command("gatehouse")
    .description("Gateway control plane that gets device pairing right (OpenClaw gateway protocol 4)")
    .version(GATEHOUSE_VERSION, "-V, --version");

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
      .argument("[method]", "method name, e.g. status (gatehouse call --list shows them)")
      .option("--params <json>", "method params as JSON")
      .option("--list", "list the built-in methods with the scope each needs"),
  ).action((method: string | undefined, opts: CallOptions) =>
    run(() => call(method, opts, createReporter(!!opts.json)), !!opts.json),
  );

  withClientOptions(
    program.command("health").description("check that the gateway is up and answering"),
  ).action((opts: CommonOptions) => run(() => health(opts, createReporter(!!opts.json)), !!opts.json));

  const devices = program
    .command("devices")
    .description(
      "list, approve and manage paired devices (works on the store directly when the local gateway is stopped)",
    );
  withClientOptions(
    devices.command("list").description("pending pairing requests and paired devices"),
  ).action((opts: CommonOptions) => run(() => devicesList(opts, createReporter(!!opts.json)), !!opts.json));
  withClientOptions(
    devices
      .command("approve")
      .description("approve one exact pending request (there is no implicit latest)")
      .argument("[requestId]", "the request to approve, as shown by devices list"),
  ).action((requestId: string | undefined, opts: CommonOptions) =>
    run(() => devicesApprove(requestId, opts, createReporter(!!opts.json)), !!opts.json),
  );
  withClientOptions(
    devices
      .command("reject")
      .description("reject one pending request")
      .argument("<requestId>", "the request to reject"),
  ).action((requestId: string, opts: CommonOptions) =>
    run(() => devicesReject(requestId, opts, createReporter(!!opts.json)), !!opts.json),
  );
  withClientOptions(
    devices
      .command("remove")
      .description("unpair a device: its tokens stop working and its sessions close")
      .argument("<deviceId>", "device id or a unique prefix of at least 8 characters"),
  ).action((deviceId: string, opts: CommonOptions) =>
    run(() => devicesRemove(deviceId, opts, createReporter(!!opts.json)), !!opts.json),
  );
  withClientOptions(
    devices
      .command("rename")
      .description("set a device's label")
      .argument("[deviceId]", "device id or a unique prefix of at least 8 characters")
      .addOption(deviceAlias())
      .option("--name <label>", "the new label (1 to 64 characters)"),
  ).action((id: string | undefined, opts: RenameOptions) =>
    run(() => devicesRename(withDevice(id, opts), createReporter(!!opts.json)), !!opts.json),
  );
  withClientOptions(
    devices
      .command("rotate")
      .description("issue a new device token for a role; the old one stops working")
      .argument("[deviceId]", "device id or a unique prefix of at least 8 characters")
      .addOption(deviceAlias())
      .option("--role <role>", "operator or node")
      .option("--scope <scope>", "scope of the new token (repeatable; default: the current ones)", collect),
  ).action((id: string | undefined, opts: RoleOptions) =>
    run(() => devicesRotate(withDevice(id, opts), createReporter(!!opts.json)), !!opts.json),
  );
  withClientOptions(
    devices
      .command("revoke")
      .description("revoke a device's token for a role; its sessions for that role close")
      .argument("[deviceId]", "device id or a unique prefix of at least 8 characters")
      .addOption(deviceAlias())
      .option("--role <role>", "operator or node (default: the device's only role)"),
  ).action((id: string | undefined, opts: RoleOptions) =>
    run(() => devicesRevoke(withDevice(id, opts), createReporter(!!opts.json)), !!opts.json),
  );

  registerGatewayLifecycle(program, run);
  registerGatewayLogs(program, run);
  registerStatus(program, run);
  registerDashboard(program, run);
  registerConfigCommands(program, run);
  registerAudit(program, run);
  registerExplain(program, run);
  registerDoctor(program, run);
  registerImport(program, run);
  registerSessionsCommands(program, run);
  registerCronCommands(program, run);
  registerNodeCommands(program, run);
  registerPairCommands(program, run);
  addHelpSections(program);

  return program;
}
