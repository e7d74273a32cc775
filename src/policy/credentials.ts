/**
 * Reading the presented credentials before anything is decided with them: which ones the
 * failed-credential limiter has locked out (they count as absent), which slot a device token came
 * in, whether a spent setup code still matters, and which wrong ones are charged (C17).
 *
 * Charging is decided here, once, from what was presented, so it cannot depend on what later
 * admits the connect: a wrong shared secret beside a valid device token is charged exactly like a
 * wrong shared secret alone. Otherwise a device token would make the shared secret guessable
 * without limit.
 */
import type {
  AdmissionFacts,
  Credential,
  CredentialKind,
  DeviceTokenCheck,
  RuntimeTokenCheck,
  SetupCodeCheck,
  SharedAuthResult,
} from "./admission-facts.js";
import type { RuleId } from "./rules.js";
import { resolveProxyIdentity, type ProxyIdentity } from "./trusted-proxy.js";

/** The credentials as the decision may use them. */
export interface Proofs {
  /** The shared-secret check; a locked-out one reads as not provided. */
  shared: SharedAuthResult;
  /**
   * The shared secret, when it proves something here (mode none only counts direct-local). In
   * trusted-proxy mode: the proxy's verified identity, or the password from this host directly.
   */
  sharedProof: "token" | "password" | "none" | "trusted-proxy" | null;
  /** Trusted-proxy mode: what the proxy facts came to; null in every other mode. */
  proxy: ProxyIdentity | null;
  /** The device token, from `auth.deviceToken` or (older clients) the token slot; none when locked out. */
  deviceToken: DeviceTokenCheck;
  runtime: RuntimeTokenCheck;
  /** none when absent, locked out, or this device's own spent code beside a working credential. */
  setupCode: Exclude<SetupCodeCheck, { kind: "spent-by-this-device" }>;
  /** Some presented credential was set aside as locked out: the earliest it may be tried again. */
  lockedRetryAfterMs: number | null;
  charge: CredentialKind[];
  trace: RuleId[];
}

const KINDS: readonly CredentialKind[] = ["shared-secret", "device-token", "setup-code", "runtime-token"];

const LOCK_RULES: Readonly<Record<CredentialKind, RuleId>> = {
  "shared-secret": "shared-secret-locked-out",
  "device-token": "device-token-locked-out",
  "setup-code": "setup-code-locked-out",
  "runtime-token": "runtime-token-locked-out",
};

/** The shared-secret check as it reads when nothing was presented in its slot. */
function notPresented(shared: SharedAuthResult): SharedAuthResult {
  if (shared.ok) {
    if (shared.method === "none") return shared;
    return {
      ok: false,
      code: shared.method === "token" ? "AUTH_TOKEN_MISSING" : "AUTH_PASSWORD_MISSING",
      provided: false,
    };
  }
  if (shared.code === "AUTH_TOKEN_NOT_CONFIGURED" || shared.code === "AUTH_PASSWORD_NOT_CONFIGURED") {
    return { ...shared, provided: false };
  }
  return {
    ok: false,
    code: shared.code.startsWith("AUTH_TOKEN") ? "AUTH_TOKEN_MISSING" : "AUTH_PASSWORD_MISSING",
    provided: false,
  };
}

/** Whether the client put something in a credential's slot. */
function presented(facts: AdmissionFacts, kind: CredentialKind): boolean {
  switch (kind) {
    case "shared-secret":
      return facts.sharedAuth.ok ? facts.sharedAuth.method !== "none" : facts.sharedAuth.provided;
    case "device-token":
      return facts.deviceToken.kind !== "none" || (facts.tokenSlot ?? { kind: "none" }).kind !== "none";
    case "runtime-token":
      return (facts.runtimeToken ?? { kind: "none" }).kind !== "none";
    case "setup-code":
      return (facts.setupCode ?? { kind: "none" }).kind !== "none";
  }
}

/** Reads the presented credentials; pure. */
export function weighProofs(facts: AdmissionFacts): Proofs {
  const trace: RuleId[] = [];
  const charge: CredentialKind[] = [];
  const lockouts = facts.lockouts;
  const locked = (kind: CredentialKind) =>
    lockouts !== undefined && lockouts[kind] !== undefined && presented(facts, kind);
  let lockedRetryAfterMs: number | null = null;
  if (lockouts !== undefined) {
    for (const kind of KINDS) {
      if (!locked(kind)) continue;
      trace.push(LOCK_RULES[kind]);
      const after = lockouts[kind]!;
      lockedRetryAfterMs = lockedRetryAfterMs === null ? after : Math.min(lockedRetryAfterMs, after);
    }
  }

  let shared = locked("shared-secret") ? notPresented(facts.sharedAuth) : facts.sharedAuth;
  let deviceToken: DeviceTokenCheck = locked("device-token") ? { kind: "none" } : facts.deviceToken;
  // Older clients send their device token in auth.token. Only a token that really is this device's
  // counts as one; anything else in that slot stays what it was: a wrong shared secret.
  const slot = facts.tokenSlot ?? { kind: "none" };
  if (!locked("device-token") && deviceToken.kind === "none" && slot.kind === "valid" && !shared.ok) {
    deviceToken = slot;
    shared = notPresented(shared);
    trace.push("device-token-in-token-slot");
  }
  const proxy = facts.proxy ? resolveProxyIdentity(facts.proxy) : null;
  if (proxy && (proxy.kind !== "direct" || !facts.locality.directLocal)) {
    // Behind the proxy the password is for internal callers on this host only: anywhere else it
    // does not count, right or wrong, so no reply can confirm a guess and nothing is charged for it.
    if (shared.ok || shared.provided) trace.push("trusted-proxy-password-off-host");
    shared = notPresented(shared);
  }
  if (!shared.ok && shared.provided) {
    charge.push("shared-secret");
    trace.push("shared-secret-wrong");
  }
  if (deviceToken.kind === "mismatch" || deviceToken.kind === "revoked") {
    charge.push("device-token");
    trace.push("device-token-wrong");
  }
  const sharedProof =
    proxy?.kind === "verified"
      ? "trusted-proxy"
      : shared.ok && (shared.method !== "none" || facts.locality.directLocal)
        ? shared.method
        : null;

  const runtime: RuntimeTokenCheck = locked("runtime-token")
    ? { kind: "none" }
    : (facts.runtimeToken ?? { kind: "none" });
  if (runtime.kind === "invalid") charge.push("runtime-token");

  const code: SetupCodeCheck = locked("setup-code")
    ? { kind: "none" }
    : (facts.setupCode ?? { kind: "none" });
  let setupCode: Proofs["setupCode"];
  if (code.kind === "spent-by-this-device") {
    // This device's own spent code beside a credential that works (a node host restarted with
    // --pair still on its command line) adds nothing; alone it is just a used code.
    const works = facts.device?.ownerKey === true || deviceToken.kind === "valid" || sharedProof !== null;
    if (works) trace.push("own-spent-setup-code-ignored");
    setupCode = works ? { kind: "none" } : { kind: "invalid" };
  } else {
    setupCode = code;
  }
  if (setupCode.kind === "invalid") charge.push("setup-code");

  return { shared, sharedProof, proxy, deviceToken, runtime, setupCode, lockedRetryAfterMs, charge, trace };
}

/** The limiter budget a credential draws on; null for proofs nobody can guess (owner key, mode none). */
export function credentialKind(credential: Credential): CredentialKind | null {
  switch (credential) {
    case "token":
    case "password":
      return "shared-secret";
    case "device-token":
      return "device-token";
    case "runtime-token":
      return "runtime-token";
    case "setup-code":
      return "setup-code";
    case "owner-key":
    case "none":
    case "trusted-proxy":
      return null;
  }
}
