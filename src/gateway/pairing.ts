/**
 * Applies admission decisions to the store, one transaction each, and tells the rest of the gateway
 * what changed (events). The rules themselves live in the pure policy; this file only gathers facts
 * and carries out what was decided. Device management (approve, revoke, ...) is `src/devices/`.
 */
import type { Decision, DeviceTokenCheck, PendingFacts, StoredDeviceFacts } from "../policy/admission.js";
import { pendingPayload } from "../devices/payloads.js";
import type { GatewayErrorCode } from "../protocol/errors.js";
import { normalizeSetupCode } from "../protocol/setup-code.js";
import { approveDevice } from "../store/approve.js";
import type { Store } from "../store/db.js";
import { hashSetupCode, type SetupCodeLookup } from "../store/setup-codes.js";
import { RateLimiter } from "./rate-limit.js";

/** Limits on pending requests so a flood cannot fill the store (C18). */
export interface PendingLimits {
  ttlMs: number;
  total: number;
  perIp: number;
}

/** What the gateway must do beyond the store when a connect changes pairing state. */
export interface PairingHooks {
  /** Sends an event to every session holding `scope`. */
  broadcast(event: string, payload: unknown, scope: string): void;
}

/** The device a connect proved, with the metadata it claims. */
export interface ProvenDevice {
  deviceId: string;
  publicKey: string;
  platform: string;
  deviceFamily: string;
  displayName: string | null;
  clientId: string;
  clientMode: string;
}

export interface ConnectContext {
  device: ProvenDevice;
  role: string;
  peer: string | null;
  client: string;
  /** Hash of the setup code this connect presented, redeemed when the decision rests on it. */
  setupCodeHash?: string | null;
}

/** Result of applying a device decision. */
export type Applied =
  | { ok: true; scopes: string[]; deviceToken?: { token: string; issuedAtMs: number; scopes: string[] } }
  | { ok: false; requestId: string | null; full: boolean; code?: GatewayErrorCode };

/** Throttle for last-seen/last-used writes: a reconnect storm must not turn every handshake into a write. */
const TOUCH_INTERVAL_MS = 60_000;
/** Admit rows change no state, so they are written in batches off the handshake's path. */
const AUDIT_FLUSH_MS = 50;
const AUDIT_BATCH_MAX = 500;

type AuditEntry = Parameters<Store["audit"]["append"]>[0];

/** Applies connect decisions for one gateway. */
export class PairingService {
  private readonly lastMarked = new Map<string, number>();
  private auditQueue: Array<{ entry: AuditEntry; ts: number }> = [];
  private auditTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly store: Store,
    readonly ownerDeviceId: string,
    private readonly limits: PendingLimits,
    private readonly hooks: PairingHooks,
    private readonly now: () => number = Date.now,
    /** Failed setup codes per client address (C17); shared by every connection of this gateway. */
    readonly rateLimiter: RateLimiter = new RateLimiter({}, now),
  ) {}

  /**
   * Looks a presented setup code up (nothing changes; redemption happens in {@link apply}). Text
   * that cannot be a code reads as unknown, like a code that never existed.
   */
  lookupSetupCode(presented: string): { lookup: SetupCodeLookup; codeHash: string | null } {
    const code = normalizeSetupCode(presented);
    if (!code) return { lookup: { kind: "invalid", why: "unknown" }, codeHash: null };
    return { lookup: this.store.setupCodes.lookup(code, this.now()), codeHash: hashSetupCode(code) };
  }

  /** Store facts for the policy: the record, the presented token's state, the live pending request. */
  gather(
    deviceId: string,
    role: string,
    presentedToken: string | null,
  ): { stored: StoredDeviceFacts | null; deviceToken: DeviceTokenCheck; pending: PendingFacts | null } {
    const now = this.now();
    const record = this.store.devices.get(deviceId);
    const stored: StoredDeviceFacts | null = record
      ? {
          publicKey: record.publicKey,
          roles: record.roles,
          scopes: record.scopes,
          platform: record.platform,
          deviceFamily: record.deviceFamily,
          tokens: this.store.tokens.states(deviceId),
        }
      : null;
    const deviceToken: DeviceTokenCheck =
      presentedToken && record
        ? this.store.tokens.verify(deviceId, role, presentedToken)
        : presentedToken
          ? { kind: "mismatch" }
          : { kind: "none" };
    const p = this.store.pending.getByDevice(deviceId, now);
    const pending = p
      ? { requestId: p.requestId, publicKey: p.publicKey, roles: p.roles, scopes: p.scopes }
      : null;
    return { stored, deviceToken, pending };
  }

  /** Carries out a decision for a device connect; audit row included, one transaction. */
  apply(decision: Decision, ctx: ConnectContext): Applied {
    const now = this.now();
    const { device, role } = ctx;
    let events: Array<[string, unknown]> = [];
    const audit = (
      kind: string,
      decisionName: string,
      extra: { reason?: string; requestId?: string; scopes?: string[] },
    ) =>
      this.store.audit.append(
        {
          kind,
          decision: decisionName,
          deviceId: device.deviceId,
          peer: ctx.peer ?? undefined,
          client: ctx.client,
          role,
          trace: decision.trace,
          ...extra,
        },
        now,
      );
    const result = this.store.transaction((): Applied => {
      switch (decision.kind) {
        case "reject":
          audit("connect", "reject", { reason: decision.code });
          return { ok: false, requestId: null, full: false };
        case "pend": {
          const res = this.store.pending.upsertForDevice(
            {
              deviceId: device.deviceId,
              publicKey: device.publicKey,
              reason: decision.reason,
              roles: decision.ask.roles,
              scopes: decision.ask.scopes,
              displayName: device.displayName,
              clientId: device.clientId,
              clientMode: device.clientMode,
              platform: device.platform,
              deviceFamily: device.deviceFamily,
              remoteIp: ctx.peer,
              isRepair: this.store.devices.get(device.deviceId) !== null,
            },
            now,
            this.limits.ttlMs,
            { total: this.limits.total, perIp: this.limits.perIp },
          );
          if (res.kind === "full") {
            audit("connect", "pend-refused", { reason: `pending-limit-${res.limit}` });
            return { ok: false, requestId: null, full: true };
          }
          audit("connect", "pend", {
            reason: decision.reason,
            requestId: res.request.requestId,
            scopes: decision.ask.scopes,
          });
          events = [
            ...res.superseded.map((id): [string, unknown] => [
              "device.pair.resolved",
              { requestId: id, deviceId: device.deviceId, decision: "rejected", ts: now },
            ]),
            ...(res.kind === "created"
              ? [["device.pair.requested", pendingPayload(res.request)] as [string, unknown]]
              : []),
          ];
          return { ok: false, requestId: res.request.requestId, full: false };
        }
        case "approve-then-admit": {
          const viaCode = decision.credential === "setup-code";
          // The code is spent in the same transaction that approves: two devices racing with one
          // code cannot both be approved.
          if (
            viaCode &&
            (!ctx.setupCodeHash || !this.store.setupCodes.redeem(ctx.setupCodeHash, device.deviceId, now))
          ) {
            audit("connect", "reject", { reason: "AUTH_BOOTSTRAP_TOKEN_INVALID" });
            return { ok: false, requestId: null, full: false, code: "AUTH_BOOTSTRAP_TOKEN_INVALID" };
          }
          const pendingId = this.store.pending.getByDevice(device.deviceId, now)?.requestId;
          approveDevice(this.store, {
            deviceId: device.deviceId,
            publicKey: device.publicKey,
            roles: decision.ask.roles,
            scopes: decision.ask.scopes,
            displayName: device.displayName ?? undefined,
            clientId: device.clientId,
            clientMode: device.clientMode,
            platform: device.platform,
            deviceFamily: device.deviceFamily,
            approvedVia: viaCode ? "setup-code" : "silent",
            nowMs: now,
          });
          audit("connect", viaCode ? "approve-setup-code" : "approve-silently", {
            scopes: decision.ask.scopes,
          });
          if (pendingId) {
            events.push([
              "device.pair.resolved",
              { requestId: pendingId, deviceId: device.deviceId, decision: "approved", ts: now },
            ]);
          }
          // A device paired from afar: approvers' lists change without any request they saw.
          if (viaCode) events.push(["device.pair.changed", {}]);
          return this.admitted(decision.scopes, decision.token, device, role, ctx.peer, now);
        }
        case "admit":
          this.queueAudit(
            {
              kind: "connect",
              decision: "admit",
              deviceId: device.deviceId,
              peer: ctx.peer ?? undefined,
              client: ctx.client,
              role,
              scopes: decision.scopes,
              trace: decision.trace,
            },
            now,
          );
          return this.admitted(decision.scopes, decision.token, device, role, ctx.peer, now);
      }
    });
    for (const [event, payload] of events) this.hooks.broadcast(event, payload, "operator.pairing");
    return result;
  }

  /** Audit row for a device-less connect; its scopes come straight from the decision. */
  auditDeviceLess(decision: Decision, ctx: { role: string; peer: string | null; client: string }): Applied {
    this.queueAudit(
      {
        kind: "connect",
        decision: decision.kind,
        reason: decision.kind === "reject" ? decision.code : undefined,
        peer: ctx.peer ?? undefined,
        client: ctx.client,
        role: ctx.role,
        scopes: decision.kind === "admit" ? decision.scopes : undefined,
        trace: decision.trace,
      },
      this.now(),
    );
    return decision.kind === "admit"
      ? { ok: true, scopes: decision.scopes }
      : { ok: false, requestId: null, full: false };
  }

  /** Writes queued audit rows now (before reading the audit log, and at shutdown). */
  flushAudit(): void {
    if (this.auditTimer) clearTimeout(this.auditTimer);
    this.auditTimer = null;
    const batch = this.auditQueue;
    if (batch.length === 0) return;
    this.auditQueue = [];
    this.store.transaction(() => {
      for (const { entry, ts } of batch) this.store.audit.append(entry, ts);
    });
  }

  private queueAudit(entry: AuditEntry, ts: number): void {
    this.auditQueue.push({ entry, ts });
    if (this.auditQueue.length >= AUDIT_BATCH_MAX) this.flushAudit();
    else if (!this.auditTimer) {
      this.auditTimer = setTimeout(() => {
        try {
          this.flushAudit();
        } catch {
          // A failed audit flush must not crash the gateway; the rows are lost, state is not.
        }
      }, AUDIT_FLUSH_MS);
      this.auditTimer.unref();
    }
  }

  /** Audit row for a refusal decided before the policy ran (a failed device proof). */
  auditRefusal(
    code: string,
    ctx: { deviceId?: string; role?: string; peer: string | null; client?: string },
  ): void {
    this.store.audit.append(
      {
        kind: "connect",
        decision: "reject",
        reason: code,
        deviceId: ctx.deviceId,
        peer: ctx.peer ?? undefined,
        client: ctx.client,
        role: ctx.role,
      },
      this.now(),
    );
  }

  private admitted(
    scopes: string[],
    token: "keep" | "issue" | "none",
    device: ProvenDevice,
    role: string,
    peer: string | null,
    now: number,
  ): Applied {
    const record = this.store.devices.get(device.deviceId);
    if (record && (record.lastSeenAtMs === null || now - record.lastSeenAtMs >= TOUCH_INTERVAL_MS)) {
      this.store.devices.touch(device.deviceId, peer, now);
    }
    if (token === "keep") {
      const key = `${device.deviceId}\u0000${role}`;
      if (now - (this.lastMarked.get(key) ?? 0) >= TOUCH_INTERVAL_MS) {
        this.store.tokens.markUsed(device.deviceId, role, now);
        this.lastMarked.set(key, now);
      }
      return { ok: true, scopes };
    }
    if (token === "issue" && record) {
      // The token carries the whole approved baseline for the role; sessions still get only what they asked.
      const tokenScopes =
        role === "operator"
          ? record.scopes.filter((s) => s.startsWith("operator."))
          : record.scopes.filter((s) => s.startsWith(`${role}.`));
      const issued = this.store.tokens.issue(device.deviceId, role, tokenScopes, now);
      return { ok: true, scopes, deviceToken: { token: issued, issuedAtMs: now, scopes: tokenScopes } };
    }
    return { ok: true, scopes };
  }
}
