/**
 * `status`: the gateway's state, its connected clients by role, and who is asking — a superset of
 * OpenClaw's status payload (its agents, channels and tasks are empty here).
 */
import type { GatewayRole } from "../protocol/client-info.js";
import type { MethodHandler } from "../gateway/methods.js";
import { emptyStatusSummary } from "../protocol/status-summary.js";

/** Where the gateway's children run, as `status` reports it (the runtime's sandbox). */
export interface SandboxReport {
  mode: "bwrap" | "none";
  /** `off` (mode none: a warning), `unchecked`, `ready`, or `unavailable` (spawning is refused). */
  state: "off" | "unchecked" | "ready" | "unavailable";
  /** Who children run as; null: the gateway's own user. */
  user: string | null;
  problem: string | null;
}

/** A snapshot for `gatehouse status` and dashboards; never includes secrets. */
export const status: MethodHandler = createStatusMethod();

/** `status`, reporting the sandbox through `sandbox` (a port: the runtime sits above the methods). */
export function createStatusMethod(sandbox?: () => SandboxReport): MethodHandler {
  return (ctx) => statusOf(ctx, sandbox ? sandbox() : null);
}

function statusOf(ctx: Parameters<MethodHandler>[0], sandbox: SandboxReport | null) {
  const now = ctx.gateway.now();
  const conns = ctx.gateway.connections();
  const byRole: Record<GatewayRole, number> = { operator: 0, node: 0 };
  for (const c of conns) byRole[c.role] += 1;
  return {
    // OpenClaw's status summary first, so its CLI (`openclaw status`) reads this gateway too.
    ...emptyStatusSummary(ctx.gateway.version),
    gateway: {
      version: ctx.gateway.version,
      startedAtMs: ctx.gateway.startedAtMs,
      uptimeMs: now - ctx.gateway.startedAtMs,
      urls: ctx.gateway.urls(),
      bind: ctx.gateway.bind(),
      authMode: ctx.gateway.authMode(),
      /** Clients pin this (`--tls-fingerprint`); null when the gateway serves plain ws://. */
      tlsFingerprint: ctx.gateway.tlsFingerprint(),
      /** Null on a gateway without a runtime (nothing it could spawn). */
      sandbox,
    },
    connections: {
      total: conns.length,
      byRole,
      clients: conns.map((c) => ({
        connId: c.connId,
        role: c.role,
        client: `${c.clientId}/${c.clientMode}`,
        deviceId: c.deviceId,
        clientIp: c.clientIp,
        connectedForMs: now - c.connectedAtMs,
      })),
    },
    self: {
      connId: ctx.connId,
      role: ctx.role,
      scopes: [...ctx.scopes],
      client: `${ctx.client.id}/${ctx.client.mode}`,
      deviceId: ctx.deviceId,
      /**
       * How the caller's device was approved (null without a device): a device's own fact, so a
       * read-only device can tell whether asking again wider would be approved as it was (silently).
       */
      approvedVia: ctx.deviceId === null ? null : ctx.devices.approvedVia(ctx.deviceId),
    },
  };
}
