/**
 * The admission decision: one pure function from explicit facts (transport, proofs, limiter state,
 * stored record, pending request, config) to admit / approve-then-admit / pend / reject, with the
 * trace of rules that produced it and the limiter's bookkeeping. The gateway applies the decision;
 * it never re-decides. What applying it found (a setup code spent by a racing device, a full
 * pending table) is settled by `settle()` in settle.ts, also pure.
 */
import { isBrowserUiClient, type GatewayRole } from "../protocol/client-info.js";
import type {
  AdmissionFacts,
  Ask,
  Credential,
  Decision,
  PendingReason,
  ProvenDeviceFacts,
  SetupCodeCheck,
  StoredDeviceFacts,
  TokenGrant,
} from "./admission-facts.js";
import { decideDeviceLess } from "./admission-device-less.js";
import { weighProofs, type Proofs } from "./credentials.js";
import type { RuleId } from "./rules.js";
import { missingScopes, scopeSatisfied } from "./scopes.js";
import { printableUser } from "./trusted-proxy.js";
import { Verdicts } from "./verdicts.js";

export type * from "./admission-facts.js";

/** Sorted union of string sets. */
export function union<T extends string>(...sets: ReadonlyArray<readonly T[]>): T[] {
  return [...new Set(sets.flat())].sort();
}

/** The roles that still carry rights: approved and not revoked (a role with no token row counts). */
export function effectiveRoles(stored: StoredDeviceFacts): GatewayRole[] {
  return stored.roles.filter((r) => !stored.tokens[r]?.revoked);
}

/** The part of a scope set a token for `role` carries: operator.* for operators, node.* for nodes. */
export function roleScopes(scopes: readonly string[], role: GatewayRole): string[] {
  const prefix = role === "operator" ? "operator." : `${role}.`;
  return scopes.filter((s) => s.startsWith(prefix));
}

/** Decides one connect. Pure: same facts, same decision. */
export function decide(facts: AdmissionFacts): Decision {
  const trace: RuleId[] = [...facts.locality.trace];
  // A device block that does not verify says nothing about who sent it: no credential beside it
  // is read, so nothing is charged either (a client with a skewed clock keeps its budgets).
  if (facts.proofFailure) {
    return {
      kind: "reject",
      code: facts.proofFailure,
      trace: [...trace, "device-proof-invalid"],
      charge: [],
      clear: [],
    };
  }
  const proofs = weighProofs(facts);
  trace.push(...proofs.trace);
  // Behind a trusted proxy a refused identity ends the connect, whatever else came with it: a
  // user the proxy no longer vouches for keeps nothing through it (S26, C06).
  const proxy = proofs.proxy;
  if (proxy?.kind === "refused") {
    return {
      kind: "reject",
      code: proxy.code,
      trace: [...trace, ...proxy.trace],
      charge: [...proofs.charge],
      clear: [],
      ...(proxy.claimed !== null
        ? { proxyUser: { user: printableUser(proxy.claimed), verified: false } }
        : {}),
    };
  }
  if (proxy?.kind === "verified") trace.push(...proxy.trace);
  const v = new Verdicts(trace, proofs);

  // Node-role scopes live under node.* only; anything else is a malformed ask, not an upgrade.
  if (facts.role === "node" && facts.requestedScopes.some((s) => !s.startsWith("node."))) {
    return v.reject("AUTH_SCOPE_MISMATCH", "node-scopes-outside-role");
  }

  // A setup code is a one-time proof for one device: it needs a signed identity to bind to, and a
  // bad one admits nothing, whatever else was presented (C23).
  const { setupCode } = proofs;
  if (setupCode.kind !== "none" && !facts.device) {
    return v.reject("AUTH_BOOTSTRAP_TOKEN_INVALID", "setup-code-needs-device-identity");
  }
  if (setupCode.kind === "invalid") return v.reject("AUTH_BOOTSTRAP_TOKEN_INVALID", "setup-code-invalid");

  const device = facts.device;
  if (!device) return decideDeviceLess(facts, proofs, v);
  if (setupCode.kind === "valid" && !device.ownerKey) {
    return decideSetupCode(facts, device, setupCode, proofs, v);
  }
  return decideDevice(facts, device, proofs, v);
}

/** Why the request is not covered by what was approved for this very key; null when it is. */
function uncovered(facts: AdmissionFacts, device: ProvenDeviceFacts): PendingReason | null {
  const stored = facts.stored;
  if (!stored) return "not-paired";
  if (stored.publicKey !== device.publicKey) return "key-changed";
  if (
    (stored.platform !== null && stored.platform !== device.platform) ||
    (stored.deviceFamily !== null && stored.deviceFamily !== device.deviceFamily)
  ) {
    return "metadata-upgrade";
  }
  if (!effectiveRoles(stored).includes(facts.role)) return "role-upgrade";
  if (missingScopes(stored.scopes, facts.requestedScopes).length > 0) return "scope-upgrade";
  return null;
}

/** One request for everything asked so far by this key: its approval admits the request. */
function askFor(facts: AdmissionFacts, device: ProvenDeviceFacts): Ask {
  const stored = facts.stored;
  const kept = stored !== null && stored.publicKey === device.publicKey ? stored : null;
  const pending =
    facts.pending !== null && facts.pending.publicKey === device.publicKey ? facts.pending : null;
  return {
    roles: union(kept ? effectiveRoles(kept) : [], pending?.roles ?? [], [facts.role]),
    scopes: union(kept?.scopes ?? [], pending?.scopes ?? [], facts.requestedScopes),
  };
}

/**
 * Which proof carries the connect of a device.
 *
 * The owner key first. Then the shared secret above a device token, so that a client sending both
 * keeps its owner-equivalent proof (S07): on direct-local the secret is what may approve an
 * upgrade silently, which a device token never may.
 *
 * Except from a remote address when a valid device token covers the request. There the secret
 * adds nothing the token does not: remote upgrades always wait for an approval (C01), so the only
 * difference it could make is which credential `hello-ok` names (`auth.method`) and which
 * management rights the session gets. Both are visible to the client, so a client holding a
 * device token could test guesses of the shared secret and be told the right one. So the token
 * admits by itself and the reply is the same whatever the secret beside it was; a wrong secret is
 * still charged (credentials.ts), a right one is neither used nor forgiven. Where the secret does
 * decide — a request beyond what the token carries, or an upgrade — it is the credential, and a
 * wrong one is refused and charged like any other guess, so nothing is learned for free.
 */
function chooseCredential(
  facts: AdmissionFacts,
  device: ProvenDeviceFacts,
  proofs: Proofs,
  reason: PendingReason | null,
): { credential: Credential; rule: RuleId | null } | null {
  if (device.ownerKey) return { credential: "owner-key", rule: null };
  const token = proofs.deviceToken;
  const tokenCovers =
    token.kind === "valid" && facts.requestedScopes.every((s) => scopeSatisfied(token.scopes, s));
  const secret = proofs.sharedProof === "token" || proofs.sharedProof === "password";
  if (secret && tokenCovers && reason === null && !facts.locality.directLocal) {
    return { credential: "device-token", rule: "shared-secret-unused-beside-device-token" };
  }
  if (proofs.sharedProof) return { credential: proofs.sharedProof, rule: null };
  if (token.kind === "valid") return { credential: "device-token", rule: null };
  return null;
}

const CREDENTIAL_RULE: Readonly<Record<Credential, RuleId>> = {
  "owner-key": "credential-owner-key",
  "setup-code": "credential-setup-code",
  "device-token": "credential-device-token",
  token: "credential-token",
  password: "credential-password",
  none: "credential-none",
  "runtime-token": "credential-runtime-token",
  "trusted-proxy": "credential-trusted-proxy",
};

const UNCOVERED_RULE: Readonly<Record<PendingReason, RuleId>> = {
  "not-paired": "uncovered-not-paired",
  "key-changed": "uncovered-key-changed",
  "metadata-upgrade": "uncovered-metadata-upgrade",
  "role-upgrade": "uncovered-role-upgrade",
  "scope-upgrade": "uncovered-scope-upgrade",
};

/**
 * A device's connect. `fallback` is a proof that may open a request but never admits or approves by
 * itself (a setup code that cannot serve this connect); it carries the connect only when nothing
 * else does.
 */
function decideDevice(
  facts: AdmissionFacts,
  device: ProvenDeviceFacts,
  proofs: Proofs,
  v: Verdicts,
  fallback: "setup-code" | null = null,
): Decision {
  const reason = uncovered(facts, device);
  const chosen =
    chooseCredential(facts, device, proofs, reason) ??
    (fallback && reason !== null ? { credential: fallback, rule: null } : null);
  if (!chosen) {
    if (proofs.deviceToken.kind !== "none")
      return v.noProof("AUTH_DEVICE_TOKEN_MISMATCH", "device-token-rejected");
    if (facts.proxy && !facts.locality.directLocal) {
      return v.noProof("AUTH_REQUIRED", "trusted-proxy-needs-proxy-or-local-proof");
    }
    if (!proofs.shared.ok) return v.noProof(proofs.shared.code, "shared-auth-failed");
    return v.noProof("AUTH_UNAUTHORIZED", "auth-none-requires-direct-local");
  }
  const { credential } = chosen;
  if (chosen.rule) v.trace.push(chosen.rule);
  if (credential !== fallback) v.trace.push(CREDENTIAL_RULE[credential]);

  if (isLocalBackendWithSecret(facts, credential)) {
    return {
      kind: "admit",
      scopes: [...facts.requestedScopes],
      credential,
      token: { action: "none" },
      runtimeJobId: null,
      ...v.common(["local-backend-device-not-paired"], credential),
    };
  }

  if (reason === null) {
    const token = proofs.deviceToken;
    const tokenCovers =
      token.kind === "valid" && facts.requestedScopes.every((s) => scopeSatisfied(token.scopes, s));
    // A device token caps what a token-authenticated session may ask for (S09: explained, no loop).
    if (credential === "device-token" && !tokenCovers) {
      return v.reject("AUTH_SCOPE_MISMATCH", "request-exceeds-device-token");
    }
    // A proxy session proves itself through the proxy each time: it gets no device token to keep.
    const grant: TokenGrant =
      credential === "owner-key" || credential === "trusted-proxy"
        ? { action: "none" }
        : tokenCovers
          ? { action: "keep" }
          : { action: "issue", scopes: roleScopes(facts.stored!.scopes, facts.role) };
    return {
      kind: "admit",
      scopes: [...facts.requestedScopes],
      credential,
      token: grant,
      runtimeJobId: null,
      ...v.common(["covered-by-approval"], credential),
    };
  }
  v.trace.push(UNCOVERED_RULE[reason]);

  // Not covered: one request for everything asked so far, approved silently only on proof + locality.
  const ask = askFor(facts, device);
  const silent = silentApproval(facts, credential, reason, ask);
  if (silent.ok) {
    return {
      kind: "approve-then-admit",
      ask,
      scopes: [...facts.requestedScopes],
      credential,
      token:
        credential === "owner-key" || credential === "trusted-proxy"
          ? { action: "none" }
          : { action: "issue", scopes: roleScopes(ask.scopes, facts.role) },
      ...v.common([silent.rule], credential),
    };
  }
  return { kind: "pend", reason, ask, credential, ...v.common([silent.rule], credential) };
}

/**
 * The gateway host's own backend (gateway-client/backend, e.g. `openclaw-node` beside the gateway)
 * proving the shared secret direct-local: it is admitted as it would be without its device, which
 * is left unpaired and gets no token. Issuing one would make the client send that narrower token
 * as its credential next time, and its next wider ask would be refused (issue 13).
 */
function isLocalBackendWithSecret(facts: AdmissionFacts, credential: Credential): boolean {
  return (
    (credential === "token" || credential === "password") &&
    facts.role === "operator" &&
    facts.client.id === "gateway-client" &&
    facts.client.mode === "backend" &&
    facts.locality.directLocal &&
    !facts.locality.browserOrigin
  );
}

/**
 * A live setup code approves this device with exactly the code's profile, from anywhere: the code
 * is the owner's approval, given in advance by someone who covers the profile. A request beyond
 * the profile is refused, not pended, so a code can never be the first step of a wider grant
 * (C23), and the token it issues carries the profile, never the device's older baseline.
 *
 * A role whose token was revoked is not the profile's to give back (design principle 7: nothing
 * but a new approval revives what was revoked, and the code's minter need not cover what the role
 * held). Then the code approves nothing and stays unspent; the connect is decided as if it were
 * not there, except that the code still counts as proof enough to open a request (C18), so a
 * device holding nothing else waits for an approval by someone who covers the role's baseline.
 */
function decideSetupCode(
  facts: AdmissionFacts,
  device: ProvenDeviceFacts,
  code: Extract<SetupCodeCheck, { kind: "valid" }>,
  proofs: Proofs,
  v: Verdicts,
): Decision {
  v.trace.push("credential-setup-code");
  if (!code.roles.includes(facts.role)) return v.reject("AUTH_SCOPE_MISMATCH", "role-outside-setup-code");
  if (!facts.requestedScopes.every((s) => scopeSatisfied(code.scopes, s))) {
    return v.reject("AUTH_SCOPE_MISMATCH", "request-exceeds-setup-code");
  }
  const stored = facts.stored;
  const kept = stored !== null && stored.publicKey === device.publicKey ? stored : null;
  if (kept && kept.tokens[facts.role]?.revoked === true) {
    v.trace.push("setup-code-cannot-revive-revoked-role");
    return decideDevice(facts, device, proofs, v, "setup-code");
  }
  return {
    kind: "approve-then-admit",
    ask: {
      roles: union(kept ? effectiveRoles(kept) : [], code.roles),
      scopes: union(kept?.scopes ?? [], code.scopes),
    },
    scopes: [...facts.requestedScopes],
    credential: "setup-code",
    token: { action: "issue", scopes: roleScopes(code.scopes, facts.role) },
    ...v.common(["setup-code-approves-profile"], "setup-code"),
  };
}

const SILENT_RULE: Readonly<Record<"owner-key" | "token" | "password" | "none", RuleId>> = {
  "owner-key": "silent-local-approval-owner-key",
  token: "silent-local-approval-token",
  password: "silent-local-approval-password",
  none: "silent-local-approval-none",
};

/**
 * Silent approval: only direct-local, owner key or shared secret, never a new key, and no browser
 * Origin — except the gateway's own Control UI with the shared secret (issue "Control UI").
 */
function silentApproval(
  facts: AdmissionFacts,
  credential: Credential,
  reason: PendingReason,
  ask: Ask,
): { ok: boolean; rule: RuleId } {
  if (credential === "setup-code") return { ok: false, rule: "setup-code-waits-for-approval" };
  if (reason === "key-changed") return { ok: false, rule: "key-change-needs-approval" };
  if (credential === "trusted-proxy") return proxyAutoApproval(facts, ask);
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
  if (
    credential === "owner-key" ||
    credential === "token" ||
    credential === "password" ||
    credential === "none"
  ) {
    return { ok: true, rule: SILENT_RULE[credential] };
  }
  return { ok: false, rule: "device-token-is-not-owner-proof" };
}

/**
 * `gateway.auth.trustedProxy.deviceAutoApprove` (S27): a device the proxy's verified user brings is
 * approved without a person, but only for the operator role and only for scopes the operator
 * listed; what was approved before stays as it was. A key change never gets here.
 */
function proxyAutoApproval(facts: AdmissionFacts, ask: Ask): { ok: boolean; rule: RuleId } {
  const auto = facts.proxy?.config.deviceAutoApprove;
  if (!auto?.enabled) return { ok: false, rule: "trusted-proxy-auto-approve-disabled" };
  const stored = facts.stored;
  const kept = stored !== null && stored.publicKey === facts.device?.publicKey ? stored : null;
  const keptRoles = kept ? effectiveRoles(kept) : [];
  if (facts.role !== "operator" || ask.roles.some((r) => r !== "operator" && !keptRoles.includes(r))) {
    return { ok: false, rule: "trusted-proxy-auto-approve-node-role" };
  }
  const added = ask.scopes.filter((s) => !(kept?.scopes ?? []).includes(s));
  if (!added.every((s) => scopeSatisfied(auto.scopes, s))) {
    return { ok: false, rule: "trusted-proxy-auto-approve-exceeds-scopes" };
  }
  return { ok: true, rule: "trusted-proxy-auto-approve" };
}
