/**
 * Fixtures shared by the admission tests: localities computed by `resolveLocality` from what a
 * socket would show, stored records, facts with overrides, and assertion helpers.
 */
import assert from "node:assert/strict";
import {
  decide,
  type AdmissionFacts,
  type Ask,
  type Decision,
  type SharedAuthResult,
  type StoredDeviceFacts,
} from "../../src/policy/admission.js";
import { resolveLocality, type Locality, type TransportFacts } from "../../src/policy/locality.js";
import type { ProxyFacts } from "../../src/policy/trusted-proxy.js";

export const ADMIN = "operator.admin";
export const READ = "operator.read";
export const WRITE = "operator.write";
export const APPROVALS = "operator.approvals";
export const PAIRING = "operator.pairing";
export const NODE_X = "node.x";

/** The pre-2026.2.19 baseline OpenClaw devices carry (S08). */
export const LEGACY_BASELINE = [ADMIN, APPROVALS, PAIRING];
/** Every operator scope the CLI asks for, plus one node scope: "covers admin, both roles". */
export const FULL_BASELINE = [ADMIN, APPROVALS, NODE_X, PAIRING, READ, WRITE];

export const KEY = "pk-device-a";
export const NEW_KEY = "pk-device-a-reinstalled";
export const OTHER_PENDING_KEY = "pk-someone-else";
export const PLATFORM = "macOS 26.4.0";
export const OLD_PLATFORM = "macOS 26.3.1";
export const FAMILY = "Mac";

export type Device = NonNullable<AdmissionFacts["device"]>;
export type Client = AdmissionFacts["client"];
export type Role = AdmissionFacts["role"];

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/** Locality as the gateway computes it from what it observed on the socket (no hand-made flags). */
export function observed(
  overrides: Partial<TransportFacts> = {},
  trustedProxies: readonly string[] = [],
): Locality {
  return resolveLocality(
    {
      peerAddress: "127.0.0.1",
      host: "127.0.0.1:18789",
      origin: null,
      forwardedFor: null,
      hasProxyHeaders: false,
      ...overrides,
    },
    trustedProxies,
  );
}

export const LOCAL = observed();
/** C02: another page on this machine (a local dev server) opening the gateway's socket. */
export const LOCAL_ORIGIN = observed({ origin: "http://localhost:3000" });
/** The gateway's own Control UI page, served from the very host:port the socket goes to. */
export const OWN_ORIGIN = observed({ origin: "http://127.0.0.1:18789" });
export const REMOTE = observed({ peerAddress: "203.0.113.7", host: "gw.example.net:18789" });
export const REMOTE_ORIGIN = observed({
  peerAddress: "203.0.113.7",
  host: "gw.example.net:18789",
  origin: "https://gw.example.net",
});
/** C05: loopback peer, no proxy headers, but a `*.ts.net` Host (co-resident process, port-forward). */
export const TS_NET_HOST = observed({ host: "gateway.tail1234.ts.net" });
/** C03: a LAN peer forging `X-Forwarded-For: 127.0.0.1` with no trusted proxies configured. */
export const FORGED_XFF_LAN = observed({
  peerAddress: "192.168.1.50",
  forwardedFor: "127.0.0.1",
  hasProxyHeaders: true,
});
/** C03: a same-host proxy forwarding a remote client while `trustedProxies` is empty. */
export const FORGED_XFF_LOOPBACK = observed({ forwardedFor: "127.0.0.1", hasProxyHeaders: true });

export const TOKEN_OK: SharedAuthResult = { ok: true, method: "token" };
export const PASSWORD_OK: SharedAuthResult = { ok: true, method: "password" };
export const NONE_OK: SharedAuthResult = { ok: true, method: "none" };
export const SHARED_OKS: readonly SharedAuthResult[] = [TOKEN_OK, PASSWORD_OK, NONE_OK];
export const TOKEN_MISSING: SharedAuthResult = { ok: false, code: "AUTH_TOKEN_MISSING", provided: false };
export const TOKEN_MISMATCH: SharedAuthResult = { ok: false, code: "AUTH_TOKEN_MISMATCH", provided: true };
export const PASSWORD_MISSING: SharedAuthResult = {
  ok: false,
  code: "AUTH_PASSWORD_MISSING",
  provided: false,
};
export const PASSWORD_MISMATCH: SharedAuthResult = {
  ok: false,
  code: "AUTH_PASSWORD_MISMATCH",
  provided: true,
};

/** The trusted proxy in front of the gateway in the trusted-proxy tests. */
export const PROXY_IP = "10.0.0.5";
/** A request through the proxy at 10.0.0.5 for a browser at 198.51.100.20. */
export const VIA_PROXY = observed(
  { peerAddress: PROXY_IP, host: "gw.example.com", forwardedFor: "198.51.100.20", hasProxyHeaders: true },
  [PROXY_IP],
);
/** A well-behaved request from the trusted proxy for alice with a verified assertion (config apart). */
export const PROXY_ALICE: Omit<ProxyFacts, "config"> = {
  peerTrusted: true,
  peerLoopback: false,
  peerOwnAddress: false,
  forwarded: "non-loopback",
  identityHeaders: true,
  missingHeaders: [],
  userHeader: "alice@example.com",
  userHeaderConfigured: true,
  assertion: { kind: "valid", claim: "alice@example.com" },
};
/** No proxy, no identity headers: a caller on this host or a device connecting directly. */
export const NO_PROXY: Omit<ProxyFacts, "config"> = {
  ...PROXY_ALICE,
  peerTrusted: false,
  forwarded: "none",
  identityHeaders: false,
  userHeader: null,
  assertion: { kind: "missing" },
};

export const LANES = {
  cli: { id: "cli", mode: "cli" },
  backend: { id: "gateway-client", mode: "backend" },
  controlUi: { id: "openclaw-control-ui", mode: "webchat" },
  nodeHost: { id: "node-host", mode: "node" },
  ios: { id: "openclaw-ios", mode: "ui" },
} as const satisfies Record<string, Client>;

export function device(overrides: Partial<Device> = {}): Device {
  return {
    deviceId: "dev-a",
    publicKey: KEY,
    platform: PLATFORM,
    deviceFamily: FAMILY,
    ownerKey: false,
    ...overrides,
  };
}

export const OWNER_DEVICE = device({ deviceId: "dev-owner", ownerKey: true });

/** A stored record for KEY: operator, read-only, one live operator token, unless overridden. */
export function record(overrides: Partial<StoredDeviceFacts> = {}): StoredDeviceFacts {
  return {
    publicKey: KEY,
    roles: ["operator"],
    scopes: [READ],
    platform: PLATFORM,
    deviceFamily: FAMILY,
    tokens: { operator: { revoked: false, scopes: [READ] } },
    ...overrides,
  };
}

/** What the owner key is auto-paired with: both roles, every operator scope. */
export const OWNER_RECORD = record({
  roles: ["node", "operator"],
  scopes: FULL_BASELINE,
  tokens: {},
});

/** A local `cli`/`cli` device (not the owner) with the shared token asking for read; not paired yet. */
export function facts(overrides: Partial<AdmissionFacts> = {}): AdmissionFacts {
  return {
    locality: LOCAL,
    client: LANES.cli,
    role: "operator",
    requestedScopes: [READ],
    sharedAuth: TOKEN_OK,
    device: device(),
    stored: null,
    deviceToken: { kind: "none" },
    pending: null,
    config: { autoApproveLocal: true },
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------------
// Assertion helpers
// ---------------------------------------------------------------------------------------------

export type Admit = Extract<Decision, { kind: "admit" }>;
export type Approve = Extract<Decision, { kind: "approve-then-admit" }>;
export type Pend = Extract<Decision, { kind: "pend" }>;
export type Reject = Extract<Decision, { kind: "reject" }>;

export function run(f: AdmissionFacts): Decision {
  const d = decide(f);
  assert.ok(d.trace.length > 0, `every decision has a trace: ${JSON.stringify(d)}`);
  return d;
}

export function admitted(d: Decision, scopes: readonly string[]): Admit {
  if (d.kind !== "admit") assert.fail(`expected admit, got ${JSON.stringify(d)}`);
  assert.deepEqual(d.scopes, scopes);
  return d;
}

export function approved(d: Decision, ask: Ask): Approve {
  if (d.kind !== "approve-then-admit") assert.fail(`expected approve-then-admit, got ${JSON.stringify(d)}`);
  assert.deepEqual(d.ask, ask);
  return d;
}

export function pended(d: Decision, reason: Pend["reason"], ask?: Ask): Pend {
  if (d.kind !== "pend") assert.fail(`expected pend ${reason}, got ${JSON.stringify(d)}`);
  assert.equal(d.reason, reason);
  if (ask) assert.deepEqual(d.ask, ask);
  return d;
}

export function rejected(d: Decision, code: Reject["code"]): Reject {
  if (d.kind !== "reject") assert.fail(`expected reject ${code}, got ${JSON.stringify(d)}`);
  assert.equal(d.code, code);
  return d;
}

export function methodOf(s: SharedAuthResult): string {
  return s.ok ? s.method : "(failed)";
}

export function sorted(xs: readonly string[]): string[] {
  return [...new Set(xs)].sort();
}
