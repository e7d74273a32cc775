/**
 * `gatehouse nodes pending|approve|reject|remove|rename`: a node's command surface, the second
 * approval beside its device pairing (C19), and its name. Every change names one exact request or
 * node, shows the declared commands it approves, and runs with the scopes it needs: approving asks
 * for what the request says (`requiredApproveScopes`: pairing, plus write, or admin for
 * exec-capable commands).
 */
import type { Command } from "commander";
import { GatewayClientError } from "../../client/errors.js";
import { isExecCapableCommand } from "../../policy/node-surface.js";
import { GatewayError } from "../../protocol/errors.js";
import type { NodePairList, NodePairPending, PairedNode } from "../../protocol/node-pairing.js";
import { OPERATOR_SCOPES } from "../../protocol/scopes.js";
import type { CommonOptions } from "../connect.js";
import { openDevicesBackend, type DevicesBackend } from "../devices/backend.js";
import { ago, shortId } from "../devices/format.js";
import { nodeRemoveAsk, targetOf } from "../devices/management-facts.js";
import { CliError, createReporter, EXIT, listOrNone, type Reporter } from "../output.js";
import { withClientOptions, type RunCommand } from "./client-flags.js";
import { MIN_PREFIX } from "./devices.js";

export interface NodesRemoveOptions extends CommonOptions {
  node?: string;
}

export interface NodesRenameOptions extends CommonOptions {
  node?: string;
  name?: string;
}

/** A node's name is its device label: 1 to 64 characters (`node.rename`'s bound). */
const MAX_NAME = 64;

const ADMIN = OPERATOR_SCOPES.admin;

/** The exact command that approves a surface request. */
export function nodesApproveCommand(requestId: string): string {
  return `gatehouse nodes approve ${requestId}`;
}

async function withBackend(opts: CommonOptions, fn: (b: DevicesBackend) => Promise<number>): Promise<number> {
  const backend = await openDevicesBackend(opts);
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}

/** `system.run [exec], camera.snap`: exec-capable commands marked. */
function commandList(commands: readonly string[]): string {
  return listOrNone(commands.map((c) => (isExecCapableCommand(c) ? `${c} [exec]` : c)));
}

function nodeName(n: { nodeId: string; displayName?: string | undefined }): string {
  return n.displayName ? `${JSON.stringify(n.displayName)} (${shortId(n.nodeId)})` : shortId(n.nodeId);
}

/** One pending surface request: who, what it declares against what is approved, and who may approve. */
function formatRequest(r: NodePairPending, nowMs: number): string[] {
  const who = [
    nodeName(r),
    ...(r.clientId ? [`${r.clientId}/${r.clientMode ?? "?"}`] : []),
    ...(r.platform ? [r.platform] : []),
    `from ${r.remoteIp ?? "unknown address"}`,
    `asked ${ago(r.ts, nowMs)}`,
  ].join("  ");
  const approved =
    r.approvedCommands === null
      ? "nothing yet (the node exposes no command until this is approved)"
      : `${listOrNone(r.approvedCommands)}; this adds ${listOrNone(r.addedCommands)}`;
  const needs = r.requiredApproveScopes.join(" + ");
  return [
    `  ${r.requestId}`,
    `    node       ${who}`,
    `    declares   ${commandList(r.commands)}`,
    `    approved   ${approved}`,
    `    needs      ${needs}${r.requiredApproveScopes.includes(ADMIN) ? " (exec-capable commands)" : ""}`,
    `    approve    ${nodesApproveCommand(r.requestId)}`,
  ];
}

function formatPaired(n: PairedNode, nowMs: number): string[] {
  return [
    `  ${nodeName(n)}  ${n.connected ? "connected" : "not connected"}`,
    `    commands   ${commandList(n.commands)}`,
    `    approved   via ${n.approvedVia}, ${ago(n.approvedAtMs, nowMs)}`,
  ];
}

/** The whole `nodes pending` text: the requests, then the approved surfaces for context. */
export function formatNodePairList(list: NodePairList, nowMs: number): string {
  const out: string[] = [];
  if (list.pending.length === 0) out.push("Pending node surface requests: none");
  else {
    out.push(`Pending node surface requests (${list.pending.length})`);
    for (const r of list.pending) out.push(...formatRequest(r, nowMs));
  }
  out.push("");
  if (list.paired.length === 0) out.push("Approved node surfaces: none");
  else {
    out.push(`Approved node surfaces (${list.paired.length})`);
    for (const n of list.paired) out.push(...formatPaired(n, nowMs));
  }
  return out.join("\n");
}

function findRequest(list: NodePairList, requestId: string): NodePairPending {
  const found = list.pending.find((r) => r.requestId === requestId);
  if (found) return found;
  throw new CliError(
    "UNKNOWN_REQUEST",
    `no pending node surface request ${requestId}: it may have been resolved, or superseded by a newer request from the same node`,
    EXIT.failed,
    "see the current requests with: gatehouse nodes pending (device pairing requests: gatehouse devices list)",
    { fields: { pendingRequestIds: list.pending.map((r) => r.requestId) } },
  );
}

/** `nodes pending`: the surface requests waiting, with what each declares and what approving needs. */
export async function nodesPending(opts: CommonOptions, out: Reporter): Promise<number> {
  return withBackend(opts, async (backend) => {
    const list = await backend.nodeList();
    out.result(list, () => formatNodePairList(list, Date.now()));
    return EXIT.ok;
  });
}

/** `nodes approve <requestId>`: pins exactly the surface that request declares. */
export async function nodesApprove(
  requestId: string | undefined,
  opts: CommonOptions,
  out: Reporter,
): Promise<number> {
  return withBackend(opts, async (backend) => {
    const list = await backend.nodeList();
    if (!requestId) {
      throw new CliError(
        "REQUEST_ID_REQUIRED",
        list.pending.length === 0
          ? "approve needs the exact requestId of a pending node surface request, and there are none right now"
          : `approve needs the exact requestId; there is no implicit "latest". Pending node surface requests (${list.pending.length}):`,
        EXIT.usage,
        undefined,
        {
          lines: list.pending.flatMap((r) => formatRequest(r, Date.now())),
          fields: {
            pending: list.pending.map((r) => ({
              requestId: r.requestId,
              nodeId: r.nodeId,
              commands: r.commands,
              requiredApproveScopes: r.requiredApproveScopes,
              approveCommand: nodesApproveCommand(r.requestId),
            })),
          },
        },
      );
    }
    const request = findRequest(list, requestId);
    await backend.require(
      { stated: request.requiredApproveScopes },
      await backend.list(),
      `approving node surface request ${requestId}`,
      nodesApproveCommand(requestId),
    );
    const result = await backend.nodeApprove(requestId);
    const added: readonly string[] | undefined = request.addedCommands;
    const exec = result.node.commands.filter(isExecCapableCommand);
    out.result(result, () =>
      [
        `approved node surface request ${requestId}: node ${nodeName(result.node)} may now expose ${listOrNone(result.node.commands)}`,
        // OpenClaw's request carries no addedCommands (a Gatehouse field).
        ...(added && added.length > 0 ? [`  added: ${listOrNone(added)}`] : []),
        ...(exec.length > 0 ? [`  exec-capable: ${listOrNone(exec)}`] : []),
      ].join("\n"),
    );
    return EXIT.ok;
  });
}

/** `nodes reject <requestId>`: drops the request; the node keeps the surface approved before. */
export async function nodesReject(requestId: string, opts: CommonOptions, out: Reporter): Promise<number> {
  return withBackend(opts, async (backend) => {
    const list = await backend.nodeList();
    const request = findRequest(list, requestId);
    const result = await backend.nodeReject(requestId);
    out.result(result, () =>
      [
        `rejected node surface request ${requestId} from node ${nodeName(request)}`,
        request.approvedCommands === null
          ? "  it exposes no command; it asks again at its next connect"
          : `  it keeps exposing only ${listOrNone(request.approvedCommands)}; it asks again at its next connect`,
      ].join("\n"),
    );
    return EXIT.ok;
  });
}

/**
 * A full node id, the one paired node or pending request it is a unique prefix of, or the one node
 * that carries it as its name; anything else as given (the gateway then says it knows no such node).
 */
function resolveNode(list: NodePairList, given: string): string {
  const id = given.trim().toLowerCase();
  const known = [...new Set([...list.paired.map((n) => n.nodeId), ...list.pending.map((r) => r.nodeId)])];
  if (known.includes(id)) return id;
  const named = [
    ...new Set(
      [...list.paired, ...list.pending].filter((n) => n.displayName === given.trim()).map((n) => n.nodeId),
    ),
  ];
  if (named.length === 1) return named[0]!;
  if (named.length > 1) {
    throw new CliError(
      "AMBIGUOUS_NODE_ID",
      `${named.length} nodes are named ${JSON.stringify(given.trim())}; give the node id instead`,
      EXIT.usage,
      undefined,
      { lines: named.map((n) => `  ${n}`), fields: { matches: named } },
    );
  }
  if (id.length < MIN_PREFIX || !/^[0-9a-f]+$/.test(id)) return given.trim();
  const matches = known.filter((n) => n.startsWith(id));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) return given.trim();
  throw new CliError(
    "AMBIGUOUS_NODE_ID",
    `${given} matches ${matches.length} nodes; give more characters`,
    EXIT.usage,
    undefined,
    {
      lines: matches.map((n) => `  ${n}`),
      fields: { matches },
    },
  );
}

/** `nodes remove <node>`: the node role ends (a node-only device is unpaired) and its surface with it. */
export async function nodesRemove(
  given: string | undefined,
  opts: NodesRemoveOptions,
  out: Reporter,
): Promise<number> {
  const target = given ?? opts.node;
  if (!target || !target.trim()) {
    throw new CliError(
      "INVALID_FLAG",
      "give the node to remove: gatehouse nodes remove <nodeId> (or --node <nodeId>)",
      EXIT.usage,
      "see the nodes with: gatehouse nodes pending",
    );
  }
  return withBackend(opts, async (backend) => {
    const nodeId = resolveNode(await backend.nodeList(), target);
    const list = await backend.list();
    await backend.require(
      nodeRemoveAsk(list, nodeId),
      list,
      `removing node ${shortId(nodeId)}`,
      `gatehouse nodes remove ${nodeId}`,
    );
    const result = await backend.nodeRemove(nodeId);
    out.result(
      result,
      () =>
        `removed node ${shortId(nodeId)}: its node role and command surface are gone and its node sessions closed; it must pair again`,
    );
    return EXIT.ok;
  });
}

/** The node name a user gave: trimmed, 1 to 64 characters; a usage error otherwise. */
function requireName(given: string | undefined): string {
  const name = (given ?? "").trim();
  if (name.length === 0 || name.length > MAX_NAME) {
    throw new CliError(
      name.length === 0 ? "MISSING_ARGUMENT" : "INVALID_ARGUMENT",
      `give the new name, 1 to ${MAX_NAME} characters: gatehouse nodes rename <node> <name>`,
      EXIT.usage,
      'e.g. gatehouse nodes rename 3fa85f64a1b2 "kitchen camera"',
    );
  }
  return name;
}

/** True when the gateway (or the store, offline) knows no node by that id. */
function isUnknownNode(err: unknown): boolean {
  const refused = err instanceof GatewayClientError || err instanceof GatewayError;
  return refused && err.message === "unknown nodeId";
}

/**
 * `nodes rename <node> <name>`: sets the node's name, which is its device label (OpenClaw's
 * `node.rename`). Who may rename which node is the gateway's decision: the session asks for admin
 * when this device holds it (a node row takes admin unless the owner on the host asks), and a
 * refusal is shown as the gateway gave it.
 */
export async function nodesRename(
  givenNode: string | undefined,
  givenName: string | undefined,
  opts: NodesRenameOptions,
  out: Reporter,
): Promise<number> {
  const target = (givenNode ?? opts.node ?? "").trim();
  if (!target) {
    throw new CliError(
      "MISSING_ARGUMENT",
      "give the node to rename: gatehouse nodes rename <node> <name>",
      EXIT.usage,
      "see the nodes with: gatehouse nodes pending",
    );
  }
  const name = requireName(givenName ?? opts.name);
  return withBackend(opts, async (backend) => {
    const nodeId = resolveNode(await backend.nodeList(), target);
    if (backend.mode === "online") {
      // Asks for admin only where this device holds it (never an upgrade request for itself);
      // otherwise the gateway answers the rename as it decides.
      const list = await backend.list();
      const device = list.paired.find((d) => d.deviceId === nodeId);
      await backend.askWithin({ action: { kind: "rename" }, target: device ? targetOf(device) : null }, list);
    }
    let result;
    try {
      result = await backend.nodeRename(nodeId, name);
    } catch (err) {
      if (!isUnknownNode(err)) throw err;
      throw new CliError(
        "NOT_FOUND",
        `no node ${target}: the gateway knows no node by that id or name`,
        EXIT.failed,
        "see the nodes with: gatehouse nodes pending (connected ones: gatehouse nodes list)",
        { fields: { nodeId } },
      );
    }
    out.result(
      result,
      () => `renamed node ${shortId(result.nodeId)} to ${JSON.stringify(result.displayName)}`,
    );
    return EXIT.ok;
  });
}

/** Adds `gatehouse nodes pending|approve|reject|remove|rename` to the `nodes` command. */
export function registerNodePairingCommands(nodes: Command, run: RunCommand): void {
  withClientOptions(
    nodes
      .command("pending")
      .description("node command surfaces waiting for approval, with the commands each declares")
      .addHelpText(
        "after",
        [
          "",
          "A node is approved twice: its device (gatehouse devices approve) admits its connection, its",
          "command surface decides what operators may invoke on it. A node that declares more commands",
          "than were approved waits here and meanwhile exposes only the approved ones.",
          "",
          "Examples:",
          "  gatehouse nodes pending                 requests and approved surfaces",
          "  gatehouse nodes pending --json          {pending: [...], paired: [...]} as the gateway returns it",
        ].join("\n"),
      ),
  ).action((opts: CommonOptions) => run(() => nodesPending(opts, createReporter(!!opts.json)), !!opts.json));
  withClientOptions(
    nodes
      .command("approve")
      .description(
        "approve one exact node surface request (exec-capable commands need operator.admin, others operator.write)",
      )
      .argument("[requestId]", "the request to approve, as shown by nodes pending")
      .addHelpText(
        "after",
        [
          "",
          "Examples:",
          "  gatehouse nodes approve 6f1c2a9e-5d0b-4c61-9a43-0c2f7e1d8b55",
          "  gatehouse nodes approve                 lists the pending requests to choose from (exit 2)",
        ].join("\n"),
      ),
  ).action((requestId: string | undefined, opts: CommonOptions) =>
    run(() => nodesApprove(requestId, opts, createReporter(!!opts.json)), !!opts.json),
  );
  withClientOptions(
    nodes
      .command("reject")
      .description("reject one node surface request; the node keeps what was approved before")
      .argument("<requestId>", "the request to reject")
      .addHelpText(
        "after",
        ["", "Examples:", "  gatehouse nodes reject 6f1c2a9e-5d0b-4c61-9a43-0c2f7e1d8b55"].join("\n"),
      ),
  ).action((requestId: string, opts: CommonOptions) =>
    run(() => nodesReject(requestId, opts, createReporter(!!opts.json)), !!opts.json),
  );
  withClientOptions(
    nodes
      .command("remove")
      .description("end a node: its node role and command surface go, its node sessions close")
      .argument("[nodeId]", "node id or a unique prefix of at least 8 characters")
      .option("--node <nodeId>", "the same, as OpenClaw's CLI spells it")
      .addHelpText(
        "after",
        [
          "",
          "A device that holds only the node role is unpaired; one that is also an operator keeps that role.",
          "",
          "Examples:",
          "  gatehouse nodes remove 3fa85f64a1b2",
          "  gatehouse nodes remove --node 3fa85f64a1b2 --json",
        ].join("\n"),
      ),
  ).action((nodeId: string | undefined, opts: NodesRemoveOptions) =>
    run(() => nodesRemove(nodeId, opts, createReporter(!!opts.json)), !!opts.json),
  );
  withClientOptions(
    nodes
      .command("rename")
      .description("set a node's name (its device label); who may is the gateway's decision")
      .argument("[node]", "node id, a unique prefix of at least 8 characters, or its current name")
      .argument("[name]", `the new name, 1 to ${MAX_NAME} characters`)
      .option("--node <nodeId>", "the same, as OpenClaw's CLI spells it")
      .option("--name <name>", "the new name, as OpenClaw's CLI spells it")
      .addHelpText(
        "after",
        [
          "",
          "Renaming a node changes how it shows in nodes list, nodes pending and devices list. It needs",
          "operator.pairing, and operator.admin unless the owner's CLI on the gateway host asks.",
          "",
          "Examples:",
          '  gatehouse nodes rename 3fa85f64a1b2 "kitchen camera"',
          '  gatehouse nodes rename "lab box" "build server" --json',
          '  gatehouse nodes rename --node 3fa85f64a1b2 --name "kitchen camera"',
        ].join("\n"),
      ),
  ).action((node: string | undefined, name: string | undefined, opts: NodesRenameOptions) =>
    run(() => nodesRename(node, name, opts, createReporter(!!opts.json)), !!opts.json),
  );
}
