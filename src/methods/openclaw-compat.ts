/**
 * Methods OpenClaw's clients call that have no Gatehouse feature behind them, answered honestly in
 * OpenClaw's shapes (protocol/openclaw-compat.ts): who is present, the non-secret gateway settings,
 * and empty lists of agents and channels, rather than "unknown method".
 */
import { hostname, platform, release } from "node:os";
import type { MethodHandler, MethodTable } from "../gateway/methods.js";
import type {
  AgentsListResult,
  ChannelsStatusResult,
  ConfigGetResult,
  PresenceEntry,
} from "../protocol/openclaw-compat.js";

/** `system-presence`: the gateway itself, then one entry per open session. */
const systemPresence: MethodHandler = (ctx): PresenceEntry[] => {
  const now = ctx.gateway.now();
  const host = hostname() || "gateway";
  const self: PresenceEntry = {
    host,
    version: ctx.gateway.version,
    platform: `${platform()} ${release()}`,
    mode: "gateway",
    reason: "self",
    text: `Gateway: ${host} · gatehouse ${ctx.gateway.version} · mode gateway · reason self`,
    ts: now,
  };
  const sessions = ctx.gateway.connections().map((c): PresenceEntry => ({
    clientId: c.clientId,
    ...(c.clientIp ? { ip: c.clientIp } : {}),
    mode: c.clientMode,
    reason: "connect",
    ...(c.deviceId ? { deviceId: c.deviceId } : {}),
    roles: [c.role],
    text: `${c.role} ${c.clientId}/${c.clientMode}${c.clientIp ? ` (${c.clientIp})` : ""}`,
    ts: c.connectedAtMs,
  }));
  return [self, ...sessions];
};

/** `config.get`: what a client may know about how this gateway listens; never a secret. */
const configGet: MethodHandler = (ctx): ConfigGetResult => {
  const { hosts, port } = ctx.gateway.bind();
  const fingerprint = ctx.gateway.tlsFingerprint();
  return {
    path: null,
    exists: true,
    valid: true,
    config: {
      gateway: {
        port,
        bind: [...hosts],
        urls: ctx.gateway.urls(),
        auth: { mode: ctx.gateway.authMode() },
        tls: { enabled: fingerprint !== null, fingerprint },
      },
    },
    issues: [],
    warnings: [],
  };
};

/** `agents.list`: Gatehouse runs no agents. */
const agentsList: MethodHandler = (): AgentsListResult => ({ defaultId: null, agents: [] });

/** `channels.status`: Gatehouse has no messaging channels. */
const channelsStatus: MethodHandler = (ctx): ChannelsStatusResult => ({
  ts: ctx.gateway.now(),
  channelOrder: [],
  channelLabels: {},
  channelMeta: [],
  channels: {},
  channelAccounts: {},
  channelDefaultAccountId: {},
  statusIssues: [],
});

export const openClawCompatMethods: MethodTable = {
  "system-presence": systemPresence,
  "config.get": configGet,
  "agents.list": agentsList,
  "channels.status": channelsStatus,
};
