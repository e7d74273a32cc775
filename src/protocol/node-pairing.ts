/**
 * `node.pair.list|approve|reject|remove` and the `node.pair.requested|resolved` events: a node's
 * command surface, approved apart from its device pairing. Field names are OpenClaw's (2026.9:
 * `requestId`, `nodeId`, `commands`, `requiredApproveScopes`, `ts`; results `{requestId, node}`,
 * `{requestId, nodeId}`, `{nodeId}`); the fields marked Gatehouse's are additions its own clients
 * read (what is approved now, what the request adds).
 */
import { Type, type Static } from "@sinclair/typebox";
import { NODE_PAIR_EVENTS } from "./events.js";

const NonEmpty = Type.String({ minLength: 1 });
const closed = { additionalProperties: false } as const;

export const NodePairListParamsSchema = Type.Object({}, closed);
export const NodePairRequestIdParamsSchema = Type.Object({ requestId: NonEmpty }, closed);
export const NodePairRemoveParamsSchema = Type.Object({ nodeId: NonEmpty }, closed);
/** `node.rename`: the owner's name for a node (its device label, as `device.pair.rename` sets it). */
export const NodeRenameParamsSchema = Type.Object(
  { nodeId: NonEmpty, displayName: Type.String({ minLength: 1, maxLength: 64 }) },
  closed,
);

/** A pending request to approve a node's declared command surface. */
export const NodePairPendingSchema = Type.Object({
  requestId: Type.String(),
  nodeId: Type.String(),
  clientId: Type.Optional(Type.String()),
  clientMode: Type.Optional(Type.String()),
  displayName: Type.Optional(Type.String()),
  platform: Type.Optional(Type.String()),
  version: Type.Optional(Type.String()),
  deviceFamily: Type.Optional(Type.String()),
  /** The whole surface the node declares; approving pins exactly this. */
  commands: Type.Array(Type.String()),
  /** What the approver's session must hold: pairing, plus write or (exec-capable commands) admin. */
  requiredApproveScopes: Type.Array(Type.String()),
  remoteIp: Type.Optional(Type.String()),
  /** When this exact surface was first asked for. */
  ts: Type.Integer(),
  /** Gatehouse's: the surface approved now (null: none yet). */
  approvedCommands: Type.Union([Type.Array(Type.String()), Type.Null()]),
  /** Gatehouse's: the commands this request adds to the approved surface. */
  addedCommands: Type.Array(Type.String()),
  /** Gatehouse's: the added commands that are exec-capable. */
  execCommands: Type.Array(Type.String()),
  /** Gatehouse's: every declared command that is exec-capable, approved ones included. */
  execCapable: Type.Array(Type.String()),
  /** Gatehouse's: the node already has an approved surface (this widens it). */
  isRepair: Type.Boolean(),
  /** Gatehouse's: when the node last asked again. */
  refreshedAtMs: Type.Integer(),
});
export type NodePairPending = Static<typeof NodePairPendingSchema>;

/** A node with an approved (pinned) command surface. */
export const PairedNodeSchema = Type.Object({
  nodeId: Type.String(),
  clientId: Type.Optional(Type.String()),
  clientMode: Type.Optional(Type.String()),
  displayName: Type.Optional(Type.String()),
  platform: Type.Optional(Type.String()),
  deviceFamily: Type.Optional(Type.String()),
  /** The approved surface. */
  commands: Type.Array(Type.String()),
  remoteIp: Type.Optional(Type.String()),
  createdAtMs: Type.Integer(),
  approvedAtMs: Type.Integer(),
  lastSeenAtMs: Type.Optional(Type.Integer()),
  /** Gatehouse's: how the surface was approved (owner-key, setup-code, device-approval, node-approval). */
  approvedVia: Type.String(),
  /** Gatehouse's: is a node session of this device open now. */
  connected: Type.Boolean(),
});
export type PairedNode = Static<typeof PairedNodeSchema>;

export const NodePairListSchema = Type.Object({
  pending: Type.Array(NodePairPendingSchema),
  paired: Type.Array(PairedNodeSchema),
});
export type NodePairList = Static<typeof NodePairListSchema>;

export const NodePairApproveResultSchema = Type.Object({ requestId: Type.String(), node: PairedNodeSchema });
export type NodePairApproveResult = Static<typeof NodePairApproveResultSchema>;

export const NodePairRejectResultSchema = Type.Object({ requestId: Type.String(), nodeId: Type.String() });
export type NodePairRejectResult = Static<typeof NodePairRejectResultSchema>;

export const NodePairRemoveResultSchema = Type.Object({ nodeId: Type.String() });
export type NodePairRemoveResult = Static<typeof NodePairRemoveResultSchema>;

export const NodeRenameResultSchema = Type.Object({ nodeId: Type.String(), displayName: Type.String() });
export type NodeRenameResult = Static<typeof NodeRenameResultSchema>;

/**
 * `node.pair.resolved`: approved, rejected (or superseded), or the node's surface removed (requestId
 * ""). Operators holding operator.pairing hear it, and so does the node itself (as OpenClaw tells an
 * approved node host; Gatehouse tells it of a rejection too, which OpenClaw's node host ignores).
 */
export const NodePairResolvedEventSchema = Type.Object({
  requestId: Type.String(),
  nodeId: Type.String(),
  decision: Type.Union([Type.Literal("approved"), Type.Literal("rejected"), Type.Literal("removed")]),
  ts: Type.Integer(),
  /**
   * Gatehouse only: the node's approved surface after this (null: none). The node exposes what it
   * declared within it, from now on, in the session it has.
   */
  approvedCommands: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
});
export type NodePairResolvedEvent = Static<typeof NodePairResolvedEventSchema>;

interface NodePairPayloadByName {
  "node.pair.requested": NodePairPending;
  "node.pair.resolved": NodePairResolvedEvent;
}
export type NodePairEventName = (typeof NODE_PAIR_EVENTS)[number];
/** The payload each node-pairing event carries (a listed name without one fails to compile). */
export type NodePairEventPayloads = { [E in NodePairEventName]: NodePairPayloadByName[E] };
export { NODE_PAIR_EVENTS };
