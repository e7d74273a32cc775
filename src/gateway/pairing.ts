/**
 * Applies connect decisions to the store, one transaction each, records them, and tells the rest
 * of the gateway what changed (events). The rules themselves live in the pure policy; this file
 * only carries out what was decided. Device management (approve, revoke, ...) is `src/devices/`.
 */
import {
  helloNodeSurfacePayload,
  surfacePendingPayload,
  surfaceResolvedPayload,
} from "../devices/node-payloads.js";
import type { HelloNodeSurface } from "../protocol/connect.js";
import type { RuleId } from "../policy/rules.js";
import type { WireEventName } from "../protocol/events.js";
import type { GatewayRole } from "../protocol/client-info.js";
import { pendingPayload } from "../devices/payloads.js";
import type { Decision } from "../policy/admission.js";
import { decideSurfaceAtConnect, type SurfaceConnectFacts } from "../policy/node-surface.js";
import { settle, type ApplyResult, type Settled } from "../policy/settle.js";
import { approveDevice } from "../store/approve.js";
import type { Store } from "../store/db.js";
import type { ProvenDevice } from "./connect-facts.js";
import { RateLimiter } from "./rate-limit.js";

/** Limits on pending requests so a flood cannot fill the store (C18). */
export interface PendingLimits {
  ttlMs: number;
  total: number;
  perIp: number;
}

/** What the gateway must do beyond the store when a connect changes pairing state. */
export interface PairingHooks {
  /** Sends an event to every session the policy says receives it. */
  broadcast(event: WireEventName, payload: unknown): void;
}

/** Who is connecting, as the audit row and the pairing record keep it. */
export interface ConnectContext {
  /** Null for a device-less connect (or one whose proof failed). */
  device: ProvenDevice | null;
  role: GatewayRole;
  /** The client address (after trusted-proxy resolution). */
  peer: string | null;
  /** The browser page's Origin as shown to approvers; null for a client that is no browser. */
  browserOrigin: string | null;
  /** `id/mode`. */
  client: string;
  /** Hash of the setup code this connect presented, spent when the decision rests on it. */
  setupCodeHash: string | null;
  /** The device's last-seen stamp as gathered, so an admit needs no second read to throttle it. */
  lastSeenAtMs: number | null;
  /** The commands a node declared (role node); null for any other role. */
  commands: readonly string[] | null;
}

/** An admitted node's connect, as its command-surface decision needs it. */
export interface NodeSurfaceConnect {
  device: ProvenDevice;
  declared: readonly string[];
  admittedBy: SurfaceConnectFacts["admittedBy"];
  peer: string | null;
  /** The node's client version, shown with its request. */
  version: string;
}

/** A token minted for the session, handed out once in `hello-ok`. */
export interface IssuedToken {
  token: string;
  issuedAtMs: number;
  scopes: string[];
}

/** What applying a connect decision came to. */
export interface AppliedConnect {
  settled: Settled;
  deviceToken?: IssuedToken;
}

/** Throttle for last-seen/last-used writes: a reconnect storm must not turn every handshake into a write. */
const TOUCH_INTERVAL_MS = 60_000;
/** Rows that change no state are written in batches off the handshake's path. */
const AUDIT_FLUSH_MS = 50;
const AUDIT_BATCH_MAX = 500;
/** Upgrade refusals are audited once per address, reason and origin within this window. */
const UPGRADE_REFUSAL_EVERY_MS = 60_000;
/** Bound on the addresses remembered for that (forgotten all at once when reached). */
const UPGRADE_REFUSAL_KEYS = 10_000;

type AuditEntry = Parameters<Store["audit"]["append"]>[0];

/**
 * Who acted in a connect, for its audit row: the user a trusted proxy vouched for (or, refused,
 * the one its headers named), else nobody beyond the device and client already recorded.
 */
export function proxyActor(proxyUser: Settled["proxyUser"]): string | undefined {
  if (!proxyUser) return undefined;
  return `${proxyUser.verified ? "proxy-user" : "proxy-claimed"}:${proxyUser.user}`;
}

/** The audit row of a settled connect (no secret in it: the trace names rules, never values). */
function connectRow(settled: Settled, ctx: ConnectContext): AuditEntry {
  const base = {
    kind: "connect" as const,
    deviceId: ctx.device?.deviceId,
    peer: ctx.peer ?? undefined,
    client: ctx.client,
    role: ctx.role,
    trace: settled.trace,
    actor: proxyActor(settled.proxyUser),
  };
  switch (settled.kind) {
    case "admit":
      // Work the gateway started acts for its job; the job id is a value, not a rule.
      return {
        ...base,
        decision: "admit",
        scopes: settled.scopes,
        actor: settled.runtimeJobId ? `job:${settled.runtimeJobId}` : base.actor,
      };
    case "approve-then-admit":
      return {
        ...base,
        decision: settled.credential === "setup-code" ? "approve-setup-code" : "approve-silently",
        scopes: settled.ask.scopes,
      };
    case "pend":
      return settled.full
        ? { ...base, decision: "pend-refused", reason: `pending-limit-${settled.full}` }
        : {
            ...base,
            decision: "pend",
            reason: settled.reason,
            requestId: settled.requestId ?? undefined,
            scopes: settled.ask.scopes,
          };
    case "reject":
      return { ...base, decision: "reject", reason: settled.code };
  }
}

/** Applies connect decisions for one gateway. */
export class PairingService {
  private readonly lastMarked = new Map<string, number>();
  private auditQueue: Array<{ entry: AuditEntry; ts: number }> = [];
  private auditTimer: NodeJS.Timeout | null = null;
  private readonly upgradeRefusalSeen = new Map<string, number>();
  /** Last-seen stamps of admitted devices, by deviceId, not yet written. */
  private readonly seenStamps = new Map<string, { ip: string | null; at: number }>();
  /** Last-used stamps of device tokens, by device and role, not yet written. */
  private readonly usedStamps = new Map<string, { deviceId: string; role: GatewayRole; at: number }>();
  private stampsScheduled = false;

  constructor(
    readonly store: Store,
    readonly ownerDeviceId: string,
    private readonly limits: PendingLimits,
    private readonly hooks: PairingHooks,
    private readonly now: () => number = Date.now,
    /** Failed credentials per client address (C17); shared by every connection of this gateway. */
    readonly rateLimiter: RateLimiter = new RateLimiter({}, now),
  ) {}

  /**
   * Carries out a connect decision, settles it with what that found, records it and charges or
   * forgives the credentials it names. State changes (approve, pend) and their audit row share one
   * transaction; an admit or a refusal writes nothing on the way: its stamps and its row are queued.
   */
  applyConnect(decision: Decision, ctx: ConnectContext): AppliedConnect {
    const applied = ctx.device
      ? this.applyDevice(decision, ctx.device, ctx)
      : this.applyDeviceLess(decision, ctx);
    for (const kind of applied.settled.charge) this.rateLimiter.fail(ctx.peer, kind);
    for (const kind of applied.settled.clear) this.rateLimiter.succeed(ctx.peer, kind);
    return applied;
  }

  /** A device-less connect changes no state: its row is batched. */
  private applyDeviceLess(decision: Decision, ctx: ConnectContext): AppliedConnect {
    const settled = settle(decision, { kind: "done" });
    this.queueAudit(connectRow(settled, ctx), this.now());
    return { settled };
  }

  private applyDevice(decision: Decision, device: ProvenDevice, ctx: ConnectContext): AppliedConnect {
    const now = this.now();
    switch (decision.kind) {
      case "reject":
      case "admit": {
        const settled = settle(decision, { kind: "done" });
        this.queueAudit(connectRow(settled, ctx), now);
        if (settled.kind !== "admit") return { settled };
        return { settled, ...this.grant(settled.token, device, ctx, now) };
      }
      case "pend": {
        let events: Array<[WireEventName, unknown]> = [];
        const settled = this.store.transaction(() => {
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
              browserOrigin: ctx.browserOrigin,
              isRepair: this.store.devices.get(device.deviceId) !== null,
              commands: ctx.commands === null ? null : [...ctx.commands],
            },
            now,
            this.limits.ttlMs,
            { total: this.limits.total, perIp: this.limits.perIp },
          );
          const result: ApplyResult =
            res.kind === "full"
              ? { kind: "pending-full", limit: res.limit }
              : { kind: "pending", requestId: res.request.requestId };
          const s = settle(decision, result);
          this.store.audit.append(connectRow(s, ctx), now);
          if (res.kind !== "full") {
            events = [
              ...res.superseded.map((id): [WireEventName, unknown] => [
                "device.pair.resolved",
                { requestId: id, deviceId: device.deviceId, decision: "rejected", ts: now },
              ]),
              ...(res.kind === "created"
                ? [
                    [
                      "device.pair.requested",
                      pendingPayload(res.request, this.store.devices.get(device.deviceId)?.label ?? null),
                    ] as [WireEventName, unknown],
                  ]
                : []),
            ];
          }
          return s;
        });
        this.broadcastAll(events);
        return { settled };
      }
      case "approve-then-admit": {
        const events: Array<[WireEventName, unknown]> = [];
        const viaCode = decision.credential === "setup-code";
        const applied = this.store.transaction((): AppliedConnect => {
          // The code is spent in the same transaction that approves: two devices racing with one
          // code cannot both be approved. Losing the race is settled by the policy.
          if (
            viaCode &&
            (!ctx.setupCodeHash || !this.store.setupCodes.redeem(ctx.setupCodeHash, device.deviceId, now))
          ) {
            const lost = settle(decision, { kind: "setup-code-spent" });
            this.store.audit.append(connectRow(lost, ctx), now);
            return { settled: lost };
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
          const settled = settle(decision, { kind: "done" });
          this.store.audit.append(connectRow(settled, ctx), now);
          if (pendingId) {
            events.push([
              "device.pair.resolved",
              { requestId: pendingId, deviceId: device.deviceId, decision: "approved", ts: now },
            ]);
          }
          // A device paired from afar: approvers' lists change without any request they saw.
          if (viaCode) events.push(["device.pair.changed", {}]);
          return { settled, ...this.grant(decision.token, device, { ...ctx, lastSeenAtMs: null }, now) };
        });
        this.broadcastAll(events);
        return applied;
      }
    }
  }

  /**
   * Carries out an admitted node's command-surface decision: pins the surface (owner key, a node
   * setup code's first connect), drops a request the node no longer needs, or records the wider
   * surface it declares as one pending request (same surface, same requestId). What the session
   * may expose meanwhile is read from the pinned surface at each invocation. Returns what the
   * node's hello-ok tells it: its surface, and the request its wider surface waits on.
   */
  applyNodeSurface(input: NodeSurfaceConnect): HelloNodeSurface {
    const now = this.now();
    const { deviceId } = input.device;
    const surfaces = this.store.nodeSurfaces;
    const pinned = surfaces.get(deviceId);
    const waiting = surfaces.requestFor(deviceId);
    const decision = decideSurfaceAtConnect({
      declared: input.declared,
      approved: pinned?.commands ?? null,
      admittedBy: input.admittedBy,
    });
    const events: Array<[WireEventName, unknown]> = [];
    let approved = pinned?.commands ?? null;
    let requestId: string | null = null;
    const row = {
      kind: "node-surface" as const,
      deviceId,
      peer: input.peer ?? undefined,
      role: "node" as const,
      trace: decision.trace,
    };
    switch (decision.kind) {
      case "pin": {
        approved = decision.commands;
        const same = pinned !== null && pinned.commands.join("\n") === decision.commands.join("\n");
        if (same && !waiting) break;
        this.store.transaction(() => {
          const via = input.admittedBy === "setup-code" ? "setup-code" : "owner-key";
          surfaces.pin(deviceId, decision.commands, via, null, now);
          this.store.audit.append({ ...row, decision: "pinned", reason: decision.commands.join(",") }, now);
        });
        if (waiting) {
          events.push([
            "node.pair.resolved",
            surfaceResolvedPayload(waiting.requestId, deviceId, "approved", decision.commands, now),
          ]);
        }
        break;
      }
      case "covered":
        // The node declares no more than approved again: the wider request is moot.
        if (waiting && surfaces.removeRequest(waiting.requestId)) {
          events.push([
            "node.pair.resolved",
            surfaceResolvedPayload(waiting.requestId, deviceId, "rejected", approved, now),
          ]);
        }
        break;
      case "pend": {
        const res = this.store.transaction(() => {
          const r = surfaces.upsertRequest(
            {
              deviceId,
              commands: decision.requested,
              displayName: input.device.displayName,
              clientId: input.device.clientId,
              clientMode: input.device.clientMode,
              platform: input.device.platform,
              deviceFamily: input.device.deviceFamily,
              version: input.version,
              remoteIp: input.peer,
            },
            now,
          );
          if (r.kind === "created") {
            this.store.audit.append(
              {
                ...row,
                decision: "pend",
                requestId: r.request.requestId,
                reason: decision.requested.join(","),
              },
              now,
            );
          }
          return r;
        });
        requestId = res.request.requestId;
        if (res.superseded) {
          events.push([
            "node.pair.resolved",
            surfaceResolvedPayload(res.superseded, deviceId, "rejected", approved, now),
          ]);
        }
        if (res.kind === "created")
          events.push([
            "node.pair.requested",
            surfacePendingPayload(res.request, pinned, this.store.devices.get(deviceId)?.label ?? null),
          ]);
        break;
      }
    }
    this.broadcastAll(events);
    return helloNodeSurfacePayload(decision, approved, requestId);
  }

  private broadcastAll(events: ReadonlyArray<[WireEventName, unknown]>): void {
    for (const [event, payload] of events) this.hooks.broadcast(event, payload);
  }

  /** Queues the last-seen and last-used stamps (throttled) and carries out the decision's token grant. */
  private grant(
    token: Extract<Decision, { kind: "admit" }>["token"],
    device: ProvenDevice,
    ctx: ConnectContext,
    now: number,
  ): { deviceToken?: IssuedToken } {
    if (ctx.lastSeenAtMs === null || now - ctx.lastSeenAtMs >= TOUCH_INTERVAL_MS) {
      this.seenStamps.set(device.deviceId, { ip: ctx.peer, at: now });
      this.scheduleStamps();
    }
    if (token.action === "keep") {
      const key = `${device.deviceId}\u0000${ctx.role}`;
      if (now - (this.lastMarked.get(key) ?? 0) >= TOUCH_INTERVAL_MS) {
        this.usedStamps.set(key, { deviceId: device.deviceId, role: ctx.role, at: now });
        this.scheduleStamps();
        this.lastMarked.set(key, now);
      }
      return {};
    }
    if (token.action === "issue") {
      const issued = this.store.tokens.issue(device.deviceId, ctx.role, token.scopes, now);
      return { deviceToken: { token: issued, issuedAtMs: now, scopes: [...token.scopes] } };
    }
    return {};
  }

  /**
   * Records a socket refused before the upgrade (a browser Origin or Host the policy refused, a
   * connection cap) so the owner sees it in `gatehouse audit` and `status`, not only in the log.
   * One row per address, reason and origin per minute: a flood cannot push real rows out.
   */
  recordUpgradeRefusal(r: {
    peer: string;
    origin: string | null;
    code: string;
    trace: readonly RuleId[];
  }): void {
    const now = this.now();
    const key = `${r.peer}|${r.code}|${r.origin ?? ""}`;
    const last = this.upgradeRefusalSeen.get(key);
    if (last !== undefined && now - last < UPGRADE_REFUSAL_EVERY_MS) return;
    if (this.upgradeRefusalSeen.size >= UPGRADE_REFUSAL_KEYS) this.upgradeRefusalSeen.clear();
    this.upgradeRefusalSeen.set(key, now);
    this.queueAudit(
      {
        kind: "upgrade",
        decision: "reject",
        reason: r.code,
        peer: r.peer,
        client: r.origin ? `browser page ${r.origin}` : undefined,
        trace: r.trace,
      },
      now,
    );
  }

  /**
   * Writes the queued last-seen and last-used stamps now, in one transaction. They are bookkeeping,
   * not a decision: the handshake never waits for them, and a failed write (a full disk) loses
   * them without refusing anyone.
   */
  flushStamps(): void {
    if (this.seenStamps.size === 0 && this.usedStamps.size === 0) return;
    const seen = [...this.seenStamps];
    const used = [...this.usedStamps.values()];
    this.seenStamps.clear();
    this.usedStamps.clear();
    // A device removed meanwhile is simply not there to update; a revoked token is not marked.
    this.store.transaction(() => {
      for (const [deviceId, s] of seen) this.store.devices.touch(deviceId, s.ip, s.at);
      for (const u of used) this.store.tokens.markUsed(u.deviceId, u.role, u.at);
    });
  }

  /** Stamps are written once the current turn of the event loop (its handshakes' answers) is done. */
  private scheduleStamps(): void {
    if (this.stampsScheduled) return;
    this.stampsScheduled = true;
    setImmediate(() => {
      this.stampsScheduled = false;
      try {
        this.flushStamps();
      } catch {
        // Best-effort (see flushStamps): the stamps are lost, the admissions stand.
      }
    });
  }

  /** Writes queued audit rows now (before reading the audit log, and at shutdown). */
  flushAudit(): void {
    if (this.auditTimer) clearTimeout(this.auditTimer);
    this.auditTimer = null;
    const batch = this.auditQueue;
    if (batch.length === 0) return;
    this.auditQueue = [];
    this.store.audit.appendMany(batch);
  }

  private queueAudit(entry: AuditEntry, ts: number): void {
    this.auditQueue.push({ entry, ts });
    // A full queue is written at once, on the path of the connect or upgrade that filled it: like
    // the timer's, that write is best-effort, or a full disk would refuse that connect (or throw
    // out of the upgrade listener) instead of losing only the rows.
    if (this.auditQueue.length >= AUDIT_BATCH_MAX) this.flushQueuedAudit();
    else if (!this.auditTimer) {
      this.auditTimer = setTimeout(() => this.flushQueuedAudit(), AUDIT_FLUSH_MS);
      this.auditTimer.unref();
    }
  }

  private flushQueuedAudit(): void {
    try {
      this.flushAudit();
    } catch {
      // A failed audit flush must not crash the gateway; the rows are lost, state is not.
    }
  }
}
