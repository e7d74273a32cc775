/**
 * Device management: list, approve, reject, remove, rename, rotate, revoke and setup-code minting,
 * each one transaction over the store with its audit row. Who may do what is the policy's
 * (`policy/device-management.ts`); this module gathers the facts, asks, and carries out the answer.
 * It sits below the gateway: what it needs from a running gateway (events, closing sessions) comes
 * in through {@link DevicePorts}, so the offline break-glass CLI uses the very same code.
 */
import { randomBytes } from "node:crypto";
import {
  decideManagement,
  denialReason,
  type ManagementAction,
  type ManagementDecision,
  type TargetDevice,
} from "../policy/device-management.js";
import { grantSource, grantSourceKey } from "../policy/authority.js";
import { managementRuleSentence, type ManagementRuleId } from "../policy/management-rules.js";
import { profileGrant } from "../policy/setup-codes.js";
import type { GatewayRole } from "../protocol/client-info.js";
import { decideSurfaceApproval } from "../policy/node-surface.js";
import type {
  ApproveResult,
  PairedDevice,
  PairList,
  RejectResult,
  RemoveResult,
  RenameResult,
  RetireEntry,
  RetireResult,
  RevokeResult,
  RotateResult,
  SetupCodeResult,
} from "../protocol/devices.js";
import { GatewayError } from "../protocol/errors.js";
import { ALL_OPERATOR_SCOPES } from "../protocol/scopes.js";
import {
  buildSetupLink,
  formatSetupCode,
  SETUP_CODE_LENGTH,
  setupCodeFromBytes,
  type SetupCodeProfile,
} from "../protocol/setup-code.js";
import { approvePending } from "../store/approve.js";
import type { Store } from "../store/db.js";
import type { ApprovedVia, DeviceRecord } from "../store/devices.js";
import { sameKey } from "../store/keys.js";
import type { PendingRecord } from "../store/pending.js";
import { shownName } from "./naming.js";
import { NodeSurfaceManager } from "./node-surfaces.js";
import { knownRoles, pairedPayload, pendingPayload } from "./payloads.js";
import {
  OFFLINE_PORTS,
  type CloseSelector,
  type DevicePorts,
  type ManagementCaller,
  type PairingEventPayloads,
} from "./ports.js";

export {
  OFFLINE_PORTS,
  type CloseSelector,
  type DevicePorts,
  type ManagementCaller,
  type PairingEventPayloads,
};

/** A setup code to mint: its profile, lifetime, and where devices should dial. */
export interface MintRequest {
  profile: SetupCodeProfile;
  ttlMs: number;
  url: string;
  fingerprint: string | null;
}

/** How an audit row names the caller: its actor, and the proxy user when there is one. */
function auditActor(caller: ManagementCaller): string {
  return caller.proxyUser ? `${caller.actor} proxy-user:${caller.proxyUser}` : caller.actor;
}

/**
 * Whoever opened the state dir (the offline break-glass CLI) is the owner: every operator scope, no
 * device of its own; audit rows name it `cli-offline`.
 */
export const STATE_DIR_OWNER: ManagementCaller = {
  authority: { scopes: ALL_OPERATOR_SCOPES, deviceId: null, proof: "state-dir", onHost: true },
  actor: "cli-offline",
};

const DENIED: Readonly<Record<ManagementAction["kind"], string>> = {
  see: "device pairing list denied",
  approve: "device pairing approval denied",
  reject: "device pairing rejection denied",
  remove: "device pairing removal denied",
  rename: "device rename denied",
  rotate: "device token rotation denied",
  revoke: "device token revocation denied",
  "mint-setup-code": "setup code denied",
  "retire-stale-browser": "retiring a browser device denied",
};

const DAY_MS = 86_400_000;

/** Device-management operations over one store. */
export class DeviceManager {
  /** `node.pair.*`: the node command surfaces of these devices. */
  readonly nodes: NodeSurfaceManager;

  constructor(
    readonly store: Store,
    readonly ownerDeviceId: string,
    private readonly ports: DevicePorts = OFFLINE_PORTS,
    private readonly now: () => number = Date.now,
  ) {
    this.nodes = new NodeSurfaceManager(this, store, ports, now);
  }

  /** May `caller` see (and so name) this device at all? A device-token session sees only its own. */
  maySee(caller: ManagementCaller, deviceId: string): boolean {
    return decideManagement(caller.authority, this.stub(deviceId), { kind: "see" }).allow;
  }

  /** How a paired device's approval came about ("silent", "approved", ...); null when it is not paired. */
  approvedVia(deviceId: string): ApprovedVia | null {
    return this.store.devices.get(deviceId)?.approvedVia ?? null;
  }

  /** `device.pair.list`: pending and paired, tokens summarized (never their values). */
  list(caller: ManagementCaller): PairList {
    const now = this.now();
    const may = (deviceId: string) => this.maySee(caller, deviceId);
    const pending = this.store.pending.list(now).filter((p) => may(p.deviceId));
    const paired = this.store.devices.list().filter((d) => may(d.deviceId));
    const labels = new Map(paired.map((d) => [d.deviceId, d.label]));
    return {
      pending: pending.map((p) => pendingPayload(p, labels.get(p.deviceId) ?? null)),
      paired: paired.map((d) => this.payload(d)),
    };
  }

  /** `device.pair.approve`: exactly the pending snapshot, bounded by the approver's scopes. */
  approve(caller: ManagementCaller, requestId: string): ApproveResult {
    const now = this.now();
    const request = this.requirePending(requestId);
    const record = this.store.devices.get(request.deviceId);
    const decision = this.decide(caller, record ? this.target(record) : null, {
      kind: "approve",
      request: {
        deviceId: request.deviceId,
        roles: request.roles,
        scopes: request.scopes,
        sameKeyAsRecord: record !== null && sameKey(record.publicKey, request.publicKey),
      },
    });
    // A node request's declared commands are pinned with it: the approver must cover that surface too.
    const surface =
      request.roles.includes("node") && request.commands !== null
        ? decideSurfaceApproval(
            {
              scopes: caller.authority.scopes,
              deviceId: caller.authority.deviceId,
              proof: caller.authority.proof,
            },
            request.deviceId,
            request.commands,
          )
        : null;
    if (surface && !surface.allow) {
      throw new GatewayError(surface.code, {
        message: `${DENIED.approve}: the node's declared commands need ${surface.requiredScopes.join(" + ")}`,
        details: {
          rule: surface.rule,
          requiredScopes: surface.requiredScopes,
          ...(surface.missingScopes.length > 0 ? { missingScope: surface.missingScopes[0] } : {}),
        },
      });
    }
    const device = this.store.transaction(() => {
      const d = approvePending(this.store, requestId, "approved", now, caller.actor);
      if (!d) throw unknownRequest();
      this.store.audit.append(
        {
          kind: "approve",
          decision: "approved",
          deviceId: d.deviceId,
          requestId,
          actor: auditActor(caller),
          scopes: request.scopes,
          role: request.roles,
          trace: [...decision.trace, ...(surface?.trace ?? [])],
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
  reject(caller: ManagementCaller, requestId: string): RejectResult {
    const now = this.now();
    const request = this.requirePending(requestId);
    const record = this.store.devices.get(request.deviceId);
    const decision = this.decide(caller, record ? this.target(record) : null, {
      kind: "reject",
      request: {
        deviceId: request.deviceId,
        roles: request.roles,
        scopes: request.scopes,
        sameKeyAsRecord: false,
      },
    });
    this.store.transaction(() => {
      this.store.pending.remove(requestId);
      this.store.audit.append(
        {
          kind: "reject",
          decision: "rejected",
          deviceId: request.deviceId,
          requestId,
          actor: auditActor(caller),
          trace: decision.trace,
        },
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
  remove(caller: ManagementCaller, deviceId: string): RemoveResult {
    const now = this.now();
    const device = this.requireDevice(deviceId);
    const decision = this.decide(caller, this.target(device), { kind: "remove" });
    const reason = `device ${deviceId} was removed`;
    const disabledJobs = this.store.transaction(() => {
      this.store.devices.remove(deviceId);
      const jobs = this.endDerived(deviceId, reason, now);
      this.store.audit.append(
        { kind: "remove", decision: "removed", deviceId, actor: auditActor(caller), trace: decision.trace },
        now,
      );
      return jobs;
    });
    this.ports.closeSessions({ deviceId, role: null }, "device removed");
    this.ports.authorityRevoked(deviceId, reason, disabledJobs);
    this.ports.broadcast("device.pair.changed", {});
    return { deviceId };
  }

  /**
   * `device.pair.retireStale`: removes, in one transaction, every browser device the policy finds
   * idle for `idleDays` with no live session (never the caller's own, never the owner); with
   * `dryRun`, only says which. Each kept browser device comes back with the rule that kept it.
   */
  retireStaleBrowsers(caller: ManagementCaller, idleDays: number, dryRun: boolean): RetireResult {
    const now = this.now();
    const retired: Array<RetireEntry & { trace: ManagementRuleId[] }> = [];
    const kept: RetireEntry[] = [];
    for (const d of this.store.devices.list()) {
      const facts = {
        clientId: d.clientId,
        clientMode: d.clientMode,
        connected: this.ports.isConnected(d.deviceId),
        lastActiveAtMs: d.lastSeenAtMs ?? d.approvedAtMs,
        nowMs: now,
        idleLimitMs: idleDays * DAY_MS,
      };
      const decision = decideManagement(caller.authority, this.target(d), {
        kind: "retire-stale-browser",
        device: facts,
      });
      const entry = {
        deviceId: d.deviceId,
        name: shownName(d.label, d.displayName) || d.clientId || d.deviceId.slice(0, 12),
        lastActiveAtMs: facts.lastActiveAtMs,
      };
      if (decision.allow) retired.push({ ...entry, trace: decision.trace });
      else if (decision.rule !== "manage-retire-not-browser")
        kept.push({ ...entry, rule: decision.rule, reason: denialReason(decision, managementRuleSentence) });
    }
    if (!dryRun && retired.length > 0) {
      const ended = this.store.transaction(() =>
        retired.map((r) => {
          const reason = `browser device ${r.deviceId} was retired (idle ${idleDays} days)`;
          this.store.devices.remove(r.deviceId);
          const jobs = this.endDerived(r.deviceId, reason, now);
          this.store.audit.append(
            {
              kind: "retire",
              decision: "removed",
              reason: "stale-browser",
              deviceId: r.deviceId,
              actor: caller.actor,
              trace: r.trace,
            },
            now,
          );
          return { deviceId: r.deviceId, reason, jobs };
        }),
      );
      for (const e of ended) {
        this.ports.closeSessions({ deviceId: e.deviceId, role: null }, "device retired");
        this.ports.authorityRevoked(e.deviceId, e.reason, e.jobs);
      }
      this.ports.broadcast("device.pair.changed", {});
    }
    return {
      idleDays,
      dryRun,
      retired: retired.map(({ trace: _trace, ...entry }) => entry),
      kept,
    };
  }

  /** `device.pair.rename`: an owner-set label (1..64 characters). */
  rename(caller: ManagementCaller, deviceId: string, label: string): RenameResult {
    const now = this.now();
    const device = this.requireDevice(deviceId);
    const decision = this.decide(caller, this.target(device), { kind: "rename" });
    this.store.transaction(() => {
      this.store.devices.rename(deviceId, label);
      this.store.audit.append(
        { kind: "rename", decision: "renamed", deviceId, actor: auditActor(caller), trace: decision.trace },
        now,
      );
    });
    this.ports.broadcast("device.pair.changed", {});
    return { deviceId, label };
  }

  /**
   * `device.token.rotate`: a new token for (device, role); the old one stops working and the
   * sessions that authenticated with it close. The token is returned only to the device itself.
   */
  rotate(
    caller: ManagementCaller,
    deviceId: string,
    role: GatewayRole,
    scopes: string[] | undefined,
  ): RotateResult {
    const now = this.now();
    const device = this.requireDevice(deviceId);
    const decision = this.decide(caller, this.target(device), {
      kind: "rotate",
      role,
      ...(scopes !== undefined ? { scopes } : {}),
    });
    const newScopes = decision.tokenScopes ?? [];
    const token = this.store.transaction(() => {
      const t = this.store.tokens.issue(deviceId, role, newScopes, now);
      this.store.audit.append(
        {
          kind: "rotate",
          decision: "rotated",
          deviceId,
          role,
          scopes: newScopes,
          actor: auditActor(caller),
          trace: decision.trace,
        },
        now,
      );
      return t;
    });
    this.ports.closeSessions(
      { deviceId, role, tokenSessionsOnly: true, ...(caller.connId ? { exceptConnId: caller.connId } : {}) },
      "device token rotated",
    );
    // Never the token itself: approvers' lists learn only that the device changed.
    this.ports.broadcast("device.pair.changed", {});
    const sameDevice = caller.authority.deviceId === deviceId;
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
  revoke(caller: ManagementCaller, deviceId: string, role: GatewayRole): RevokeResult {
    const now = this.now();
    const device = this.requireDevice(deviceId);
    const decision = this.decide(caller, this.target(device), { kind: "revoke", role });
    const current = this.store.tokens.list(deviceId).find((t) => t.role === role);
    // Work the device started rests on its operator role: that role's end is the device's end for it.
    const cascades = role === "operator";
    const reason = `the operator role of device ${deviceId} was revoked`;
    const disabledJobs = this.store.transaction(() => {
      if (current) this.store.tokens.revoke(deviceId, role, now);
      else this.store.tokens.issueRevoked(deviceId, role, now);
      // The node role's end is its command surface's end: a new approval pins a new one.
      if (role === "node") this.store.nodeSurfaces.clear(deviceId);
      const jobs = cascades ? this.endDerived(deviceId, reason, now) : [];
      this.store.audit.append(
        {
          kind: "revoke",
          decision: "revoked",
          deviceId,
          role,
          actor: auditActor(caller),
          trace: decision.trace,
        },
        now,
      );
      return jobs;
    });
    this.ports.closeSessions({ deviceId, role }, "device token revoked");
    if (cascades) this.ports.authorityRevoked(deviceId, reason, disabledJobs);
    this.ports.broadcast("device.pair.changed", {});
    return { deviceId, role, revokedAtMs: now };
  }

  /**
   * `device.pair.setupCode`: a single-use code that pre-approves one device with `profile`. The
   * cleartext goes back to this caller only; the store keeps its hash.
   */
  mintSetupCode(caller: ManagementCaller, request: MintRequest): SetupCodeResult {
    const { profile, url, fingerprint } = request;
    const decision = this.decide(caller, null, { kind: "mint-setup-code", profile });
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
        createdBy: mintedBy(caller),
        createdAtMs: now,
        expiresAtMs,
      });
      store.audit.append(
        {
          kind: "setup-code",
          decision: "minted",
          actor: auditActor(caller),
          role: grant.roles,
          scopes: grant.scopes,
          reason: profile,
          trace: decision.trace,
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

  /**
   * Ends in the store what rests on a device's authority: its sessions' runtime tokens, the setup
   * codes it minted, and its cron jobs (disabled with `reason`). Returns the disabled jobs' ids.
   * Call inside the transaction that revokes or removes the device.
   */
  private endDerived(deviceId: string, reason: string, now: number): string[] {
    this.store.runtimeTokens.revokeByAuthority(deviceId, now);
    this.store.setupCodes.revokeCreatedBy(grantSourceKey({ kind: "device", deviceId }), now);
    return this.store.cron.disableByCreator(deviceId, reason, now);
  }

  /** Asks the policy; a refusal becomes the typed error the caller sees. */
  private decide(
    caller: ManagementCaller,
    target: TargetDevice | null,
    action: ManagementAction,
  ): Extract<ManagementDecision, { allow: true }> {
    const decision = decideManagement(caller.authority, target, action);
    if (decision.allow) return decision;
    throw refusal(DENIED[action.kind], decision);
  }

  /** The policy's view of a stored device. */
  private target(d: DeviceRecord): TargetDevice {
    return {
      deviceId: d.deviceId,
      owner: d.deviceId === this.ownerDeviceId,
      roles: d.roles,
      scopes: d.scopes,
      tokens: this.store.tokens.states(d.deviceId),
    };
  }

  /** Enough of a device for `see`, which depends only on whose it is. */
  private stub(deviceId: string): TargetDevice {
    return { deviceId, owner: deviceId === this.ownerDeviceId, roles: [], scopes: [], tokens: {} };
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

/** MISSING_SCOPE (with what is missing) or FORBIDDEN_ACTION, naming the rule that refused. */
function refusal(what: string, decision: Extract<ManagementDecision, { allow: false }>): GatewayError {
  const missing = decision.missingScopes;
  return new GatewayError(decision.code, {
    message: `${what}: ${denialReason(decision, managementRuleSentence)}`,
    details: {
      rule: decision.rule,
      ...(missing.length > 0 ? { missingScope: missing[0], requiredScopes: [...missing] } : {}),
    },
  });
}

/** The key a minted setup code is recorded under: the source it rests on (the policy's), or the actor of a root. */
function mintedBy(caller: ManagementCaller): string {
  const source = grantSource({
    proof: caller.authority.proof,
    deviceId: caller.authority.deviceId,
    runtimeJobId: caller.runtimeJobId ?? null,
  });
  return source.kind === "root" ? caller.actor : grantSourceKey(source);
}
