/**
 * Asking a running gateway about itself: the `status` RPC (and `device.pair.list` when this CLI may
 * see pairing state), signed with the CLI's identity — on the gateway host, the owner key.
 */
import type { GatewayRole } from "../../protocol/client-info.js";
import { resolveClientTarget, type ClientTarget } from "../../config/index.js";
import { statusAsk } from "../../policy/client-asks.js";
import { connectCli, loadCliDevice, type CommonOptions } from "../connect.js";
import type { PairList } from "../devices/types.js";
import type { SandboxReport } from "../../methods/status.js";

/** The `status` RPC result (src/methods/status.ts). */
export interface StatusPayload {
  gateway: {
    version: string;
    startedAtMs: number;
    uptimeMs: number;
    urls: string[];
    bind: { hosts: string[]; port: number };
    authMode: string;
    /** Present on gateways that serve wss:// (null or absent: plain ws://). */
    tlsFingerprint?: string | null;
    /** Where children run (absent on gateways without a runtime or before issue 12). */
    sandbox?: SandboxReport | null;
  };
  connections: {
    total: number;
    byRole: Record<string, number>;
    clients: ConnectedClient[];
  };
  /** `approvedVia`: how the caller's device was approved (absent before it was reported). */
  self: { connId: string; approvedVia?: string | null };
}

export interface ConnectedClient {
  connId: string;
  role: GatewayRole;
  client: string;
  deviceId: string | null;
  clientIp: string | null;
  connectedForMs: number;
}

/** Connected clients other than the asking CLI itself. */
export interface ClientsSummary {
  total: number;
  byRole: Record<string, number>;
  list: ConnectedClient[];
}

/**
 * What a running gateway said about itself, from either kind of server: Gatehouse's `status` has
 * every field; OpenClaw's (a status summary) has only its version, so the rest is null (unknown).
 */
export interface LiveGateway {
  version: string | null;
  startedAtMs: number | null;
  uptimeMs: number | null;
  urls: string[];
  bind: { hosts: string[]; port: number } | null;
  authMode: string | null;
  tlsFingerprint: string | null;
  sandbox: SandboxReport | null;
}

export interface LiveStatus {
  url: string;
  gateway: LiveGateway;
  /** Null when the gateway does not list its connections (OpenClaw's status). */
  clients: ClientsSummary | null;
  /** Null when this CLI's device is not approved for operator.pairing. */
  pairList: PairList | null;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/**
 * Reads a `status` payload from Gatehouse (its `gateway`, `connections`, `self`) or OpenClaw (its
 * `runtimeVersion` only); `serverVersion` is hello-ok's, for a payload that names none.
 */
export function readLiveStatus(
  raw: unknown,
  serverVersion: string | null,
): { gateway: LiveGateway; clients: ClientsSummary | null } {
  const r = isRecord(raw) ? raw : {};
  const g = isRecord(r.gateway) ? r.gateway : {};
  const bind =
    isRecord(g.bind) && Array.isArray(g.bind.hosts) && num(g.bind.port) !== null
      ? { hosts: g.bind.hosts.filter((h): h is string => typeof h === "string"), port: num(g.bind.port)! }
      : null;
  const gateway: LiveGateway = {
    version: str(g.version) ?? str(r.runtimeVersion) ?? serverVersion,
    startedAtMs: num(g.startedAtMs),
    uptimeMs: num(g.uptimeMs),
    urls: Array.isArray(g.urls) ? g.urls.filter((u): u is string => typeof u === "string") : [],
    bind,
    authMode: str(g.authMode),
    tlsFingerprint: str(g.tlsFingerprint),
    sandbox: sandboxReport(g.sandbox),
  };
  const conns = isRecord(r.connections) ? r.connections : null;
  const self = isRecord(r.self) ? r.self : {};
  const clients =
    conns && Array.isArray(conns.clients)
      ? otherClients({
          connections: { clients: conns.clients as ConnectedClient[] },
          self: { connId: str(self.connId) ?? "" },
        })
      : null;
  return { gateway, clients };
}

/** The target for the local gateway at a known URL, with the local config's secret. */
export function localTarget(opts: CommonOptions, url: string | null): ClientTarget {
  const target = resolveClientTarget({
    token: opts.token,
    password: opts.password,
    stateDir: opts.stateDir,
    // The local gateway, whatever GATEHOUSE_GATEWAY_URL says.
    env: { ...process.env, GATEHOUSE_GATEWAY_URL: "" },
  });
  return url ? { ...target, url } : target;
}

/** Leaves the asking connection out of the counts. */
export function otherClients(status: {
  connections: { clients: ConnectedClient[] };
  self: { connId: string };
}): ClientsSummary {
  const list = status.connections.clients.filter((c) => c.connId !== status.self.connId);
  const byRole: Record<string, number> = { operator: 0, node: 0 };
  for (const c of list) byRole[c.role] = (byRole[c.role] ?? 0) + 1;
  return { total: list.length, byRole, list };
}

const SANDBOX_MODES: ReadonlyArray<SandboxReport["mode"]> = ["bwrap", "none"];
const SANDBOX_STATES: ReadonlyArray<SandboxReport["state"]> = ["off", "unchecked", "ready", "unavailable"];

/** The status answer's sandbox report, narrowed field by field (another gateway may send none, or another shape). */
function sandboxReport(raw: unknown): SandboxReport | null {
  if (!isRecord(raw)) return null;
  const mode = SANDBOX_MODES.find((m) => m === raw.mode);
  const state = SANDBOX_STATES.find((s) => s === raw.state);
  if (mode === undefined || state === undefined) return null;
  return { mode, state, user: str(raw.user), problem: str(raw.problem) };
}

/**
 * Connects and reads status (and the pairing list when `withPairing` and this device may: the
 * owner may; another device only when its stored token carries operator.pairing — asking beyond
 * that would open an upgrade request for this very device).
 */
export async function queryLive(
  opts: CommonOptions,
  target: ClientTarget,
  withPairing: boolean,
): Promise<LiveStatus> {
  const device = loadCliDevice(opts.stateDir);
  const local = target.urlSource === "config";
  const stored = device.tokenStore.get(device.identity.deviceId, "operator");
  const approved = stored?.scopes ?? null;
  const connect = (scopes: string[]) => connectCli({ ...opts, wait: undefined }, scopes, { target, device });
  let ask = statusAsk({ withPairing, ownerOnHost: local, approved });
  let conn = await connect(ask.scopes);
  // Signed with the owner key after all (an explicit --url to this host's gateway): it may see everything.
  if (withPairing && !ask.withPairing && conn.client.hello?.auth?.method === "owner-key") {
    await conn.client.close();
    ask = statusAsk({ withPairing, ownerOnHost: true, approved });
    conn = await connect(ask.scopes);
  }
  const mayPair = ask.withPairing;
  try {
    const raw = await conn.client.request<unknown>("status");
    const pairList = mayPair ? await conn.client.request<PairList>("device.pair.list", {}) : null;
    return { url: conn.url, ...readLiveStatus(raw, conn.client.hello?.server.version ?? null), pairList };
  } finally {
    await conn.client.close();
  }
}
