/**
 * Device management: list, approve, reject, remove, rename, rotate, revoke and setup-code minting,
 * each one transaction over the store with its audit row. Who may do what is the policy's
 * (`policy/device-management.ts`); this module gathers the facts, asks, and carries out the answer.
 * It sits below the gateway: what it needs from a running gateway (events, closing sessions) comes
 * in through {@link DevicePorts}, so the offline break-glass CLI uses the very same code.
 */
import { randomBytes } from "node:crypto";
import {
  canApprove,
  canReject,
  canRemove,
  canRename,
  canRevoke,
  canRotate,
  canSee,
  type Caller,
  type ManagementCheck,
} from "../policy/device-management.js";
import { missingToMint, profileGrant } from "../policy/setup-codes.js";
import type { GatewayRole } from "../protocol/client-info.js";
import type {
  ApproveResult,
  DeviceEventName,
  DeviceEventPayloads,
  PairedDevice,
  PairList,
  RejectResult,
  RemoveResult,
  RenameResult,
  RevokeResult,
  RotateResult,
  SetupCodeResult,
} from "../protocol/devices.js";
import { GatewayError } from "../protocol/errors.js";
import {
  buildSetupLink,
  formatSetupCode,
  SETUP_CODE_LENGTH,
  setupCodeFromBytes,
  type SetupCodeProfile,
} from "../protocol/setup-code.js";
import { approvePending } from "../store/approve.js";
import type { Store } from "../store/db.js";
import type { DeviceRecord } from "../store/devices.js";
import type { PendingRecord } from "../store/pending.js";
import { knownRoles, pairedPayload, pendingPayload } from "./payloads.js";

/** What device management needs from a running gateway; the offline CLI passes {@link OFFLINE_PORTS}. */
export interface DevicePorts {
  /** Sends a device event to every session holding `operator.pairing`. */
  broadcast<E extends DeviceEventName>(event: E, payload: DeviceEventPayloads[E]): void;
  /** Closes live sessions of a device (all roles when role is null) except `exceptConnId`; returns how many. */
  closeSessions(deviceId: string, role: GatewayRole | null, reason: string, exceptConnId?: string): number;
  /** Is any session of this device open right now? */
  isConnected(deviceId: string): boolean;
}

/** No gateway is running: nobody to tell, nothing to close. */
export const OFFLINE_PORTS: DevicePorts = {
  broadcast() {},
  closeSessions: () => 0,
  isConnected: () => false,
};

/** A setup code to mint: its profile, lifetime, and where devices should dial. */
export interface MintRequest {
  profile: SetupCodeProfile;
  ttlMs: number;
  url: string;
  fingerprint: string | null;
}

/** Device-management operations over one store. */
export class DeviceManager {
  constructor(
    readonly store: Store,
    readonly ownerDeviceId: string,
    private readonly ports: DevicePorts = OFFLINE_PORTS,
    private readonly now: () => number = Date.now,
  ) {}

  /** `device.pair.list`: pending and paired, tokens summarized (never their values). */
  list(caller: Caller): PairList {
    const now = this.now();
    const pending = this.store.pending.list(now).filter((p) => canSee(caller, p.deviceId));
    const paired = this.store.devices.list().filter((d) => canSee(caller, d.deviceId));
    return { pending: pending.map(pendingPayload), paired: paired.map((d) => this.payload(d)) };
  }

  /** `device.pair.approve`: exactly the pending snapshot, bounded by the approver's scopes. */
  approve(caller: Caller, requestId: string, actor: string): ApproveResult {
    const now = this.now();
    const request = this.requirePending(requestId);
    check(canApprove(caller, request), "device pairing approval denied");
    const device = this.store.transaction(() => {
      const d = approvePending(this.store, requestId, "approved", now);
      if (!d) throw unknownRequest();
      this.store.audit.append(
        {
          kind: "approve",
          decision: "approved",
          deviceId: d.deviceId,
          requestId,
          actor,
          scopes: request.scopes,
          role: request.roles.join(","),
        },
        now,
      );
      return d;
    });
    this.ports.broadcast("device.pair.resolved", {
      requestId,
      deviceId: device.deviceId,
      decision: "approved",
      ts: now,
    });
    return { requestId, device: this.payload(device) };
  }

  /** `device.pair.reject`: drops the pending request; the device stays as it was. */
  reject(caller: Caller, requestId: string, actor: string): RejectResult {
    const now = this.now();
    const request = this.requirePending(requestId);
    check(canReject(caller, request), "device pairing rejection denied");
    this.store.transaction(() => {
      this.store.pending.remove(requestId);
      this.store.audit.append(
        { kind: "reject", decision: "rejected", deviceId: request.deviceId, requestId, actor },
        now,
      );
    });
    this.ports.broadcast("device.pair.resolved", {
      requestId,
      deviceId: request.deviceId,
      decision: "rejected",
      ts: now,
    });
    return { requestId, deviceId: request.deviceId };
  }

  /** `device.pair.remove`: the record, its tokens and pending request go; live sessions close 4001. */
  remove(caller: Caller, deviceId: string, actor: string): RemoveResult {
    const now = this.now();
    const device = this.requireDevice(deviceId);
    check(
      canRemove(caller, { ...device, owner: deviceId === this.ownerDeviceId }),
      "device pairing removal denied",
    );
    this.store.transaction(() => {
      this.store.devices.remove(deviceId);
      this.store.audit.append({ kind: "remove", decision: "removed", deviceId, actor }, now);
    });
    this.ports.closeSessions(deviceId, null, "device removed");
    this.ports.broadcast("device.pair.changed", {});
    return { deviceId };
  }

  /** `device.pair.rename`: an owner-set label (1..64 characters). */
  rename(caller: Caller, deviceId: string, label: string, actor: string): RenameResult {
    const now = this.now();
    const device = this.requireDevice(deviceId);
    check(canRename(caller, device), "device rename denied");
    this.store.transaction(() => {
      this.store.devices.rename(deviceId, label);
      this.store.audit.append({ kind: "rename", decision: "renamed", deviceId, actor }, now);
    });
    this.ports.broadcast("device.pair.changed", {});
    return { deviceId, label };
  }

  /**
   * `device.token.rotate`: a new token for (device, role); the old one stops working and that
   * role's other sessions close. The token is returned only to the device itself.
   */
  rotate(
    caller: Caller,
    deviceId: string,
    role: GatewayRole,
    scopes: string[] | undefined,
    actor: string,
    callerConnId?: string,
  ): RotateResult {
    const now = this.now();
    const device = this.requireDevice(deviceId);
    const current = this.store.tokens.list(deviceId).find((t) => t.role === role);
    const newScopes =
      scopes ??
      current?.scopes ??
      device.scopes.filter((s) => s.startsWith(role === "operator" ? "operator." : `${role}.`));
    check(canRotate(caller, device, role, newScopes), "device token rotation denied");
    const token = this.store.transaction(() => {
      const t = this.store.tokens.issue(deviceId, role, newScopes, now);
      this.store.audit.append(
        { kind: "rotate", decision: "rotated", deviceId, role, scopes: newScopes, actor },
        now,
      );
      return t;
    });
    this.ports.closeSessions(deviceId, role, "device token rotated", callerConnId);
    const sameDevice = caller.deviceId === deviceId;
    return {
      deviceId,
      role,
      scopes: newScopes,
      rotatedAtMs: now,
      tokenDelivery: sameDevice ? "in-band" : "withheld-cross-device",
      ...(sameDevice ? { token } : {}),
    };
  }

  /** `device.token.revoke`: the token never admits again; that role's live sessions close 4001. */
  revoke(caller: Caller, deviceId: string, role: GatewayRole, actor: string): RevokeResult {
    const now = this.now();
    this.requireDevice(deviceId);
    const current = this.store.tokens.list(deviceId).find((t) => t.role === role);
    check(
      canRevoke(caller, { deviceId, owner: deviceId === this.ownerDeviceId }, role, current?.scopes ?? []),
      "device token revocation denied",
    );
    this.store.transaction(() => {
      if (current) this.store.tokens.revoke(deviceId, role, now);
      else this.store.tokens.issueRevoked(deviceId, role, now);
      this.store.audit.append({ kind: "revoke", decision: "revoked", deviceId, role, actor }, now);
    });
    this.ports.closeSessions(deviceId, role, "device token revoked");
    return { deviceId, role, revokedAtMs: now };
  }

  /**
   * `device.pair.setupCode`: a single-use code that pre-approves one device with `profile`. The
   * cleartext goes back to this caller only; the store keeps its hash.
   */
  mintSetupCode(caller: Caller, request: MintRequest, actor: string): SetupCodeResult {
    const { profile, url, fingerprint } = request;
    const missing = missingToMint(caller.scopes, profile);
    if (missing.length > 0) {
      throw new GatewayError("MISSING_SCOPE", {
        message: `missing scope: ${missing[0]} (a ${profile} setup code never grants more than its minter holds)`,
        details: { missingScope: missing[0], requiredScopes: missing },
      });
    }
    const grant = profileGrant(profile);
    const now = this.now();
    const expiresAtMs = now + request.ttlMs;
    const code = setupCodeFromBytes(randomBytes(SETUP_CODE_LENGTH));
    const store = this.store;
    store.transaction(() => {
      store.setupCodes.prune(now);
      store.setupCodes.create({
        code,
        profile,
        roles: grant.roles,
        scopes: grant.scopes,
        gatewayUrl: url,
        fingerprint,
        createdBy: actor,
        createdAtMs: now,
        expiresAtMs,
      });
      store.audit.append(
        {
          kind: "setup-code",
          decision: "minted",
          actor,
          role: grant.roles.join(","),
          scopes: grant.scopes,
          reason: profile,
        },
        now,
      );
    });
    return {
      code: formatSetupCode(code),
      link: buildSetupLink({ code, url, fingerprint, profile }),
      profile,
      roles: knownRoles(grant.roles),
      scopes: grant.scopes,
      url,
      fingerprint,
      createdAtMs: now,
      expiresAtMs,
    };
  }

  private requirePending(requestId: string): PendingRecord {
    const p = this.store.pending.get(requestId, this.now());
    if (!p) throw unknownRequest();
    return p;
  }

  private requireDevice(deviceId: string): DeviceRecord {
    const d = this.store.devices.get(deviceId);
    if (!d) throw new GatewayError("INVALID_PARAMS", { message: "unknown deviceId", details: { deviceId } });
    return d;
  }

  private payload(d: DeviceRecord): PairedDevice {
    return pairedPayload(d, this.store.tokens.list(d.deviceId), {
      owner: d.deviceId === this.ownerDeviceId,
      connected: this.ports.isConnected(d.deviceId),
    });
  }
}

function unknownRequest(): GatewayError {
  return new GatewayError("INVALID_PARAMS", {
    message: "unknown requestId (it may have expired, been superseded by a newer request, or been resolved)",
  });
}

function check(result: ManagementCheck, message: string): void {
  if (result.ok) return;
  throw new GatewayError(result.missingScope ? "MISSING_SCOPE" : "FORBIDDEN_ACTION", {
    message: `${message}: ${result.reason}`,
    details: result.missingScope
      ? { missingScope: result.missingScope, requiredScopes: [result.missingScope] }
      : {},
  });
}
