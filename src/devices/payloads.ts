/** Store records shaped as the wire's `device.pair.*` payloads (never a token or its hash). */
import { isExecCapableCommand, nodeRequestApproveScopes } from "../policy/node-surface.js";
import { isGatewayRole, type GatewayRole } from "../protocol/client-info.js";
import type { PairedDevice, PendingRequest, TokenSummary } from "../protocol/devices.js";
import type { DeviceRecord } from "../store/devices.js";
import type { PendingRecord } from "../store/pending.js";
import type { TokenRecord } from "../store/tokens.js";
import { shownName } from "./naming.js";

/** The roles of a record that this gateway knows; anything else stored is not shown as a role. */
export function knownRoles(roles: readonly string[]): GatewayRole[] {
  return roles.filter(isGatewayRole);
}

/**
 * The `device.pair.requested` payload: the pending request as OpenClaw shapes it, named by the
 * owner's label of the paired device asking again ({@link shownName}). A request presenting another
 * key is not proven to be that device, so it keeps the name it declared.
 */
export function pendingPayload(p: PendingRecord, label: string | null): PendingRequest {
  const roles = knownRoles(p.roles);
  return {
    requestId: p.requestId,
    deviceId: p.deviceId,
    publicKey: p.publicKey,
    reason: p.reason,
    roles,
    role: roles.length === 1 ? roles[0] : undefined,
    scopes: p.scopes,
    displayName: shownName(p.reason === "key-changed" ? null : label, p.displayName) ?? undefined,
    clientId: p.clientId ?? undefined,
    clientMode: p.clientMode ?? undefined,
    platform: p.platform ?? undefined,
    deviceFamily: p.deviceFamily ?? undefined,
    remoteIp: p.remoteIp ?? undefined,
    browserOrigin: p.browserOrigin ?? undefined,
    isRepair: p.isRepair,
    ...(p.commands !== null && p.roles.includes("node")
      ? {
          commands: [...p.commands],
          requiredApproveScopes: nodeRequestApproveScopes(p.scopes),
          execCommands: p.commands.filter(isExecCapableCommand),
        }
      : {}),
    ts: p.createdAtMs,
    refreshedAtMs: p.refreshedAtMs,
    expiresAtMs: p.expiresAtMs,
  };
}

/** A token slot as listed: its state and scopes, sorted by role. */
export function tokenSummaries(tokens: readonly TokenRecord[]): TokenSummary[] {
  const out: TokenSummary[] = [];
  for (const t of [...tokens].sort((a, b) => a.role.localeCompare(b.role))) {
    if (!isGatewayRole(t.role)) continue;
    out.push({
      role: t.role,
      scopes: t.scopes,
      createdAtMs: t.createdAtMs,
      rotatedAtMs: t.rotatedAtMs,
      revokedAtMs: t.revokedAtMs,
      lastUsedAtMs: t.lastUsedAtMs,
    });
  }
  return out;
}

/** A paired device with its token summaries and whether a session of it is open. */
export function pairedPayload(
  d: DeviceRecord,
  tokens: readonly TokenRecord[],
  facts: { owner: boolean; connected: boolean },
): PairedDevice {
  return {
    deviceId: d.deviceId,
    publicKey: d.publicKey,
    displayName: d.displayName,
    label: d.label,
    clientId: d.clientId,
    clientMode: d.clientMode,
    platform: d.platform,
    deviceFamily: d.deviceFamily,
    roles: knownRoles(d.roles),
    scopes: d.scopes,
    approvedVia: d.approvedVia,
    owner: facts.owner,
    createdAtMs: d.createdAtMs,
    approvedAtMs: d.approvedAtMs,
    lastSeenAtMs: d.lastSeenAtMs,
    lastSeenIp: d.lastSeenIp,
    tokens: tokenSummaries(tokens),
    connected: facts.connected,
  };
}
