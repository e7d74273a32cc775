/**
 * What the admission decision is made from (facts) and what it returns (a decision with its trace).
 * Facts hold outcomes of checks, never the secrets checked: they go to the audit log and to
 * `gatehouse explain` as they are.
 */
import type { GatewayRole } from "../protocol/client-info.js";
import type { GatewayErrorCode } from "../protocol/errors.js";
import type { Locality } from "./locality.js";
import type { ProxyFacts } from "./trusted-proxy.js";
import type { RuleId } from "./rules.js";

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

/** How this connection proved who it is. */
export type Credential =
  | "owner-key"
  | "setup-code"
  | "device-token"
  | "token"
  | "password"
  | "none"
  | "runtime-token"
  | "trusted-proxy";

/**
 * The credentials the failed-credential limiter counts (C17), each with its own budget per client
 * address. The token slot holding a device token counts as a device token.
 */
export type CredentialKind = "shared-secret" | "device-token" | "runtime-token" | "setup-code";

/** Presented credentials locked out for this client address, each with how long it stays locked. */
export type Lockouts = Readonly<Partial<Record<CredentialKind, number>>>;

/** A gateway-minted runtime token presented by a child process the gateway started (device-less). */
export type RuntimeTokenCheck =
  { kind: "none" } | { kind: "valid"; scopes: readonly string[]; jobId: string } | { kind: "invalid" };

/**
 * A setup code presented as `auth.bootstrapToken`, checked against the store: unknown, used by
 * another device, or expired is `invalid`; one this very device redeemed earlier is
 * `spent-by-this-device`; a live one carries the profile it pre-approves.
 */
export type SetupCodeCheck =
  | { kind: "none" }
  | { kind: "valid"; roles: readonly GatewayRole[]; scopes: readonly string[] }
  | { kind: "invalid" }
  | { kind: "spent-by-this-device" };

/** The stored pairing record of the device, as the policy needs it. */
export interface StoredDeviceFacts {
  publicKey: string;
  /** Approved roles. */
  roles: readonly GatewayRole[];
  /** Approved scope baseline. */
  scopes: readonly string[];
  /** Pinned metadata (normalized); null when never pinned. */
  platform: string | null;
  deviceFamily: string | null;
  /** Token state per role. A role with no row (legacy, or never minted) stays effective if approved. */
  tokens: Readonly<Record<string, { revoked: boolean; scopes: readonly string[] }>>;
}

/** A presented device token checked against the store for (device, role). */
export type DeviceTokenCheck =
  | { kind: "none" }
  | { kind: "valid"; scopes: readonly string[] }
  | { kind: "revoked" }
  | { kind: "mismatch" };

export interface PendingFacts {
  requestId: string;
  publicKey: string;
  roles: readonly GatewayRole[];
  scopes: readonly string[];
}

export interface AdmissionConfig {
  /** `gateway.pairing.autoApproveLocal`; silent local approval is off only when this is false. */
  autoApproveLocal: boolean;
}

/** The device block failed verification; the protocol's code says which check. */
export type DeviceProofFailure = Extract<GatewayErrorCode, `DEVICE_AUTH_${string}`>;

/** The device a connect proved (its signature verified against this connection's challenge). */
export interface ProvenDeviceFacts {
  deviceId: string;
  publicKey: string;
  platform: string;
  deviceFamily: string;
  /** The proven key is the gateway host's owner identity (state dir). */
  ownerKey: boolean;
}

export interface AdmissionFacts {
  locality: Pick<Locality, "directLocal" | "browserOrigin" | "trace"> & { ownOrigin?: boolean };
  client: { id: string; mode: string };
  role: "operator" | "node";
  requestedScopes: readonly string[];
  sharedAuth: SharedAuthResult;
  /** Present only when the device proof (id, age, nonce, signature) verified. */
  device: ProvenDeviceFacts | null;
  /** A device block was sent and did not verify (then `device` is null). */
  proofFailure?: DeviceProofFailure;
  stored: StoredDeviceFacts | null;
  /** `auth.deviceToken` checked for (device, role); without a device identity a presented one is a mismatch. */
  deviceToken: DeviceTokenCheck;
  /**
   * `auth.token` checked as this device's token for the role (older clients send it there). Present
   * only when `auth.deviceToken` was empty and `auth.token` did not match the shared secret.
   */
  tokenSlot?: DeviceTokenCheck;
  /** Absent means none was presented. */
  runtimeToken?: RuntimeTokenCheck;
  /** Absent means none was presented. */
  setupCode?: SetupCodeCheck;
  /** The limiter's state for the credentials presented; absent means none is locked. */
  lockouts?: Lockouts;
  pending: PendingFacts | null;
  config: AdmissionConfig;
  /** Present exactly when `gateway.auth.mode` is "trusted-proxy": the proxy and what it asserts. */
  proxy?: ProxyFacts;
}

/** What to grant or ask for: whole role and scope sets, never a delta. */
export interface Ask {
  roles: GatewayRole[];
  scopes: string[];
}

/**
 * Token handling after admission: keep the presented one, mint one carrying exactly `scopes`, or
 * none (owner key, device-less).
 */
export type TokenGrant = { action: "keep" } | { action: "issue"; scopes: string[] } | { action: "none" };

/** What every decision carries besides its kind: the rules that produced it and the limiter's bookkeeping. */
export interface DecisionCommon {
  trace: RuleId[];
  /** Presented credentials that were wrong: each is a failure for this client address (C17). */
  charge: CredentialKind[];
  /** The credential that proved the connect: its failures for this address are forgiven. */
  clear: CredentialKind[];
  /**
   * Trusted-proxy mode: the user the proxy vouched for (`verified`), or the one its headers named
   * when they were refused. For the audit log and `explain`; never a secret.
   */
  proxyUser?: { user: string; verified: boolean };
}

export type Decision = DecisionCommon &
  (
    | {
        kind: "admit";
        scopes: string[];
        credential: Credential;
        token: TokenGrant;
        /** The gateway job whose runtime token admitted the connect. */
        runtimeJobId: string | null;
      }
    | {
        kind: "approve-then-admit";
        ask: Ask;
        scopes: string[];
        credential: Credential;
        token: TokenGrant;
      }
    | { kind: "pend"; reason: PendingReason; ask: Ask; credential: Credential }
    | {
        kind: "reject";
        code: GatewayErrorCode;
        /** AUTH_RATE_LIMITED: when the locked credentials may be tried again. */
        retryAfterMs?: number;
      }
  );
