/** Store records shaped as the wire's `node.pair.*` payloads. */
import {
  isExecCapableCommand,
  surfaceApproveScopes,
  type SurfaceConnectDecision,
} from "../policy/node-surface.js";
import type { HelloNodeSurface } from "../protocol/connect.js";
import type { NodePairPending, NodePairResolvedEvent, PairedNode } from "../protocol/node-pairing.js";
import type { DeviceRecord } from "../store/devices.js";
import type { NodeSurfaceRecord, SurfaceRequestRecord } from "../store/node-surfaces.js";
import { shownName } from "./naming.js";

const opt = (v: string | null | undefined) => (v ? v : undefined);

/**
 * A pending surface request, with what it adds to the surface approved now; named by
 * {@link shownName} (the node's device label, which every caller must pass: a request is only
 * opened for a paired node, so it may have one).
 */
export function surfacePendingPayload(
  r: SurfaceRequestRecord,
  pinned: NodeSurfaceRecord | null,
  label: string | null,
): NodePairPending {
  const approved = pinned?.commands ?? null;
  const added = r.commands.filter((c) => !approved?.includes(c));
  return {
    requestId: r.requestId,
    nodeId: r.deviceId,
    clientId: opt(r.clientId),
    clientMode: opt(r.clientMode),
    displayName: opt(shownName(label, r.displayName)),
    platform: opt(r.platform),
    version: opt(r.version),
    deviceFamily: opt(r.deviceFamily),
    commands: [...r.commands],
    requiredApproveScopes: surfaceApproveScopes(r.commands),
    remoteIp: opt(r.remoteIp),
    ts: r.createdAtMs,
    approvedCommands: approved ? [...approved] : null,
    addedCommands: added,
    execCommands: added.filter(isExecCapableCommand),
    execCapable: r.commands.filter(isExecCapableCommand),
    isRepair: pinned !== null,
    refreshedAtMs: r.refreshedAtMs,
  };
}

/** A node with a pinned surface, described by its device record when there is one. */
export function pairedNodePayload(
  s: NodeSurfaceRecord,
  device: DeviceRecord | null,
  connected: boolean,
): PairedNode {
  return {
    nodeId: s.deviceId,
    clientId: opt(device?.clientId),
    clientMode: opt(device?.clientMode),
    displayName: opt(shownName(device?.label, device?.displayName)),
    platform: opt(device?.platform),
    deviceFamily: opt(device?.deviceFamily),
    commands: [...s.commands],
    remoteIp: opt(device?.lastSeenIp),
    createdAtMs: s.createdAtMs,
    approvedAtMs: s.approvedAtMs,
    lastSeenAtMs: device?.lastSeenAtMs ?? undefined,
    approvedVia: s.approvedVia,
    connected,
  };
}

/**
 * What a node's hello-ok says about its surface: what this session exposes, what is pinned, and
 * the request (if any) for the wider surface it declared, with the commands that wait for it.
 */
export function helloNodeSurfacePayload(
  decision: SurfaceConnectDecision,
  approved: readonly string[] | null,
  requestId: string | null,
): HelloNodeSurface {
  const exposed = [...decision.effective];
  if (decision.kind !== "pend" || requestId === null) {
    return { exposed, approved: approved ? [...approved] : null, pending: null };
  }
  const waiting = decision.requested.filter((c) => !exposed.includes(c));
  return {
    exposed,
    approved: approved ? [...approved] : null,
    pending: {
      requestId,
      commands: [...decision.requested],
      waiting,
      execCommands: waiting.filter(isExecCapableCommand),
      requiredApproveScopes: [...decision.requiredScopes],
    },
  };
}

/** `node.pair.resolved`, with the node's approved surface after it (null: none, or removed). */
export function surfaceResolvedPayload(
  requestId: string,
  nodeId: string,
  decision: NodePairResolvedEvent["decision"],
  approved: readonly string[] | null,
  ts: number,
): NodePairResolvedEvent {
  return { requestId, nodeId, decision, ts, approvedCommands: approved ? [...approved] : null };
}
