/**
 * Asking a running gateway about itself: the `status` RPC (and `device.pair.list` when this CLI may
 * see pairing state), signed with the CLI's identity — on the gateway host, the owner key.
 */
import { resolveClientTarget, type ClientTarget } from "../../config/index.js";
import { missingScopes } from "../../policy/scopes.js";
import { OPERATOR_SCOPES } from "../../protocol/scopes.js";
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
  self: { connId: string };
}

export interface ConnectedClient {
  connId: string;
  role: string;
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

export interface LiveStatus {
  url: string;
  status: StatusPayload;
  clients: ClientsSummary;
  /** Null when this CLI's device is not approved for operator.pairing. */
  pairList: PairList | null;
}

const PAIRING = OPERATOR_SCOPES.pairing;

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
export function otherClients(status: StatusPayload): ClientsSummary {
  const list = status.connections.clients.filter((c) => c.connId !== status.self.connId);
  const byRole: Record<string, number> = { operator: 0, node: 0 };
  for (const c of list) byRole[c.role] = (byRole[c.role] ?? 0) + 1;
  return { total: list.length, byRole, list };
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
  const covered = stored !== undefined && missingScopes(stored.scopes, [PAIRING]).length === 0;
  const connect = (scopes: string[]) => connectCli({ ...opts, wait: undefined }, scopes, { target, device });
  let mayPair = withPairing && (local || covered);
  let conn = await connect(mayPair ? [OPERATOR_SCOPES.read, PAIRING] : [OPERATOR_SCOPES.read]);
  // Signed with the owner key after all (an explicit --url to this host's gateway): it may see everything.
  if (withPairing && !mayPair && conn.client.hello?.auth?.method === "owner-key") {
    await conn.client.close();
    conn = await connect([OPERATOR_SCOPES.read, PAIRING]);
    mayPair = true;
  }
  try {
    const status = await conn.client.request<StatusPayload>("status");
    const pairList = mayPair ? await conn.client.request<PairList>("device.pair.list", {}) : null;
    return { url: conn.url, status, clients: otherClients(status), pairList };
  } finally {
    await conn.client.close();
  }
}
