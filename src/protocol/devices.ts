/**
 * Result payloads of `device.pair.*`, `device.token.*` and `device.pair.setupCode`, and the payloads
 * of the `device.pair.*` events (reference §6.1): one declaration, used by the gateway's handlers,
 * the offline break-glass CLI and the CLI that reads them over the wire.
 */
import { Type, type Static } from "@sinclair/typebox";
import { GATEWAY_ROLES } from "./client-info.js";
import { SETUP_CODE_PROFILES } from "./setup-code.js";

/** `operator` or `node`. */
export const RoleSchema = Type.Union(GATEWAY_ROLES.map((r) => Type.Literal(r)));

const nullableString = Type.Union([Type.String(), Type.Null()]);
const nullableTime = Type.Union([Type.Integer(), Type.Null()]);

export { DEVICE_EVENTS, type DeviceEventName } from "./events.js";

/** A pending pairing request (`device.pair.list` → `pending[]`, and the `device.pair.requested` event). */
export const PendingRequestSchema = Type.Object({
  requestId: Type.String(),
  deviceId: Type.String(),
  publicKey: Type.String(),
  reason: Type.String(),
  roles: Type.Array(RoleSchema),
  /** Set when exactly one role is asked for (OpenClaw's shape). */
  role: Type.Optional(RoleSchema),
  scopes: Type.Array(Type.String()),
  displayName: Type.Optional(nullableString),
  clientId: Type.Optional(nullableString),
  clientMode: Type.Optional(nullableString),
  platform: Type.Optional(nullableString),
  deviceFamily: Type.Optional(nullableString),
  remoteIp: Type.Optional(nullableString),
  /** The Origin of the browser page that asked (OpenClaw's newest field); absent for other clients. */
  browserOrigin: Type.Optional(nullableString),
  isRepair: Type.Boolean(),
  /** A node's request: the commands it declared, pinned as its command surface by this approval. */
  commands: Type.Optional(Type.Array(Type.String())),
  /** A node's request: the operator scopes the approver's session needs. */
  requiredApproveScopes: Type.Optional(Type.Array(Type.String())),
  /** A node's request: the declared commands that are exec-capable (system.run*, system.which, ...). */
  execCommands: Type.Optional(Type.Array(Type.String())),
  /** When this exact ask was first made. */
  ts: Type.Integer(),
  refreshedAtMs: Type.Optional(Type.Integer()),
  expiresAtMs: Type.Optional(Type.Integer()),
});
export type PendingRequest = Static<typeof PendingRequestSchema>;

/** A device token summary: never the token itself. */
export const TokenSummarySchema = Type.Object({
  role: RoleSchema,
  scopes: Type.Array(Type.String()),
  createdAtMs: Type.Integer(),
  rotatedAtMs: Type.Optional(nullableTime),
  revokedAtMs: Type.Optional(nullableTime),
  lastUsedAtMs: Type.Optional(nullableTime),
});
export type TokenSummary = Static<typeof TokenSummarySchema>;

/** A paired device (`device.pair.list` → `paired[]`, `device.pair.approve` → `device`). */
export const PairedDeviceSchema = Type.Object({
  deviceId: Type.String(),
  publicKey: Type.String(),
  displayName: Type.Optional(nullableString),
  label: Type.Optional(nullableString),
  clientId: Type.Optional(nullableString),
  clientMode: Type.Optional(nullableString),
  platform: Type.Optional(nullableString),
  deviceFamily: Type.Optional(nullableString),
  roles: Type.Array(RoleSchema),
  scopes: Type.Array(Type.String()),
  approvedVia: Type.String(),
  owner: Type.Boolean(),
  createdAtMs: Type.Integer(),
  approvedAtMs: Type.Integer(),
  lastSeenAtMs: Type.Optional(nullableTime),
  lastSeenIp: Type.Optional(nullableString),
  tokens: Type.Array(TokenSummarySchema),
  connected: Type.Boolean(),
});
export type PairedDevice = Static<typeof PairedDeviceSchema>;

export const PairListSchema = Type.Object({
  pending: Type.Array(PendingRequestSchema),
  paired: Type.Array(PairedDeviceSchema),
});
export type PairList = Static<typeof PairListSchema>;

export const ApproveResultSchema = Type.Object({ requestId: Type.String(), device: PairedDeviceSchema });
export type ApproveResult = Static<typeof ApproveResultSchema>;

export const RejectResultSchema = Type.Object({ requestId: Type.String(), deviceId: Type.String() });
export type RejectResult = Static<typeof RejectResultSchema>;

export const RemoveResultSchema = Type.Object({ deviceId: Type.String() });
export type RemoveResult = Static<typeof RemoveResultSchema>;

export const RenameResultSchema = Type.Object({ deviceId: Type.String(), label: Type.String() });
export type RenameResult = Static<typeof RenameResultSchema>;

export const RotateResultSchema = Type.Object({
  deviceId: Type.String(),
  role: RoleSchema,
  scopes: Type.Array(Type.String()),
  rotatedAtMs: Type.Integer(),
  tokenDelivery: Type.Union([Type.Literal("in-band"), Type.Literal("withheld-cross-device")]),
  /** Only when the caller is the device itself; the CLI stores it and never prints it. */
  token: Type.Optional(Type.String()),
});
export type RotateResult = Static<typeof RotateResultSchema>;

export const RevokeResultSchema = Type.Object({
  deviceId: Type.String(),
  role: RoleSchema,
  revokedAtMs: Type.Integer(),
});
export type RevokeResult = Static<typeof RevokeResultSchema>;

/** One browser device in a `device.pair.retireStale` answer. */
export const RetireEntrySchema = Type.Object({
  deviceId: Type.String(),
  name: Type.String(),
  lastActiveAtMs: Type.Integer(),
  /** Kept devices: the rule that kept it, and its sentence. */
  rule: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
});
export type RetireEntry = Static<typeof RetireEntrySchema>;

/**
 * `device.pair.retireStale` (a Gatehouse extension): the browser devices idle past the limit,
 * retired (removed) — or, with `dryRun`, the ones that would be — and the ones kept, with why.
 */
export const RetireResultSchema = Type.Object({
  idleDays: Type.Integer(),
  dryRun: Type.Boolean(),
  retired: Type.Array(RetireEntrySchema),
  kept: Type.Array(RetireEntrySchema),
});
export type RetireResult = Static<typeof RetireResultSchema>;

/** `device.pair.setupCode`: the cleartext code goes to this caller only. */
export const SetupCodeResultSchema = Type.Object({
  code: Type.String(),
  link: Type.String(),
  profile: Type.Union(SETUP_CODE_PROFILES.map((p) => Type.Literal(p))),
  roles: Type.Array(RoleSchema),
  scopes: Type.Array(Type.String()),
  url: Type.String(),
  fingerprint: nullableString,
  createdAtMs: Type.Integer(),
  expiresAtMs: Type.Integer(),
  /** With `qr: true`: the link as a QR matrix, `size`² modules row by row, "1" dark. */
  qr: Type.Optional(Type.Object({ size: Type.Integer(), modules: Type.String() })),
});
export type SetupCodeResult = Static<typeof SetupCodeResultSchema>;

/** `device.pair.resolved`: a pending request was approved or rejected (or superseded). */
export const PairResolvedEventSchema = Type.Object({
  requestId: Type.String(),
  deviceId: Type.String(),
  decision: Type.Union([Type.Literal("approved"), Type.Literal("rejected")]),
  ts: Type.Integer(),
});
export type PairResolvedEvent = Static<typeof PairResolvedEventSchema>;

/** The payload each device event carries. */
export interface DeviceEventPayloads {
  "device.pair.requested": PendingRequest;
  "device.pair.resolved": PairResolvedEvent;
  "device.pair.changed": Record<string, never>;
}
