/**
 * `gatehouse node run` (a node host, as a service) and `gatehouse nodes list|invoke` (the operator
 * side). The node host signs with the state dir's identity: on the gateway host that is the owner
 * key and it needs no pairing; elsewhere it pairs once and then keeps working with its device token.
 */
import { constants as osConstants } from "node:os";
import type { Command } from "commander";
import { invokeAsk, methodsAsk } from "../../policy/client-asks.js";
import { NodeHost } from "../../runtime/node-host.js";
import { DEFAULT_NODE_INVOKE_TIMEOUT_MS, type NodeSummary } from "../../protocol/nodes.js";
import type { SystemRunResult } from "../../runtime/node-host-commands.js";
import { GatewayClient } from "../../client/index.js";
import { formatFingerprint } from "../../protocol/setup-code.js";
import {
  confirmTrust,
  connectCli,
  loadCliDevice,
  pinFor,
  resolveTarget,
  type CommonOptions,
} from "../connect.js";
import { parsePairFlag, pairTarget, rememberLinkPin } from "./pair.js";
import { ago, shortId } from "../devices/format.js";
import { approveCommand, CliError, createReporter, EXIT, listOrNone, type Reporter } from "../output.js";
import { parseParams } from "./call.js";
import { nodesApproveCommand, registerNodePairingCommands } from "./nodes-pairing.js";
import { MIN_PREFIX } from "./devices.js";
import {
  table,
  CONNECTION_NOTE,
  connectionOptions,
  timeLimit,
  withClientOptions,
  withTimeLimit,
  type RunCommand,
} from "./client-flags.js";

export interface NodeRunOptions {
  url?: string;
  token?: string;
  password?: string;
  stateDir?: string;
  allowInsecure?: boolean;
  displayName?: string;
  /** `--pair <code|link>`: a `node` setup code for the first contact. */
  pair?: string;
  tlsFingerprint?: string;
  trustFingerprint?: boolean;
}

export interface NodesInvokeOptions extends CommonOptions {
  params?: string;
  timeLimit?: string;
  /** `--invoke-timeout`, the old name of `--time-limit`. */
  invokeTimeout?: string;
}

/** How long `nodes invoke` waits beyond the node's deadline for the gateway's answer. */
const ANSWER_MARGIN_MS = 2_000;

/**
 * Runs a node host until SIGINT/SIGTERM, printing one line per state change: the
 * connection, the pending approval (with the command that approves it), drops and invocations.
 */
export async function nodeRun(
  opts: NodeRunOptions,
  print: (line: string) => void = (line) => process.stdout.write(line + "\n"),
): Promise<number> {
  const link = opts.pair !== undefined ? parsePairFlag(opts.pair) : null;
  if (link?.profile && link.profile !== "node") {
    throw new CliError(
      "INVALID_FLAG",
      `this is a setup code for an operator (${link.profile}); use it with: gatehouse connect --pair <code|link>`,
      EXIT.usage,
    );
  }
  const target = link ? pairTarget(opts, link) : resolveTarget(opts);
  const device = loadCliDevice(opts.stateDir);
  let { pin, source } = pinFor(target, device);
  if (!pin && target.url.toLowerCase().startsWith("wss:")) {
    // No pin yet: look at the certificate first, and trust it only if the user says so.
    const presented = await presentedFingerprint(target.url, opts.allowInsecure === true);
    if (presented && (opts.trustFingerprint === true || (await confirmTrust(target.url, presented, false)))) {
      pin = presented;
      source = "presented";
    }
  }
  const host = new NodeHost({
    url: target.url,
    auth: {
      token: target.token,
      password: target.password,
      ...(link ? { bootstrapToken: link.code } : {}),
    },
    identity: device.identity,
    tokenStore: device.tokenStore,
    allowInsecure: opts.allowInsecure === true,
    ...(pin ? { tlsFingerprint: pin } : {}),
    ...(opts.displayName ? { displayName: opts.displayName } : {}),
  });
  print(`node host ${host.nodeId} for ${target.url} (commands: ${listOrNone(host.commands)})`);
  if (link)
    print(`pairing with a setup code (${link.profile ?? "profile not given"}): approved once it is accepted`);
  let pinSaved = false;
  const savePin = () => {
    if (pinSaved || !pin) return;
    pinSaved = true;
    if (link && source === "flag" && link.fingerprint === pin && !opts.tlsFingerprint) {
      rememberLinkPin(device, target.url, link, opts, print);
    } else if (
      (source === "presented" || (source === "flag" && opts.trustFingerprint)) &&
      device.knownGateways.get(target.url) !== pin
    ) {
      device.knownGateways.set(target.url, pin);
      print(
        `pinned the certificate of ${target.url} (sha256 ${formatFingerprint(pin)}) in ${device.knownGateways.path}`,
      );
    }
  };
  let lastNote = "";
  const note = (line: string) => {
    if (line !== lastNote) print(line);
    lastNote = line;
  };
  host.on("connected", (hello) => {
    lastNote = "";
    savePin();
    print(`connected to ${target.url} as node ${host.nodeId} (auth: ${hello.auth.method ?? "unknown"})`);
  });
  host.on("surface", (s) => {
    if (!s.pending) return;
    const { requestId, waiting, execCommands, requiredApproveScopes } = s.pending;
    const what = s.approved === null ? "its command surface" : "a wider command surface";
    print(
      `exposing ${listOrNone(s.exposed)}; ${what} waits for approval (request ${requestId}): ` +
        `${listOrNone(waiting)}${execCommands.length > 0 ? ` (exec-capable: ${listOrNone(execCommands)})` : ""}`,
    );
    print(
      `  on the gateway host run: ${nodesApproveCommand(requestId)} (needs ${requiredApproveScopes.join(" + ")})`,
    );
  });
  host.on("surfaceResolved", (r) => {
    print(
      r.decision === "approved"
        ? `surface request ${r.requestId} approved: exposing ${listOrNone(r.exposed)} now (no reconnect needed)`
        : `surface request ${r.requestId} rejected: still exposing ${listOrNone(r.exposed)}; not approved: ${listOrNone(r.notApproved)}`,
    );
  });
  let announced: string | undefined;
  host.on("pending", (p) => {
    if (p.requestId && p.requestId !== announced && p.requestedRole) {
      announced = p.requestId;
      print(
        `request ${p.requestId} asks for role ${p.requestedRole}, scopes ${listOrNone(p.requestedScopes)} (from ${target.url})`,
      );
    }
    note(
      p.requestId
        ? `waiting for approval of request ${p.requestId}; on the gateway host run: ${approveCommand(p.requestId)} (retrying every ${Math.round(p.retryInMs / 1000)}s)`
        : `waiting for approval: ${p.message} (retrying every ${Math.round(p.retryInMs / 1000)}s)`,
    );
  });
  host.on("disconnected", (c) =>
    print(`disconnected (${c.code}${c.reason ? ` ${c.reason}` : ""}); reconnecting`),
  );
  host.on("retrying", (r) => note(`cannot connect: ${r.error.message}; retrying`));
  host.on("invoked", (i) =>
    print(`${i.command} ${i.ok ? "ok" : `failed: ${i.error?.code} ${i.error?.message}`} (${i.invokeId})`),
  );

  const onSignal = () => void host.stop();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await host.run();
    print("node host stopped");
    return EXIT.ok;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

interface NodeListPayload {
  ts: number;
  nodes: NodeSummary[];
}

/** `gatehouse nodes list`: the connected nodes. */
export async function nodesList(opts: CommonOptions, out: Reporter): Promise<number> {
  const { client } = await connectCli(opts, methodsAsk(["node.list"]).scopes);
  try {
    const list = await client.request<NodeListPayload>("node.list", {});
    out.result(list, () => formatNodes(list));
    return EXIT.ok;
  } finally {
    await client.close();
  }
}

function formatNodes(list: NodeListPayload): string {
  if (list.nodes.length === 0) return "no nodes connected (start one with: gatehouse node run)";
  const waiting = list.nodes.filter((n) => n.surfaceRequestId);
  return [
    table([
      ["NODE", "NAME", "PLATFORM", "CONNECTED", "COMMANDS"],
      ...list.nodes.map((n) => [
        shortId(n.nodeId),
        n.displayName ?? "-",
        n.platform,
        ago(n.connectedAtMs, list.ts),
        commandsCell(n),
      ]),
    ]),
    // Declared but not approved: the exact command that would expose them.
    ...waiting.map(
      (n) =>
        `${shortId(n.nodeId)} waits for approval of a wider surface: ${nodesApproveCommand(n.surfaceRequestId!)}`,
    ),
  ].join("\n");
}

/** What a node exposes, and what it declares beyond that (not invocable until approved). */
function commandsCell(n: NodeSummary): string {
  const unapproved = (n.declaredCommands ?? []).filter((c) => !n.commands.includes(c));
  const exposed = listOrNone(n.commands);
  return unapproved.length > 0 ? `${exposed} (not approved: ${unapproved.join(", ")})` : exposed;
}

/**
 * `gatehouse nodes invoke <nodeId> <command>`: asks only for the scope the command needs (admin for
 * system.run and the like, write otherwise), accepts a unique node-id prefix, prints the answer.
 */
export async function nodesInvoke(
  nodeId: string,
  command: string,
  argv: readonly string[],
  opts: NodesInvokeOptions,
  out: Reporter,
): Promise<number> {
  const params = invokeParams(command, argv, opts.params);
  const timeoutMs = timeLimit(opts, "--invoke-timeout", opts.invokeTimeout) ?? DEFAULT_NODE_INVOKE_TIMEOUT_MS;
  const { client } = await connectCli(opts, invokeAsk(command).scopes);
  try {
    const id = await resolveNodeId(nodeId, () => client.request<NodeListPayload>("node.list", {}));
    const answer = await client.request<{ payload?: unknown }>(
      "node.invoke",
      { nodeId: id, command, ...(params !== undefined ? { params } : {}), timeoutMs },
      { timeoutMs: timeoutMs + ANSWER_MARGIN_MS },
    );
    const run = command === "system.run" ? runResult(answer.payload) : null;
    if (run && !out.json) {
      // What the command printed, as it printed it; its exit status becomes ours.
      process.stdout.write(run.stdout);
      process.stderr.write(run.stderr);
      if (run.stdoutTruncated || run.stderrTruncated) out.info("(output truncated by the node)");
      if (run.timedOut) out.info(`(killed: it ran longer than ${timeoutMs} ms)`);
      else if (run.signal) out.info(`(killed by ${run.signal})`);
      return remoteExit(run);
    }
    out.result(answer, () => JSON.stringify(answer.payload ?? null, null, 2));
    return run ? remoteExit(run) : EXIT.ok;
  } finally {
    await client.close();
  }
}

/** `system.run`'s answer, when the node answered in that shape. */
function runResult(payload: unknown): SystemRunResult | null {
  if (payload === null || typeof payload !== "object") return null;
  const r = payload as Partial<SystemRunResult>;
  return typeof r.stdout === "string" && typeof r.stderr === "string" ? (r as SystemRunResult) : null;
}

/** The remote command's exit status; 128+n for a signal like a shell does, 124 for a time-out like timeout(1). */
function remoteExit(run: SystemRunResult): number {
  if (run.timedOut) return 124;
  if (typeof run.exitCode === "number") return run.exitCode;
  const signal = run.signal ? osConstants.signals[run.signal as NodeJS.Signals] : undefined;
  return signal !== undefined ? 128 + signal : EXIT.failed;
}

/** `--params`, or for system.run the program and arguments after `--`, not both. */
function invokeParams(command: string, argv: readonly string[], paramsFlag: string | undefined): unknown {
  if (argv.length === 0) return parseParams(paramsFlag);
  if (command !== "system.run") {
    throw new CliError(
      "TOO_MANY_ARGUMENTS",
      `nodes invoke: only system.run takes a command after -- (for ${command}, use --params)`,
      EXIT.usage,
    );
  }
  if (paramsFlag !== undefined) {
    throw new CliError(
      "INVALID_FLAG",
      `nodes invoke: give the command after -- or in --params, not both`,
      EXIT.usage,
    );
  }
  return { command: [...argv] };
}

/** A full node id as given, or the one connected node it is a unique prefix of. */
async function resolveNodeId(given: string, list: () => Promise<NodeListPayload>): Promise<string> {
  const id = given.trim().toLowerCase();
  if (id.length >= 64 || id.length < MIN_PREFIX) return given.trim();
  const matches = (await list()).nodes.filter((n) => n.nodeId.startsWith(id));
  if (matches.length === 1) return matches[0]!.nodeId;
  if (matches.length === 0) return given.trim();
  throw new CliError(
    "AMBIGUOUS_NODE_ID",
    `${given} matches ${matches.length} nodes; give more characters`,
    EXIT.usage,
    undefined,
    { lines: matches.map((n) => `  ${n.nodeId}  ${n.displayName ?? ""}`) },
  );
}

/** The certificate a wss:// gateway presents, without sending anything; null when it cannot be read. */
async function presentedFingerprint(url: string, allowInsecure: boolean): Promise<string | null> {
  // A probe client pinned to an impossible value: the refusal carries what was presented.
  const probe = new GatewayClient({
    url,
    tlsFingerprint: "0".repeat(64),
    allowInsecure,
    connectTimeoutMs: 5000,
  });
  try {
    await probe.connect();
    return null;
  } catch (err) {
    const d = (err as { details?: Record<string, unknown> }).details;
    return typeof d?.presentedFingerprint === "string" ? d.presentedFingerprint : null;
  } finally {
    await probe.close();
  }
}

/** Adds `gatehouse node run` and `gatehouse nodes list|invoke`. */
export function registerNodeCommands(program: Command, run: RunCommand): void {
  const node = program.command("node").description("run this machine as a node host");
  const nodeRunCmd = node.command("run");
  nodeRunCmd
    .description(
      "connect as a node host and run the commands the gateway invokes (system.run, system.which) until stopped",
    )
    .option(
      "--pair <code|link>",
      "pair with a node setup code (or its gatehouse://pair?… link) from gatehouse pair code --profile node",
    )
    .option("--display-name <name>", "how the node shows up in nodes list (default: the host name)")
    .addHelpText("after", CONNECTION_NOTE.replace(", --timeout", "").replace(", --wait", ""))
    .action((opts: NodeRunOptions) => run(() => nodeRun(opts), false));
  // The node host connects like any client, but waits for approval by itself and has no timeout.
  for (const option of connectionOptions()) {
    if (option.long !== "--timeout" && option.long !== "--wait") nodeRunCmd.addOption(option.hideHelp());
  }

  const nodes = program
    .command("nodes")
    .description("list connected nodes, approve their command surfaces and invoke their commands");
  withClientOptions(nodes.command("list").description("the connected node hosts and what they offer")).action(
    (opts: CommonOptions) => run(() => nodesList(opts, createReporter(!!opts.json)), !!opts.json),
  );
  const invoke = withClientOptions(
    nodes
      .command("invoke")
      .description(
        "run one command on a node (system.run needs operator.admin); system.run prints the command's output and exits with its status",
      )
      .argument("<nodeId>", "node id, or a unique prefix of at least 8 characters")
      .argument("<command>", "e.g. system.which or system.run")
      .argument("[argv...]", "for system.run: the program and its arguments, after --")
      .option("--params <json>", 'command params as JSON, e.g. \'{"command":["uname","-a"]}\''),
  );
  withTimeLimit(
    invoke,
    `how long the node may take (default ${DEFAULT_NODE_INVOKE_TIMEOUT_MS / 1000}s)`,
    "--invoke-timeout",
  ).action((nodeId: string, command: string, argv: string[], opts: NodesInvokeOptions) =>
    run(() => nodesInvoke(nodeId, command, argv, opts, createReporter(!!opts.json)), !!opts.json),
  );
  registerNodePairingCommands(nodes, run);
}
