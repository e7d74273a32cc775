/**
 * The `gatehouse` command tree. Each top-level command's module is loaded only when that command
 * runs (or when the whole tree is needed: top-level help, an unknown command), and each action
 * loads its implementation when it runs: a command pays only for what it uses.
 */
import { Command, Option } from "commander";
import { GATEHOUSE_VERSION } from "../version.js";
import type { CallOptions } from "./commands/call.js";
import type { RunCommand } from "./commands/client-flags.js";
import { withClientOptions } from "./commands/client-flags.js";
import type { GatewayRunOptions } from "./commands/gateway-run.js";
import type { RenameOptions, RoleOptions } from "./commands/devices.js";
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

const devicesImpl = () => import("./commands/devices.js");

/** `gatehouse gateway run`. */
function registerGatewayRun(program: Command, run: RunCommand): void {
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
    .action((opts: GatewayRunOptions) =>
      run(async () => (await import("./commands/gateway-run.js")).gatewayRun(opts), false),
    );
}

/** `gatehouse call`. */
function registerCall(program: Command, run: RunCommand): void {
  withClientOptions(
    program
      .command("call")
      .description("call one gateway method and print its result")
      .argument("[method]", "method name, e.g. status (gatehouse call --list shows them)")
      .option("--params <json>", "method params as JSON")
      .option("--list", "list the built-in methods with the scope each needs"),
  ).action((method: string | undefined, opts: CallOptions) =>
    run(
      async () => (await import("./commands/call.js")).call(method, opts, createReporter(!!opts.json)),
      !!opts.json,
    ),
  );
}

/** `gatehouse health`. */
function registerHealth(program: Command, run: RunCommand): void {
  withClientOptions(
    program.command("health").description("check that the gateway is up and answering"),
  ).action((opts: CommonOptions) =>
    run(
      async () => (await import("./commands/health.js")).health(opts, createReporter(!!opts.json)),
      !!opts.json,
    ),
  );
}

/** `gatehouse devices …`. */
function registerDevices(program: Command, run: RunCommand): void {
  const devices = program
    .command("devices")
    .description(
      "list, approve and manage paired devices (works on the store directly when the local gateway is stopped)",
    );
  withClientOptions(
    devices.command("list").description("pending pairing requests and paired devices"),
  ).action((opts: CommonOptions) =>
    run(async () => (await devicesImpl()).devicesList(opts, createReporter(!!opts.json)), !!opts.json),
  );
  withClientOptions(
    devices
      .command("approve")
      .description("approve one exact pending request (there is no implicit latest)")
      .argument("[requestId]", "the request to approve, as shown by devices list"),
  ).action((requestId: string | undefined, opts: CommonOptions) =>
    run(
      async () => (await devicesImpl()).devicesApprove(requestId, opts, createReporter(!!opts.json)),
      !!opts.json,
    ),
  );
  withClientOptions(
    devices
      .command("reject")
      .description("reject one pending request")
      .argument("<requestId>", "the request to reject"),
  ).action((requestId: string, opts: CommonOptions) =>
    run(
      async () => (await devicesImpl()).devicesReject(requestId, opts, createReporter(!!opts.json)),
      !!opts.json,
    ),
  );
  withClientOptions(
    devices
      .command("pending")
      .description("pending pairing requests only: who asks, from where (a browser's page too), for what"),
  ).action((opts: CommonOptions) =>
    run(async () => (await devicesImpl()).devicesPending(opts, createReporter(!!opts.json)), !!opts.json),
  );
  withClientOptions(
    devices
      .command("remove")
      .description("unpair a device: its tokens stop working and its sessions close")
      .argument("<deviceId>", "device id or a unique prefix of at least 8 characters"),
  ).action((deviceId: string, opts: CommonOptions) =>
    run(
      async () => (await devicesImpl()).devicesRemove(deviceId, opts, createReporter(!!opts.json)),
      !!opts.json,
    ),
  );
  withClientOptions(
    devices
      .command("rename")
      .description("set a device's label")
      .argument("[deviceId]", "device id or a unique prefix of at least 8 characters")
      .addOption(deviceAlias())
      .option("--name <label>", "the new label (1 to 64 characters)"),
  ).action((id: string | undefined, opts: RenameOptions) =>
    run(() => {
      // A bad pair of device names is a usage error, reported before anything loads.
      const o = withDevice(id, opts);
      return devicesImpl().then((m) => m.devicesRename(o, createReporter(!!opts.json)));
    }, !!opts.json),
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
    run(() => {
      // A bad pair of device names is a usage error, reported before anything loads.
      const o = withDevice(id, opts);
      return devicesImpl().then((m) => m.devicesRotate(o, createReporter(!!opts.json)));
    }, !!opts.json),
  );
  withClientOptions(
    devices
      .command("revoke")
      .description("revoke a device's token for a role; its sessions for that role close")
      .argument("[deviceId]", "device id or a unique prefix of at least 8 characters")
      .addOption(deviceAlias())
      .option("--role <role>", "operator or node (default: the device's only role)"),
  ).action((id: string | undefined, opts: RoleOptions) =>
    run(() => {
      // A bad pair of device names is a usage error, reported before anything loads.
      const o = withDevice(id, opts);
      return devicesImpl().then((m) => m.devicesRevoke(o, createReporter(!!opts.json)));
    }, !!opts.json),
  );
}

type Register = (program: Command, run: RunCommand) => void;

/**
 * Every top-level command in the order help lists them: the names a module adds, and how to load
 * the function that adds them. `gateway` is added to by three modules.
 */
const GROUPS: ReadonlyArray<{ names: readonly string[]; load: () => Promise<Register> }> = [
  { names: ["gateway"], load: () => Promise.resolve(registerGatewayRun) },
  { names: ["call"], load: () => Promise.resolve(registerCall) },
  { names: ["health"], load: () => Promise.resolve(registerHealth) },
  { names: ["devices"], load: () => Promise.resolve(registerDevices) },
  {
    names: ["gateway"],
    load: async () => (await import("./commands/gateway-lifecycle-commands.js")).registerGatewayLifecycle,
  },
  { names: ["gateway"], load: async () => (await import("./commands/gateway-logs.js")).registerGatewayLogs },
  { names: ["status"], load: async () => (await import("./commands/status.js")).registerStatus },
  { names: ["dashboard"], load: async () => (await import("./commands/dashboard.js")).registerDashboard },
  { names: ["config"], load: async () => (await import("./commands/config.js")).registerConfigCommands },
  { names: ["audit"], load: async () => (await import("./commands/audit.js")).registerAudit },
  { names: ["explain"], load: async () => (await import("./commands/explain.js")).registerExplain },
  { names: ["doctor"], load: async () => (await import("./commands/doctor.js")).registerDoctor },
  { names: ["import"], load: async () => (await import("./commands/import.js")).registerImport },
  {
    names: ["sessions"],
    load: async () => (await import("./commands/sessions.js")).registerSessionsCommands,
  },
  { names: ["cron"], load: async () => (await import("./commands/cron.js")).registerCronCommands },
  { names: ["node", "nodes"], load: async () => (await import("./commands/node.js")).registerNodeCommands },
  { names: ["pair", "connect"], load: async () => (await import("./commands/pair.js")).registerPairCommands },
];

/** The top-level command names, in help order. */
export const TOP_LEVEL_COMMANDS: readonly string[] = [...new Set(GROUPS.flatMap((g) => g.names))];

/**
 * Which top-level commands `argv` (without node and script) needs: only the one it names, none for
 * a lone `--version`, and all of them otherwise (top-level help, `help`, an unknown command's
 * did-you-mean).
 */
export function commandsNeeded(argv: readonly string[]): "all" | readonly string[] {
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) return [];
  const first = argv[0];
  return first !== undefined && TOP_LEVEL_COMMANDS.includes(first) ? [first] : "all";
}

/**
 * Builds the program; `run` receives each command's exit status. With `only`, just those top-level
 * commands are added (the rest of the tree is neither loaded nor built).
 */
export async function buildProgram(
  run: RunCommand,
  only: "all" | readonly string[] = "all",
): Promise<Command> {
  const program = new Command("gatehouse")
    .description("Gateway control plane that gets device pairing right (OpenClaw gateway protocol 4)")
    .version(GATEHOUSE_VERSION, "-V, --version");
  const groups = GROUPS.filter((g) => only === "all" || g.names.some((n) => only.includes(n)));
  const registers = await Promise.all(groups.map((g) => g.load()));
  for (const register of registers) register(program, run);
  addHelpSections(program);

  return program;
}
