/**
 * `gatehouse explain <requestId>` for a node-surface request (C19): which commands it adds, which
 * of them are exec-capable, and who may approve it. The decision and its rule trace come from the
 * policy functions the gateway itself runs (the node's connect, then the approval requirement),
 * fed from the store; nothing here re-states a rule.
 */
import {
  decideSurfaceAtConnect,
  isExecCapableCommand,
  surfaceApprovalRequirement,
  type SurfaceRuleId,
} from "../../policy/node-surface.js";
import { shownName } from "../../devices/naming.js";
import { OPERATOR_SCOPES } from "../../protocol/scopes.js";
import type { Store } from "../../store/index.js";
import { CliError, EXIT, listOrNone } from "../output.js";

/** A pending node-surface request, explained. */
export interface SurfaceExplanation {
  requestId: string;
  nodeId: string;
  /** The node's name (the owner's label, else the one it declared). */
  displayName: string | null;
  /** Everything the node declares; approving pins exactly this. */
  commands: string[];
  /** The pinned surface; null when none was approved yet. */
  approved: string[] | null;
  /** What it exposes meanwhile: declared and approved. */
  exposed: string[];
  /** Declared beyond the approved surface: what approving adds. */
  added: string[];
  /** The added commands that are exec-capable. */
  execCommands: string[];
  requiredApproveScopes: string[];
  /** Who may approve, in a sentence. */
  approvers: string;
  /** The connect's surface rule (`surface-widened`, `surface-not-approved`). */
  reason: SurfaceRuleId;
  /** The connect's surface trace, then the approval requirement's rule. */
  trace: SurfaceRuleId[];
  peer: string | null;
  client: string | null;
  /** When this exact surface was first asked for, and last asked again. */
  askedAtMs: number;
  refreshedAtMs: number;
}

/** The pending node-surface request with this id, explained; null when there is none. */
export function explainSurfaceRequest(store: Store, requestId: string): SurfaceExplanation | null {
  const request = store.nodeSurfaces.getRequest(requestId);
  if (!request) return null;
  const approved = store.nodeSurfaces.get(request.deviceId)?.commands ?? null;
  // A surface request is only ever opened for a connect that was neither the owner key nor a
  // node setup code's first pairing: the gateway's decision for it, replayed.
  const connect = decideSurfaceAtConnect({ declared: request.commands, approved, admittedBy: "other" });
  const approval = surfaceApprovalRequirement(request.commands);
  const exposed = connect.effective;
  const added = request.commands.filter((c) => !approved?.includes(c));
  const execCommands = added.filter(isExecCapableCommand);
  return {
    requestId,
    nodeId: request.deviceId,
    displayName: shownName(store.devices.get(request.deviceId)?.label, request.displayName),
    commands: [...request.commands],
    approved: approved ? [...approved] : null,
    exposed,
    added,
    execCommands,
    requiredApproveScopes: approval.requiredScopes,
    approvers: approversSentence(approval.requiredScopes, request.commands.filter(isExecCapableCommand)),
    reason: connect.trace.at(-1)!,
    trace: [...connect.trace, approval.rule],
    peer: request.remoteIp,
    client: request.clientId && request.clientMode ? `${request.clientId}/${request.clientMode}` : null,
    askedAtMs: request.createdAtMs,
    refreshedAtMs: request.refreshedAtMs,
  };
}

/** "a session holding operator.pairing + operator.admin (system.run is exec-capable)…" */
function approversSentence(required: readonly string[], exec: readonly string[]): string {
  const why =
    exec.length > 0
      ? ` (exec-capable: ${listOrNone(exec)})`
      : required.includes(OPERATOR_SCOPES.write)
        ? " (node commands, none exec-capable)"
        : " (it declares no command)";
  const owner = "the owner's CLI on the gateway host holds every scope";
  return `a session holding ${required.join(" + ")}${why}; ${owner}, and a node's own device can never approve its surface`;
}

/**
 * For a node-surface request that is no longer pending: a clear failure saying what became of it
 * (approved or rejected, by whom and when, from the audit log; else superseded or dropped). Null
 * when the id never was a surface request the audit log knows.
 */
export function resolvedSurfaceRequest(store: Store, requestId: string, scan: number): CliError | null {
  const rows = store.audit
    .list({ limit: scan })
    .filter((r) => r.kind === "node-surface" && r.requestId === requestId);
  if (rows.length === 0) return null;
  // Newest first: the resolution, if one was recorded, comes before the pend.
  const resolved = rows.find((r) => r.decision === "approved" || r.decision === "rejected");
  const node = rows[0]!.deviceId;
  const commands = (rows.find((r) => r.decision === "pend") ?? rows[0]!).reason ?? "";
  const what = resolved
    ? `was ${resolved.decision}${resolved.actor ? ` by ${resolved.actor}` : ""} at ${new Date(resolved.tsMs).toISOString()}`
    : "was superseded by a newer request from the node, dropped when the node declared no more than its approved surface, or removed with the node";
  return new CliError(
    "UNKNOWN_REQUEST",
    `node surface request ${requestId} is no longer pending: it ${what}`,
    EXIT.failed,
    "see the surfaces waiting now with: gatehouse nodes pending",
    {
      lines: [`  node ${node ?? "?"}, declared ${listOrNone(commands.split(",").filter(Boolean))}`],
      fields: {
        requestId,
        nodeId: node,
        resolution: resolved ? resolved.decision : "gone",
        ...(resolved ? { by: resolved.actor, atMs: resolved.tsMs } : {}),
      },
    },
  );
}
