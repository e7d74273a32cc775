/**
 * The admission decision: one pure function from explicit facts (transport, proofs, stored record,
 * pending request, config) to admit / approve-then-admit / pend / reject, with the trace of rules
 * that produced it. The gateway applies the decision; it never re-decides.
 */
import { isBrowserUiClient } from "../protocol/client-info.js";
import type { GatewayErrorCode } from "../protocol/errors.js";
import type { Locality } from "./locality.js";
import { missingScopes, scopeSatisfied } from "./scopes.js";

export type AuthFailureCode =
  | "AUTH_TOKEN_MISSING"
  | "AUTH_TOKEN_MISMATCH"
  | "AUTH_TOKEN_NOT_CONFIGURED"
  | "AUTH_PASSWORD_MISSING"
  | "AUTH_PASSWORD_MISMATCH"
  | "AUTH_PASSWORD_NOT_CONFIGURED";

/** Outcome of checking the shared token/password (done by the gateway, in constant time). */
export type SharedAuthResult =
  | { ok: true; method: "token" | "password" | "none" }
  | { ok: false; code: AuthFailureCode; provided: boolean };

export type PendingReason =
  "not-paired" | "role-upgrade" | "scope-upgrade" | "metadata-upgrade" | "key-changed";

/** How this connection proved who it is, strongest first. */
export type Credential =
  "owner-key" | "setup-code" | "device-token" | "token" | "password" | "none" | "runtime-token";

/** A gateway-minted runtime token presented by a child process the gateway started (device-less). */
export type RuntimeTokenCheck =
  { kind: "none" } | { kind: "valid"; scopes: readonly string[]; jobId: string } | { kind: "invalid" };

/**
 * A setup code presented as `auth.bootstrapToken`, checked against the store: unknown, used by
 * another device, or expired is `invalid`; a live one carries the profile it pre-approves.
 */
export type SetupCodeCheck =
  | { kind: "none" }
  | { kind: "valid"; roles: readonly string[]; scopes: readonly string[] }
  | { kind: "invalid" };

/** The stored pairing record of the device, as the policy needs it. */
export interface StoredDeviceFacts {
  publicKey: string;
  /** Approved roles. */
  roles: readonly string[];
  /** Approved scope baseline. */
  scopes: readonly string[];
  /** Pinned metadata (normalized); null when never pinned. */
  platform: string | null;
  deviceFamily: string | null;
  /** Token state per role. A role with no row (legacy, or never minted) stays effective if approved. */
  tokens: Readonly<Record<string, { revoked: boolean; scopes: readonly string[] }>>;
}

/** The presented `auth.deviceToken` checked against the store for (device, role). */
export type DeviceTokenCheck =
  | { kind: "none" }
  | { kind: "valid"; scopes: readonly string[] }
  | { kind: "revoked" }
  | { kind: "mismatch" };

export interface PendingFacts {
  requestId: string;
  publicKey: string;
  roles: readonly string[];
  scopes: readonly string[];
}

export interface AdmissionConfig {
  /** `gateway.pairing.autoApproveLocal`; silent local approval is off only when this is false. */
  autoApproveLocal: boolean;
}

export interface AdmissionFacts {
  locality: Pick<Locality, "directLocal" | "browserOrigin" | "trace"> & { ownOrigin?: boolean };
  client: { id: string; mode: string };
  role: "operator" | "node";
  requestedScopes: readonly string[];
  sharedAuth: SharedAuthResult;
  /** Present only when the device proof (id, age, nonce, signature) verified. */
  device: {
    deviceId: string;
    publicKey: string;
    platform: string;
    deviceFamily: string;
    /** The proven key is the gateway host's owner identity (state dir). */
    ownerKey: boolean;
  } | null;
  stored: StoredDeviceFacts | null;
  deviceToken: DeviceTokenCheck;
  /** Absent means none was presented. */
  runtimeToken?: RuntimeTokenCheck;
  /** Absent means none was presented. */
  setupCode?: SetupCodeCheck;
  pending: PendingFacts | null;
  config: AdmissionConfig;
}

/** What to grant or ask for: whole role and scope sets, never a delta. */
export interface Ask {
  roles: string[];
  scopes: string[];
}

/** Token handling after admission: keep the presented one, mint a new one, or none (owner key, device-less). */
export type TokenAction = "keep" | "issue" | "none";

export type Decision =
  | { kind: "admit"; scopes: string[]; credential: Credential; token: TokenAction; trace: string[] }
  | {
      kind: "approve-then-admit";
      ask: Ask;
      scopes: string[];
      credential: Credential;
      token: TokenAction;
      trace: string[];
    }
  | { kind: "pend"; reason: PendingReason; ask: Ask; credential: Credential; trace: string[] }
  | { kind: "reject"; code: GatewayErrorCode; trace: string[] };

/** Clients that run on the gateway host as its own helpers and keep their declared scopes there. */
function localLane(client: { id: string; mode: string }): "cli" | "backend" | null {
  if (client.id === "cli" && client.mode === "cli") return "cli";
  if (client.id === "gateway-client" && client.mode === "backend") return "backend";
  return null;
}

/** Sorted union of string sets. */
export function union(...sets: ReadonlyArray<readonly string[]>): string[] {
  return [...new Set(sets.flat())].sort();
}

/** The roles that still carry rights: approved and not revoked (a role with no token row counts). */
export function effectiveRoles(stored: StoredDeviceFacts): string[] {
  return stored.roles.filter((r) => !stored.tokens[r]?.revoked);
}

/** Decides one connect. Pure: same facts, same decision. */
export function decide(facts: AdmissionFacts): Decision {
  const trace: string[] = [...facts.locality.trace];
  const reject = (code: GatewayErrorCode, rule: string): Decision => ({
    kind: "reject",
    code,
    trace: [...trace, rule],
  });
  const { sharedAuth, locality, device } = facts;
  const sharedProof: Credential | null =
    sharedAuth.ok && (sharedAuth.method !== "none" || locality.directLocal) ? sharedAuth.method : null;

  // Node-role scopes live under node.* only; anything else is a malformed ask, not an upgrade.
  if (facts.role === "node" && facts.requestedScopes.some((s) => !s.startsWith("node."))) {
    return reject("AUTH_SCOPE_MISMATCH", "node-scopes-outside-role");
  }

  // A setup code is a one-time proof for one device: it needs a signed identity to bind to, and a
  // bad one admits nothing, whatever else was presented (C23).
  const setupCode = facts.setupCode ?? { kind: "none" };
  if (setupCode.kind !== "none" && !device) {
    return reject("AUTH_BOOTSTRAP_TOKEN_INVALID", "setup-code-needs-device-identity");
  }
  if (setupCode.kind === "invalid") return reject("AUTH_BOOTSTRAP_TOKEN_INVALID", "setup-code-invalid");

  if (!device) return decideDeviceLess(facts, sharedProof, trace, reject);
  if (setupCode.kind === "valid" && !device.ownerKey) {
    return decideSetupCode(facts, device, setupCode, trace, reject);
  }

  // 1. Credential: owner key, then the shared secret, then a valid device token. The shared secret
  // ranks above the token so a client sending both keeps its owner-equivalent proof (S07).
  let credential: Credential;
  if (device.ownerKey) credential = "owner-key";
  else if (sharedProof) credential = sharedProof;
  else if (facts.deviceToken.kind === "valid") credential = "device-token";
  else if (facts.deviceToken.kind !== "none")
    return reject("AUTH_DEVICE_TOKEN_MISMATCH", "device-token-rejected");
  else if (!sharedAuth.ok) return reject(sharedAuth.code, "shared-auth-failed");
  else return reject("AUTH_UNAUTHORIZED", "auth-none-requires-direct-local");
  trace.push(`credential-${credential}`);

  // 2. Is the request covered by what was approved for this very key?
  const stored = facts.stored;
  const sameKey = stored !== null && stored.publicKey === device.publicKey;
  let reason: PendingReason | null = null;
  if (!stored) reason = "not-paired";
  else if (!sameKey) reason = "key-changed";
  else if (
    (stored.platform !== null && stored.platform !== device.platform) ||
    (stored.deviceFamily !== null && stored.deviceFamily !== device.deviceFamily)
  ) {
    reason = "metadata-upgrade";
  } else if (!effectiveRoles(stored).includes(facts.role)) reason = "role-upgrade";
  else if (missingScopes(stored.scopes, facts.requestedScopes).length > 0) reason = "scope-upgrade";

  if (reason === null) {
    // A device token caps what a token-authenticated session may ask for (S09: explained, no loop).
    if (credential === "device-token" && facts.deviceToken.kind === "valid") {
      const tokenScopes = facts.deviceToken.scopes;
      if (!facts.requestedScopes.every((s) => scopeSatisfied(tokenScopes, s))) {
        return reject("AUTH_SCOPE_MISMATCH", "request-exceeds-device-token");
      }
    }
    return {
      kind: "admit",
      scopes: [...facts.requestedScopes],
      credential,
      token: tokenAction(credential, facts.deviceToken, facts.requestedScopes),
      trace: [...trace, "covered-by-approval"],
    };
  }
  trace.push(`uncovered-${reason}`);

  // 3. Not covered: one request for everything asked so far, approved silently only on proof + locality.
  const pendingSameKey = facts.pending !== null && facts.pending.publicKey === device.publicKey;
  const ask: Ask = {
    roles: union(sameKey ? effectiveRoles(stored!) : [], pendingSameKey ? facts.pending!.roles : [], [
      facts.role,
    ]),
    scopes: union(
      sameKey ? stored!.scopes : [],
      pendingSameKey ? facts.pending!.scopes : [],
      facts.requestedScopes,
    ),
  };
  const silent = silentApproval(facts, credential, reason);
  trace.push(silent.rule);
  if (silent.ok) {
    return {
      kind: "approve-then-admit",
      ask,
      scopes: [...facts.requestedScopes],
      credential,
      token: credential === "owner-key" ? "none" : "issue",
      trace,
    };
  }
  return { kind: "pend", reason, ask, credential, trace };
}

/**
 * A live setup code approves this device with exactly the code's profile, from anywhere: the code
 * is the owner's approval, given in advance. A request beyond the profile is refused, not pended,
 * so a code can never be the first step of a wider grant (C23).
 */
function decideSetupCode(
  facts: AdmissionFacts,
  device: NonNullable<AdmissionFacts["device"]>,
  code: Extract<SetupCodeCheck, { kind: "valid" }>,
  trace: string[],
  reject: (code: GatewayErrorCode, rule: string) => Decision,
): Decision {
  trace.push("credential-setup-code");
  if (!code.roles.includes(facts.role)) return reject("AUTH_SCOPE_MISMATCH", "role-outside-setup-code");
  if (!facts.requestedScopes.every((s) => scopeSatisfied(code.scopes, s))) {
    return reject("AUTH_SCOPE_MISMATCH", "request-exceeds-setup-code");
  }
  const stored = facts.stored;
  const sameKey = stored !== null && stored.publicKey === device.publicKey;
  return {
    kind: "approve-then-admit",
    ask: {
      roles: union(sameKey ? effectiveRoles(stored) : [], code.roles),
      scopes: union(sameKey ? stored.scopes : [], code.scopes),
    },
    scopes: [...facts.requestedScopes],
    credential: "setup-code",
    token: "issue",
    trace: [...trace, "setup-code-approves-profile"],
  };
}

/**
 * Silent approval: only direct-local, owner key or shared secret, never a new key, and no browser
 * Origin — except the gateway's own Control UI with the shared secret (issue "Control UI").
 */
function silentApproval(facts: AdmissionFacts, credential: Credential, reason: PendingReason) {
  if (reason === "key-changed") return { ok: false, rule: "key-change-needs-approval" };
  if (!facts.locality.directLocal) return { ok: false, rule: "remote-needs-approval" };
  if (facts.locality.browserOrigin) {
    // One exception: the gateway's own Control UI, opened on loopback, proving the shared secret.
    const ownUi =
      facts.locality.ownOrigin === true &&
      isBrowserUiClient(facts.client.id, facts.client.mode) &&
      (credential === "token" || credential === "password");
    if (!ownUi) return { ok: false, rule: "browser-origin-needs-approval" };
  }
  if (!facts.config.autoApproveLocal) return { ok: false, rule: "auto-approve-local-disabled" };
  if (credential === "device-token") return { ok: false, rule: "device-token-is-not-owner-proof" };
  return { ok: true, rule: `silent-local-approval-${credential}` };
}

/** Keep a presented token that still covers the session; mint one otherwise (never for the owner key). */
function tokenAction(
  credential: Credential,
  token: DeviceTokenCheck,
  requested: readonly string[],
): TokenAction {
  if (credential === "owner-key") return "none";
  if (token.kind === "valid" && requested.every((s) => scopeSatisfied(token.scopes, s))) return "keep";
  return "issue";
}

function decideDeviceLess(
  facts: AdmissionFacts,
  sharedProof: Credential | null,
  trace: string[],
  reject: (code: GatewayErrorCode, rule: string) => Decision,
): Decision {
  const { sharedAuth, locality } = facts;
  const runtime = facts.runtimeToken ?? { kind: "none" };
  if (runtime.kind !== "none") return decideRuntimeToken(facts, runtime, trace, reject);
  if (!sharedAuth.ok) {
    if (facts.deviceToken.kind !== "none" && !sharedAuth.provided) {
      return reject("AUTH_DEVICE_TOKEN_MISMATCH", "device-token-without-device");
    }
    return reject(sharedAuth.code, "shared-auth-failed");
  }
  if (!sharedProof) return reject("AUTH_UNAUTHORIZED", "auth-none-requires-direct-local");
  trace.push(`credential-${sharedProof}`);
  if (facts.role !== "operator") return reject("DEVICE_IDENTITY_REQUIRED", "device-less-needs-operator-role");
  if (isBrowserUiClient(facts.client.id, facts.client.mode)) {
    return reject("CONTROL_UI_DEVICE_IDENTITY_REQUIRED", "browser-ui-needs-device");
  }
  const lane = localLane(facts.client);
  if (locality.directLocal && !locality.browserOrigin && lane) {
    return {
      kind: "admit",
      scopes: [...facts.requestedScopes],
      credential: sharedProof,
      token: "none",
      trace: [...trace, `device-less-local-${lane}-keeps-scopes`],
    };
  }
  // Scopes a client declares without a device are not bound to anything: clear them (C13).
  return {
    kind: "admit",
    scopes: [],
    credential: sharedProof,
    token: "none",
    trace: [...trace, "device-less-no-scopes"],
  };
}

/**
 * A runtime token is the whole proof for work the gateway started: no pairing, no device, and never
 * more than the token carries (which was never more than its creator held). Browsers cannot use one.
 */
function decideRuntimeToken(
  facts: AdmissionFacts,
  runtime: Exclude<RuntimeTokenCheck, { kind: "none" }>,
  trace: string[],
  reject: (code: GatewayErrorCode, rule: string) => Decision,
): Decision {
  if (runtime.kind === "invalid") return reject("AUTH_RUNTIME_TOKEN_INVALID", "runtime-token-invalid");
  if (facts.locality.browserOrigin) return reject("AUTH_RUNTIME_TOKEN_INVALID", "runtime-token-from-browser");
  if (facts.role !== "operator")
    return reject("AUTH_RUNTIME_TOKEN_INVALID", "runtime-token-is-operator-only");
  if (!facts.requestedScopes.every((s) => scopeSatisfied(runtime.scopes, s))) {
    return reject("AUTH_SCOPE_MISMATCH", "request-exceeds-runtime-token");
  }
  trace.push("credential-runtime-token", `runtime-job-${runtime.jobId}`);
  return {
    kind: "admit",
    scopes: [...facts.requestedScopes],
    credential: "runtime-token",
    token: "none",
    trace: [...trace, "runtime-token-within-scopes"],
  };
}
