/**
 * `node.list`, `node.invoke` (operators) and `node.invoke.result` (nodes) over the node registry.
 * The method table already requires read / write / role node; `node.invoke` adds the per-command
 * scope (system.run and friends need admin).
 */
import type { ConnectionHandle, MethodHandler } from "../gateway/methods.js";
import { decideNodeInvoke } from "../policy/work.js";
import { GatewayError } from "../protocol/errors.js";
import type { NodeSummary } from "../protocol/nodes.js";
import { paramsParser } from "./params.js";

/** What `node.invoke` asks of a node. */
export interface NodeInvokeRequest {
  nodeId: string;
  command: string;
  params?: unknown;
  /** Defaults to DEFAULT_NODE_INVOKE_TIMEOUT_MS (src/protocol/nodes.ts). */
  timeoutMs?: number;
  idempotencyKey?: string;
}

/** What the node answered. A node-side failure is an answer too, not an exception. */
export type NodeInvokeOutcome =
  | { ok: true; payload: unknown; payloadJSON: string | null }
  | { ok: false; error: { code: string; message: string } };

/** `node.invoke.result` as the service needs it (the handler validates the wire params). */
export interface NodeInvokeAnswer {
  invokeId: string;
  ok: boolean;
  payload?: unknown;
  payloadJSON?: string;
  error?: { code?: string; message?: string };
}

/** What the `node.*` handlers need from the runtime: the live nodes and the invocations in flight. */
export interface NodeService {
  /** Connected nodes, one entry per node. */
  list(): NodeSummary[];
  /** The node, if it is connected. */
  get(nodeId: string): NodeSummary | undefined;
  /** Sends `command` to the node; resolves with its answer, rejects when it cannot be delivered or answered. */
  invoke(request: NodeInvokeRequest): Promise<NodeInvokeOutcome>;
  /** Takes a node's answer on `conn`; false for an unknown or late invocation. */
  answer(conn: ConnectionHandle, answer: NodeInvokeAnswer): boolean;
}

const parseList = paramsParser("EmptyParams");
const parseInvoke = paramsParser("NodeInvokeParams");
const parseResult = paramsParser("NodeInvokeResultParams");

/** The node methods, bound to one service (the registry attached to the same server). */
export function createNodeMethods(registry: NodeService): Readonly<Record<string, MethodHandler>> {
  return {
    "node.list": (ctx, params) => {
      parseList(params);
      return { ts: ctx.gateway.now(), nodes: registry.list() };
    },

    "node.invoke": async (ctx, params) => {
      const p = parseInvoke(params);
      const invoke = decideNodeInvoke(ctx.scopes, p.command);
      if (!invoke.allow) {
        const need = invoke.requiredScope;
        throw new GatewayError("MISSING_SCOPE", {
          message: `missing scope: ${need} (to invoke ${p.command} on a node)`,
          details: { missingScope: need, requiredScopes: [need], command: p.command },
        });
      }
      // JSON.stringify cannot serialize very deep nesting (RangeError): say so, do not fail generically.
      if (p.params !== undefined && !forwardable(p.params)) {
        throw new GatewayError("INVALID_PARAMS", {
          message: "invalid params: params cannot be forwarded to the node (nested too deeply)",
          details: { field: "params" },
        });
      }
      // Not a fault of the gateway: the caller named a node that is not there.
      if (!registry.get(p.nodeId)) {
        throw new GatewayError("INVALID_PARAMS", {
          message: `no node ${p.nodeId} is connected (gatehouse nodes list shows the connected nodes)`,
          details: { field: "nodeId", reason: "node-not-connected", nodeId: p.nodeId },
        });
      }
      const outcome = await registry.invoke(p);
      if (!outcome.ok && outcome.error.code === "INVALID_PARAMS") {
        // The node refused the params: the caller's to fix, in the node's own words.
        throw new GatewayError("INVALID_PARAMS", {
          message: `invalid params for ${p.command}: ${outcome.error.message}`,
          details: { field: "params", reason: "node-refused-params", nodeId: p.nodeId, command: p.command },
        });
      }
      if (!outcome.ok) {
        throw new GatewayError("INTERNAL_ERROR", {
          message: `node ${p.nodeId} failed ${p.command}: ${outcome.error.message}`,
          details: { reason: "node-error", nodeId: p.nodeId, command: p.command, nodeError: outcome.error },
        });
      }
      return {
        ok: true,
        nodeId: p.nodeId,
        command: p.command,
        payload: outcome.payload,
        payloadJSON: outcome.payloadJSON,
      };
    },

    "node.invoke.result": (ctx, params) => {
      const p = parseResult(params);
      const invokeId = p.invokeId ?? p.id;
      if (!invokeId)
        throw new GatewayError("INVALID_PARAMS", { message: "invalid params: invokeId required" });
      if (p.invokeId && p.id && p.invokeId !== p.id) {
        throw new GatewayError("INVALID_PARAMS", { message: "invalid params: invokeId and id differ" });
      }
      if (p.nodeId !== undefined && p.nodeId !== ctx.deviceId) {
        throw new GatewayError("INVALID_PARAMS", { message: "invalid params: nodeId is not this node" });
      }
      const forwarded =
        p.payload !== undefined
          ? p.payload
          : typeof p.payloadJSON === "string"
            ? parseLenient(p.payloadJSON)
            : undefined;
      if (!forwardable(forwarded)) {
        // The invoker learns at once that the node failed; the node learns why its answer was refused.
        registry.answer(ctx.conn, {
          invokeId,
          ok: false,
          error: { code: "INVALID_RESULT", message: "the node's result is nested too deeply to forward" },
        });
        throw new GatewayError("INVALID_PARAMS", {
          message: "invalid params: the result cannot be forwarded (nested too deeply)",
          details: { field: p.payload !== undefined ? "payload" : "payloadJSON" },
        });
      }
      const accepted = registry.answer(ctx.conn, {
        invokeId,
        ok: p.ok,
        ...(p.payload !== undefined ? { payload: p.payload } : {}),
        ...(typeof p.payloadJSON === "string" ? { payloadJSON: p.payloadJSON } : {}),
        ...(p.error ? { error: p.error } : {}),
      });
      // A late answer (the invocation timed out) is not the node's error; say it was ignored.
      return accepted ? { ok: true } : { ok: true, ignored: true };
    },
  };
}

/** True when `value` can be sent on as JSON (very deep nesting makes JSON.stringify throw). */
function forwardable(value: unknown): boolean {
  try {
    JSON.stringify(value);
    return true;
  } catch {
    return false;
  }
}

/** `payloadJSON` as the registry reads it: the parsed value, or the text when it is not JSON. */
function parseLenient(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
