/**
 * Who may approve, reject, remove, rename, rotate and revoke what (reference §6.1, C09, C10, S46).
 * Nobody grants beyond their own scopes; managing the node role needs admin; a device never
 * approves its own request over the network.
 */
import { OPERATOR_SCOPES } from "../protocol/scopes.js";
import { missingScopes, scopeSatisfied } from "./scopes.js";

export interface Caller {
  scopes: readonly string[];
  /** The caller's own device, when it connected with one. */
  deviceId: string | null;
  /** Authenticated by a device token (not owner key or shared secret): limited to its own device. */
  viaDeviceToken: boolean;
}

export type ManagementDenial = { ok: false; reason: string; missingScope?: string };
export type ManagementCheck = { ok: true } | ManagementDenial;

const OK: ManagementCheck = { ok: true };
const isAdmin = (c: Caller) => scopeSatisfied(c.scopes, OPERATOR_SCOPES.admin);

function needAdminForNode(caller: Caller, roles: readonly string[]): ManagementCheck {
  if (roles.some((r) => r !== "operator") && !isAdmin(caller)) {
    return {
      ok: false,
      reason: "managing the node role requires operator.admin",
      missingScope: OPERATOR_SCOPES.admin,
    };
  }
  return OK;
}

/** Operator (and unknown) scopes must be held by the caller; node.* scopes are gated by admin instead. */
function withinCaller(caller: Caller, scopes: readonly string[]): ManagementCheck {
  const missing = missingScopes(
    caller.scopes,
    scopes.filter((s) => !s.startsWith("node.")),
  );
  if (missing.length > 0) {
    return { ok: false, reason: `caller lacks ${missing.join(", ")}`, missingScope: missing[0] };
  }
  return OK;
}

function ownDeviceOnly(caller: Caller, targetDeviceId: string): ManagementCheck {
  if (caller.viaDeviceToken && !isAdmin(caller) && caller.deviceId !== targetDeviceId) {
    return {
      ok: false,
      reason: "a device-token session without operator.admin may only manage its own device",
    };
  }
  return OK;
}

/** May the caller see this device in `device.pair.list`? */
export function canSee(caller: Caller, deviceId: string): boolean {
  return ownDeviceOnly(caller, deviceId).ok;
}

/** Approving grants exactly the request's roles and scopes; the approver must already hold them. */
export function canApprove(
  caller: Caller,
  request: { deviceId: string; roles: readonly string[]; scopes: readonly string[] },
): ManagementCheck {
  const own = ownDeviceOnly(caller, request.deviceId);
  if (!own.ok) return own;
  if (caller.deviceId !== null && caller.deviceId === request.deviceId) {
    return {
      ok: false,
      reason:
        "a device cannot approve its own request; approve it from the gateway host or another authorized device",
    };
  }
  const node = needAdminForNode(caller, request.roles);
  if (!node.ok) return node;
  return withinCaller(caller, request.scopes);
}

/** Rejecting needs only the pairing scope, but node requests need admin like approving them. */
export function canReject(
  caller: Caller,
  request: { deviceId: string; roles: readonly string[] },
): ManagementCheck {
  const own = ownDeviceOnly(caller, request.deviceId);
  if (!own.ok) return own;
  return needAdminForNode(caller, request.roles);
}

/** Removing a device: the caller must cover what the device was approved for. */
export function canRemove(
  caller: Caller,
  device: { deviceId: string; roles: readonly string[]; scopes: readonly string[]; owner: boolean },
): ManagementCheck {
  if (device.owner) return { ok: false, reason: "the gateway owner device cannot be removed" };
  const own = ownDeviceOnly(caller, device.deviceId);
  if (!own.ok) return own;
  if (caller.deviceId === device.deviceId) return OK;
  const node = needAdminForNode(caller, device.roles);
  if (!node.ok) return node;
  return withinCaller(caller, device.scopes);
}

/** Renaming changes no rights, but node devices still need admin. */
export function canRename(
  caller: Caller,
  device: { deviceId: string; roles: readonly string[] },
): ManagementCheck {
  const own = ownDeviceOnly(caller, device.deviceId);
  if (!own.ok) return own;
  return needAdminForNode(caller, device.roles);
}

/**
 * Rotation never widens: the role must be approved, the new scopes within the approved baseline and,
 * for operator tokens, within the caller's own scopes (C09).
 */
export function canRotate(
  caller: Caller,
  device: { deviceId: string; roles: readonly string[]; scopes: readonly string[] },
  role: string,
  newScopes: readonly string[],
): ManagementCheck {
  if (!device.roles.includes(role))
    return { ok: false, reason: `role ${role} is not approved for this device` };
  const own = ownDeviceOnly(caller, device.deviceId);
  if (!own.ok) return own;
  const node = needAdminForNode(caller, [role]);
  if (!node.ok) return node;
  const outside = missingScopes(device.scopes, newScopes);
  if (outside.length > 0)
    return { ok: false, reason: `scopes outside the approved baseline: ${outside.join(", ")}` };
  return role === "operator" ? withinCaller(caller, newScopes) : OK;
}

/** Revoking: pairing-only callers cannot revoke tokens that carry more than they hold (C09). */
export function canRevoke(
  caller: Caller,
  device: { deviceId: string; owner?: boolean },
  role: string,
  tokenScopes: readonly string[],
): ManagementCheck {
  // The owner proves itself with its key and holds no token whose scopes could bound the caller.
  if (device.owner) return { ok: false, reason: "the gateway owner device's roles cannot be revoked" };
  const own = ownDeviceOnly(caller, device.deviceId);
  if (!own.ok) return own;
  if (caller.deviceId === device.deviceId) return OK;
  const node = needAdminForNode(caller, [role]);
  if (!node.ok) return node;
  return role === "operator" ? withinCaller(caller, tokenScopes) : OK;
}
