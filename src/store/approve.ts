/**
 * Approval: the one place a device's approved roles and scopes grow. Each function is a single
 * transaction, so what was checked (the stored key, the pending snapshot) is what gets written.
 */
import type { GatewayRole } from "../protocol/client-info.js";
import { ALL_OPERATOR_SCOPES } from "../protocol/scopes.js";
import { normalizeSet, unionSet } from "./codec.js";
import type { Store } from "./db.js";
import type { ApprovedVia, DeviceRecord } from "./devices.js";
import { sameKey } from "./keys.js";

/** What an approval grants to which key. Metadata left undefined (or null) keeps the stored pin. */
export interface ApprovalInput {
  deviceId: string;
  publicKey: string;
  roles: readonly GatewayRole[];
  scopes: readonly string[];
  displayName?: string | null;
  clientId?: string | null;
  clientMode?: string | null;
  platform?: string | null;
  deviceFamily?: string | null;
  approvedVia: ApprovedVia;
  nowMs: number;
}

/** Roles the gateway host's owner key holds. */
export const OWNER_ROLES: readonly GatewayRole[] = ["node", "operator"];

/**
 * Approves `input` for its device. Same key as stored: roles and scopes are unioned with what was
 * approved before. Different key or no record: the record is replaced and nothing of the old
 * identity survives, tokens included (C15). The device's pending request and the revoked token
 * slots of the approved roles are cleared, so its next connect is issued fresh tokens.
 */
export function approveDevice(store: Store, input: ApprovalInput): DeviceRecord {
  return store.transaction(() => {
    const existing = store.devices.get(input.deviceId);
    const keep = existing !== null && sameKey(existing.publicKey, input.publicKey) ? existing : null;
    if (existing && !keep) {
      for (const t of store.tokens.list(input.deviceId)) store.tokens.deleteRole(input.deviceId, t.role);
      store.nodeSurfaces.clear(input.deviceId);
    }
    const record: DeviceRecord = {
      deviceId: input.deviceId,
      publicKey: keep ? keep.publicKey : input.publicKey,
      displayName: input.displayName ?? keep?.displayName ?? null,
      label: keep?.label ?? null,
      clientId: input.clientId ?? keep?.clientId ?? null,
      clientMode: input.clientMode ?? keep?.clientMode ?? null,
      platform: input.platform ?? keep?.platform ?? null,
      deviceFamily: input.deviceFamily ?? keep?.deviceFamily ?? null,
      roles: keep ? unionSet(keep.roles, input.roles) : normalizeSet(input.roles),
      scopes: keep ? unionSet(keep.scopes, input.scopes) : normalizeSet(input.scopes),
      approvedVia: input.approvedVia,
      createdAtMs: keep?.createdAtMs ?? input.nowMs,
      approvedAtMs: input.nowMs,
      lastSeenAtMs: keep?.lastSeenAtMs ?? null,
      lastSeenIp: keep?.lastSeenIp ?? null,
    };
    store.devices.upsert(record);
    store.pending.removeForDevice(input.deviceId);
    const states = store.tokens.states(input.deviceId);
    // Scopes newly approved reach the live tokens too, or a token-only client would be refused
    // (AUTH_SCOPE_MISMATCH) for exactly what was just approved. A narrowed token stays narrow otherwise.
    const added = record.scopes.filter((s) => !(keep?.scopes ?? []).includes(s));
    for (const role of input.roles) {
      const state = states[role];
      if (!state) continue;
      if (state.revoked) {
        store.tokens.deleteRole(input.deviceId, role);
        continue;
      }
      const prefix = role === "operator" ? "operator." : `${role}.`;
      const grown = added.filter((s) => s.startsWith(prefix) && !state.scopes.includes(s));
      if (grown.length > 0) store.tokens.setScopes(input.deviceId, role, unionSet(state.scopes, grown));
    }
    return record;
  });
}

/**
 * Approves exactly the snapshot of a live pending request. Null when the id is unknown, expired,
 * superseded or already resolved: approving by id never approves some other request. A request for
 * the node role that recorded the node's declared commands pins them as its command surface:
 * the approver was shown them, and approving a node role already takes operator.admin.
 */
export function approvePending(
  store: Store,
  requestId: string,
  approvedVia: ApprovedVia,
  nowMs: number,
  approvedBy: string | null = null,
): DeviceRecord | null {
  return store.transaction(() => {
    const p = store.pending.get(requestId, nowMs);
    if (!p) return null;
    const record = approveDevice(store, {
      deviceId: p.deviceId,
      publicKey: p.publicKey,
      roles: p.roles,
      scopes: p.scopes,
      displayName: p.displayName,
      clientId: p.clientId,
      clientMode: p.clientMode,
      platform: p.platform,
      deviceFamily: p.deviceFamily,
      approvedVia,
      nowMs,
    });
    if (p.roles.includes("node") && p.commands !== null) {
      store.nodeSurfaces.pin(p.deviceId, p.commands, "device-approval", approvedBy, nowMs);
    }
    return record;
  });
}

/**
 * Makes sure the gateway host's owner key is paired with both roles and every operator scope.
 * `created` is true when a record was (re)created; an existing owner record only gains roles or
 * scopes it lacks (a newer version may add operator scopes), nothing is taken away.
 */
export function ensureOwner(
  store: Store,
  owner: { deviceId: string; publicKey: string },
  nowMs: number,
): { created: boolean } {
  return store.transaction(() => {
    const existing = store.devices.get(owner.deviceId);
    if (!existing || !sameKey(existing.publicKey, owner.publicKey)) {
      approveDevice(store, {
        deviceId: owner.deviceId,
        publicKey: owner.publicKey,
        roles: OWNER_ROLES,
        scopes: ALL_OPERATOR_SCOPES,
        displayName: "gateway owner",
        approvedVia: "owner",
        nowMs,
      });
      return { created: true };
    }
    const roles = unionSet(existing.roles, OWNER_ROLES);
    const scopes = unionSet(existing.scopes, ALL_OPERATOR_SCOPES);
    if (roles.length !== existing.roles.length || scopes.length !== existing.scopes.length) {
      store.devices.upsert({ ...existing, roles, scopes });
    }
    return { created: false };
  });
}
