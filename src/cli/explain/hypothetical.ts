/**
 * A connection described by flags, turned into the exact facts the gateway would hand the policy:
 * the upgrade's verdict and locality from the policy with the configured names and trusted
 * proxies, then the gateway's own `gatherFacts()` over the stored record and token state of
 * `--device`. The decision comes from the pure `decide()`; nothing here decides anything itself.
 */
import type { GatewaySettings } from "../../config/index.js";
import { bindHosts } from "../../config/bind.js";
import { gatherFacts, type ProvenDevice } from "../../gateway/connect-facts.js";
import { ownHostNames } from "../../gateway/own-names.js";
import {
  decide,
  type AdmissionFacts,
  type Decision,
  type PendingFacts,
  type StoredDeviceFacts,
} from "../../policy/admission.js";
import { canonicalIp, isLoopbackIp } from "../../policy/ip.js";
import { resolveLocality, type Locality, type TransportFacts } from "../../policy/locality.js";
import type { RuleId } from "../../policy/rules.js";
import { proxyPeerFacts } from "../../policy/trusted-proxy.js";
import { upgradeVerdict, type UpgradeRefusal } from "../../policy/upgrade.js";
import {
  GATEWAY_CLIENT_IDS,
  GATEWAY_CLIENT_MODES,
  isClientMode,
  isGatewayRole,
  normalizeClientId,
} from "../../protocol/client-info.js";
import { CliError, EXIT } from "../output.js";

/** The flags that describe a hypothetical connection. */
export interface HypotheticalFlags {
  from?: string;
  host?: string;
  origin?: string;
  /** `--forwarded [chain]`: true without a value. */
  forwarded?: string | boolean;
  client?: string;
  mode?: string;
  role?: string;
  scope?: string[];
  token?: boolean;
  password?: boolean;
  deviceToken?: boolean;
  /** False with `--no-auth`. */
  auth?: boolean;
  /** A device id or prefix, "owner", or false with `--no-device`. */
  device?: string | boolean;
}

/** True when any flag describing a connection was given. */
export function isHypothetical(flags: HypotheticalFlags): boolean {
  return (
    flags.from !== undefined ||
    flags.host !== undefined ||
    flags.origin !== undefined ||
    flags.forwarded !== undefined ||
    flags.client !== undefined ||
    flags.mode !== undefined ||
    flags.role !== undefined ||
    (flags.scope !== undefined && flags.scope.length > 0) ||
    flags.token === true ||
    flags.password === true ||
    flags.deviceToken === true ||
    flags.auth === false ||
    flags.device !== undefined
  );
}

/** The mode a client id usually connects with, when `--mode` is not given. */
const DEFAULT_MODES: Readonly<Record<string, string>> = {
  cli: "cli",
  "gateway-client": "backend",
  "node-host": "node",
  "openclaw-control-ui": "webchat",
  "webchat-ui": "webchat",
  webchat: "webchat",
  "openclaw-browser-copilot": "webchat",
  "openclaw-tui": "ui",
  "openclaw-macos": "ui",
  "openclaw-linux": "ui",
  "openclaw-ios": "ui",
  "openclaw-watchos": "ui",
  "openclaw-android": "ui",
  "openclaw-worker": "worker",
  "openclaw-probe": "probe",
  fingerprint: "probe",
  test: "test",
};

/** What was described, validated and with defaults filled in. */
export interface DescribedConnection {
  transport: TransportFacts;
  client: { id: string; mode: string };
  role: "operator" | "node";
  scopes: string[];
  presents: { token: boolean; password: boolean; deviceToken: boolean };
}

function usage(message: string, hint?: string): CliError {
  return new CliError("INVALID_FLAG", message, EXIT.usage, hint);
}

/** Validates the flags; every problem is a usage error naming the flag. */
export function describeConnection(flags: HypotheticalFlags, port: number): DescribedConnection {
  const from = flags.from ?? "127.0.0.1";
  const peer = canonicalIp(from);
  if (!peer) throw usage(`--from: must be an IPv4 or IPv6 address (got ${JSON.stringify(from)})`);
  const clientId = normalizeClientId(flags.client ?? "cli");
  if (!clientId) {
    throw usage(
      `--client: unknown client id ${JSON.stringify(flags.client)}`,
      `one of: ${GATEWAY_CLIENT_IDS.join(", ")}`,
    );
  }
  const mode = flags.mode ?? DEFAULT_MODES[clientId] ?? "cli";
  if (!isClientMode(mode)) {
    throw usage(
      `--mode: unknown client mode ${JSON.stringify(mode)}`,
      `one of: ${GATEWAY_CLIENT_MODES.join(", ")}`,
    );
  }
  const role = flags.role ?? "operator";
  if (!isGatewayRole(role)) throw usage(`--role: must be operator or node (got ${JSON.stringify(role)})`);
  if (flags.auth === false && (flags.token || flags.password || flags.deviceToken)) {
    throw usage("--no-auth cannot be combined with --token, --password or --device-token");
  }
  const forwarded = flags.forwarded;
  // The Host a client sends is the address it dialed: by default the address it comes from (a
  // loopback client dialed loopback; a same-host client dialing the LAN address arrives from it).
  const host = flags.host ?? `${peer.includes(":") ? `[${peer}]` : peer}:${port}`;
  return {
    transport: {
      peerAddress: peer,
      host,
      origin: flags.origin ?? null,
      forwardedFor: typeof forwarded === "string" ? forwarded : null,
      hasProxyHeaders: forwarded !== undefined && forwarded !== false,
    },
    client: { id: clientId, mode },
    role,
    scopes: [...new Set(flags.scope ?? [])],
    presents: {
      token: flags.token === true,
      password: flags.password === true,
      deviceToken: flags.deviceToken === true,
    },
  };
}

/** Which device the connection proves, as the store knows it. */
export type DeviceChoice =
  | { kind: "none" }
  | { kind: "new" }
  | {
      kind: "known";
      deviceId: string;
      publicKey: string;
      platform: string | null;
      deviceFamily: string | null;
      ownerKey: boolean;
      stored: StoredDeviceFacts | null;
      pending: PendingFacts | null;
    };

/** Placeholder identity of a device the store has never seen. */
const NEW_DEVICE = { deviceId: "new-device", publicKey: "new-device-key" } as const;

/** Stands for "the device token the store holds for this device and role" in a described connect. */
const STORED_DEVICE_TOKEN = "\u0000stored-device-token";

/** The outcome for a described connection. */
export interface HypotheticalOutcome {
  locality: Locality;
  /** Null when the upgrade itself is refused (Origin, Host), before the policy runs. */
  facts: AdmissionFacts | null;
  decision: Decision | { kind: "reject"; code: UpgradeRefusal; trace: RuleId[]; charge: []; clear: [] };
}

/**
 * The facts the gateway would gather for the described connection, from the local store: the same
 * `gatherFacts()` the handshake runs, with sources that read the store instead of checking secrets
 * (the flags say which credentials are right), and no lockouts (the limiter lives in the gateway).
 */
export function decideHypothetical(
  conn: DescribedConnection,
  gateway: GatewaySettings,
  device: DeviceChoice,
): HypotheticalOutcome {
  const locality = resolveLocality(conn.transport, gateway.trustedProxies);
  const { origin, host, peerAddress } = conn.transport;
  const upgrade = upgradeVerdict({
    origin,
    host,
    peerLoopback: isLoopbackIp(peerAddress),
    allowedOrigins: gateway.controlUi.allowedOrigins,
    ownNames: ownHostNames({
      listenHosts: bindHosts(gateway),
      port: gateway.port,
      allowedOrigins: gateway.controlUi.allowedOrigins,
    }),
  });
  if (!upgrade.ok) {
    return {
      locality,
      facts: null,
      decision: { kind: "reject", code: upgrade.code, trace: upgrade.trace, charge: [], clear: [] },
    };
  }
  const { auth } = gateway;
  const known = device.kind === "known" ? device : null;
  const proven: ProvenDevice | null =
    device.kind === "none"
      ? null
      : {
          deviceId: known?.deviceId ?? NEW_DEVICE.deviceId,
          publicKey: known?.publicKey ?? NEW_DEVICE.publicKey,
          platform: known?.platform ?? "",
          deviceFamily: known?.deviceFamily ?? "",
          displayName: null,
          clientId: conn.client.id,
          clientMode: conn.client.mode,
        };
  const { facts } = gatherFacts(
    {
      locality,
      client: conn.client,
      role: conn.role,
      scopes: conn.scopes,
      auth: {
        // The configured secret when the flag says the right one is presented.
        token: conn.presents.token ? (auth.token ?? "presented") : undefined,
        password: conn.presents.password ? (auth.password ?? "presented") : undefined,
        deviceToken: conn.presents.deviceToken ? STORED_DEVICE_TOKEN : undefined,
      },
      device: proven,
      // Trusted-proxy mode: a connection described by flags sends no identity headers, so the
      // policy judges it as a direct one (the owner key, a runtime token, the password on this host).
      proxy:
        auth.mode === "trusted-proxy" && auth.trustedProxy
          ? {
              ...proxyPeerFacts(conn.transport, gateway.trustedProxies, []),
              identityHeaders: false,
              missingHeaders: [],
              userHeader: null,
              userHeaderConfigured: auth.trustedProxy.userHeader !== undefined,
              assertion: { kind: auth.trustedProxy.assertion ? "missing" : "not-configured" },
              config: {
                allowLoopback: auth.trustedProxy.allowLoopback,
                allowUsers: auth.trustedProxy.allowUsers,
                identityScopes: auth.identityScopes ?? {},
                deviceAutoApprove: auth.trustedProxy.deviceAutoApprove,
              },
            }
          : null,
    },
    {
      auth,
      ownerDeviceId: known?.ownerKey ? known.deviceId : "",
      autoApproveLocal: gateway.pairing.autoApproveLocal,
      lockouts: () => ({}),
      device: () => ({ stored: known?.stored ?? null, pending: known?.pending ?? null, lastSeenAtMs: null }),
      verifyDeviceToken(_deviceId, role, presented) {
        const slot = known?.stored?.tokens[role];
        if (presented !== STORED_DEVICE_TOKEN || !slot) return { kind: "mismatch" };
        return slot.revoked ? { kind: "revoked" } : { kind: "valid", scopes: slot.scopes };
      },
      lookupSetupCode: () => ({ kind: "unknown-or-expired" }),
      verifyRuntimeToken: () => ({ kind: "invalid" }),
    },
  );
  return { locality, facts, decision: decide(facts) };
}
