/**
 * The gateway's live node hosts and the commands in flight to them. A session admitted with role
 * `node` is a node, named by its deviceId. An invocation is one `node.invoke.request` event to that
 * node's connection; it ends when that same connection answers with `node.invoke.result`, when it
 * times out, or when the connection closes.
 */
import { randomUUID } from "node:crypto";
import type { ConnectionHandle } from "../gateway/methods.js";
import type { GatewayServer } from "../gateway/server.js";
import { decideSurfaceInvoke, effectiveCommands, surfaceApproveScopes } from "../policy/node-surface.js";
import type {
  NodeInvokeAnswer,
  NodeInvokeOutcome,
  NodeInvokeRequest,
  NodeService,
} from "../methods/nodes.js";
import { shownName } from "../devices/naming.js";
import { GatewayError } from "../protocol/errors.js";
import { NODE_INVOKE_REQUEST_EVENT } from "../protocol/events.js";
import { DEFAULT_NODE_INVOKE_TIMEOUT_MS, type NodeSummary } from "../protocol/nodes.js";

export { NODE_INVOKE_REQUEST_EVENT };

/** A node's approved surface and pending widening, as the store holds them. */
export interface NodeSurfaceState {
  /** The pinned commands; null when no surface was ever approved. */
  approved: readonly string[] | null;
  /** A pending request for a wider surface, if any. */
  requestId: string | null;
  /** The owner's name for the node (its device label, `node.rename`), shown over the one it declares. */
  label?: string | null;
}

/** Reads a node's surface state (the gateway passes one over its store). */
export type NodeSurfaceLookup = (nodeId: string) => NodeSurfaceState;

interface InFlight {
  connId: string;
  resolve: (outcome: NodeInvokeOutcome) => void;
  reject: (err: GatewayError) => void;
  timer: NodeJS.Timeout;
}

interface Live {
  nodeId: string;
  connId: string;
  displayName: string | null;
  platform: string;
  declared: string[];
  connectedAtMs: number;
}

/**
 * Follows node sessions and correlates invocations with their answers. What a node exposes is what
 * it declared within its approved surface, read at each list and invocation: an approval takes
 * effect at once, and a restart keeps what was pinned.
 */
export class NodeRegistry implements NodeService {
  /** Live node sessions by connId (a node that reconnects may briefly have two). */
  readonly #sessions = new Map<string, { handle: ConnectionHandle; live: Live }>();
  readonly #inFlight = new Map<string, InFlight>();

  constructor(
    private readonly surfaces: NodeSurfaceLookup,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records an admitted session; anything but a node with a device is not a node. */
  open(conn: ConnectionHandle): void {
    if (conn.role !== "node" || !conn.deviceId) return;
    this.#sessions.set(conn.connId, {
      handle: conn,
      live: {
        nodeId: conn.deviceId,
        connId: conn.connId,
        displayName: displayNameOf(conn),
        platform: conn.client.platform,
        declared: [...new Set(conn.commands)],
        connectedAtMs: this.now(),
      },
    });
  }

  /** Forgets a closed session and fails what it still owed. */
  close(conn: ConnectionHandle): void {
    if (!this.#sessions.delete(conn.connId)) return;
    for (const [invokeId, call] of this.#inFlight) {
      if (call.connId !== conn.connId) continue;
      this.#settle(invokeId)?.reject(
        new GatewayError("INTERNAL_ERROR", {
          message: `node ${conn.deviceId} disconnected before answering`,
          details: { reason: "node-disconnected", nodeId: conn.deviceId },
        }),
      );
    }
  }

  /** Connected nodes, one entry per node (its newest session), oldest first. */
  list(): NodeSummary[] {
    const newest = new Map<string, Live>();
    for (const { live } of this.#sessions.values()) {
      const seen = newest.get(live.nodeId);
      if (!seen || live.connectedAtMs >= seen.connectedAtMs) newest.set(live.nodeId, live);
    }
    return [...newest.values()]
      .sort((a, b) => a.connectedAtMs - b.connectedAtMs || a.nodeId.localeCompare(b.nodeId))
      .map((l) => this.#summary(l));
  }

  #summary(l: Live): NodeSummary {
    const surface = this.surfaces(l.nodeId);
    return {
      nodeId: l.nodeId,
      connId: l.connId,
      displayName: shownName(surface.label, l.displayName),
      platform: l.platform,
      commands: effectiveCommands(l.declared, surface.approved),
      declaredCommands: [...l.declared],
      surfaceRequestId: surface.requestId,
      connectedAtMs: l.connectedAtMs,
    };
  }

  /** The node's newest session, if it is connected. */
  get(nodeId: string): NodeSummary | undefined {
    return this.list().find((n) => n.nodeId === nodeId);
  }

  /** Invocations sent and not yet answered. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Sends `command` to the node and resolves with its answer. Rejects with INTERNAL_ERROR when the
   * node is not connected, does not answer in time or disconnects first, and with FORBIDDEN_ACTION
   * for a command it did not offer at connect. Scope checks are the caller's (see nodeCommandScope).
   */
  invoke(request: NodeInvokeRequest): Promise<NodeInvokeOutcome> {
    const { nodeId, command } = request;
    const node = this.get(nodeId);
    const session = node && this.#sessions.get(node.connId);
    if (!node || !session) {
      return Promise.reject(
        new GatewayError("INTERNAL_ERROR", {
          message: `node ${nodeId} is not connected`,
          details: { reason: "node-not-connected", nodeId },
        }),
      );
    }
    const surface = this.surfaces(nodeId);
    const verdict = decideSurfaceInvoke(command, node.declaredCommands, surface.approved);
    if (verdict.rule === "surface-command-not-declared") {
      return Promise.reject(
        new GatewayError("FORBIDDEN_ACTION", {
          message: `node ${nodeId} does not offer ${command}`,
          details: {
            reason: "command-not-offered",
            rule: verdict.rule,
            nodeId,
            command,
            commands: node.commands,
          },
        }),
      );
    }
    if (verdict.rule === "surface-command-not-approved") {
      const requestId = surface.requestId;
      return Promise.reject(
        new GatewayError("NODE_COMMAND_NOT_APPROVED", {
          message: requestId
            ? `node command not allowed: ${command} is not in node ${nodeId}'s approved command surface; its wider surface is pending approval (gatehouse nodes approve ${requestId})`
            : `node command not allowed: ${command} is not in node ${nodeId}'s approved command surface`,
          details: {
            reason: "command-not-approved",
            rule: verdict.rule,
            nodeId,
            command,
            approvedCommands: node.commands,
            ...(requestId ? { requestId, remediationHint: `gatehouse nodes approve ${requestId}` } : {}),
            requiredApproveScopes: surfaceApproveScopes(node.declaredCommands),
          },
        }),
      );
    }
    const timeoutMs = request.timeoutMs ?? DEFAULT_NODE_INVOKE_TIMEOUT_MS;
    const invokeId = randomUUID();
    return new Promise<NodeInvokeOutcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#settle(invokeId)?.reject(
          new GatewayError("INTERNAL_ERROR", {
            message: `node ${nodeId} did not answer ${command} within ${timeoutMs} ms`,
            details: { reason: "node-timeout", nodeId, command, timeoutMs },
          }),
        );
      }, timeoutMs);
      this.#inFlight.set(invokeId, { connId: node.connId, resolve, reject, timer });
      // `invokeId`/`params` for Gatehouse node hosts; `id`/`paramsJSON` as OpenClaw node hosts read it.
      session.handle.sendEvent(NODE_INVOKE_REQUEST_EVENT, {
        invokeId,
        id: invokeId,
        nodeId,
        command,
        ...(request.params !== undefined
          ? { params: request.params, paramsJSON: JSON.stringify(request.params) }
          : {}),
        timeoutMs,
        ...(request.idempotencyKey ? { idempotencyKey: request.idempotencyKey } : {}),
      });
    });
  }

  /**
   * Takes a node's answer. Only the connection the request went to may answer it (FORBIDDEN_ACTION
   * otherwise); an unknown or late invokeId (already timed out) returns false.
   */
  answer(conn: ConnectionHandle, answer: NodeInvokeAnswer): boolean {
    const call = this.#inFlight.get(answer.invokeId);
    if (!call) return false;
    if (call.connId !== conn.connId) {
      throw new GatewayError("FORBIDDEN_ACTION", {
        message: "this invocation was sent to another connection",
        details: { reason: "not-your-invocation", invokeId: answer.invokeId },
      });
    }
    this.#settle(answer.invokeId)?.resolve(
      answer.ok
        ? {
            ok: true,
            payload: answer.payload !== undefined ? answer.payload : parseJson(answer.payloadJSON),
            payloadJSON: answer.payloadJSON ?? null,
          }
        : {
            ok: false,
            error: {
              code: answer.error?.code || "NODE_ERROR",
              message: answer.error?.message || "the node reported a failure",
            },
          },
    );
    return true;
  }

  #settle(invokeId: string): InFlight | undefined {
    const call = this.#inFlight.get(invokeId);
    if (!call) return undefined;
    this.#inFlight.delete(invokeId);
    clearTimeout(call.timer);
    return call;
  }
}

/**
 * Makes `registry` (a new one by default) follow `server`'s sessions. Attach before `start()` so no
 * node session is missed; build the method table from the same registry.
 */
export function attachNodeRegistry(server: GatewayServer, registry: NodeRegistry): NodeRegistry {
  server.on("session-open", (conn) => registry.open(conn));
  server.on("session-close", (conn) => registry.close(conn));
  return registry;
}

function displayNameOf(conn: ConnectionHandle): string | null {
  const name = conn.client.displayName;
  return typeof name === "string" && name.trim() !== "" ? name.trim() : null;
}

/** An OpenClaw node host may answer with `payloadJSON` only. */
function parseJson(text: string | undefined): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
