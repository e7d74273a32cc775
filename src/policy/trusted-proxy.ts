/**
 * `auth.mode: "trusted-proxy"` (issue 16, S24–S27, C03–C07): who the identity-aware proxy says the
 * user is, and whether to believe it. Pure: the gateway gathers what the socket and the headers
 * showed and the outcome of the JWT verification (I/O: the JWKS), and these rules decide.
 *
 * A connection is a proxy attempt when it carries an identity header (the user header or the
 * assertion header), or forwarding headers from a trusted proxy. Everything else is a direct
 * connection: on this host it may use the owner key, a runtime token or `auth.password` (internal
 * callers keep working without the proxy); elsewhere only a device's own proofs.
 */
import { canonicalIp, ipInAnyRange, isLoopbackIp } from "./ip.js";
import { walkForwardedFor, type TransportFacts } from "./locality.js";
import type { RuleId } from "./rules.js";

/** Why the proxy's JWT did not verify (never the token itself). */
export type AssertionFailure =
  | "malformed"
  | "signature"
  | "unknown-key"
  | "algorithm"
  | "expired"
  | "not-yet-valid"
  | "issuer"
  | "audience"
  | "claim-missing"
  | "keys-unavailable";

/** The assertion header checked against the JWKS (by the gateway, with `jose`). */
export type AssertionCheck =
  | { kind: "not-configured" }
  | { kind: "missing" }
  /** `claim` is the configured userClaim's value; null when no userClaim is configured. */
  | { kind: "valid"; claim: string | null }
  | { kind: "invalid"; why: AssertionFailure };

/** `gateway.auth.trustedProxy` and `identityScopes` as the policy needs them. */
export interface TrustedProxyPolicy {
  allowLoopback: boolean;
  allowUsers: readonly string[];
  identityScopes: Readonly<Record<string, readonly string[]>>;
  deviceAutoApprove: { enabled: boolean; scopes: readonly string[] };
}

/** What the gateway observed about the proxy and the identity it asserts. */
export interface ProxyFacts {
  /** The socket peer is in gateway.trustedProxies (CIDR-aware). */
  peerTrusted: boolean;
  peerLoopback: boolean;
  /** The peer is one of this host's own non-loopback addresses (a local process, not a proxy). */
  peerOwnAddress: boolean;
  /** Forwarding headers: absent, or the client they resolve to (right to left past trusted hops). */
  forwarded: "none" | "non-loopback" | "loopback" | "unattributable";
  /** A configured identity header (user header or assertion header) was sent, blank or not. */
  identityHeaders: boolean;
  /** Required headers that were absent or blank (names only). */
  missingHeaders: readonly string[];
  /** The user header's value, trimmed; null when not configured, absent or blank. */
  userHeader: string | null;
  userHeaderConfigured: boolean;
  assertion: AssertionCheck;
  config: TrustedProxyPolicy;
}

/** What the socket showed about the peer and its forwarding headers, as {@link ProxyFacts} holds it. */
export function proxyPeerFacts(
  transport: TransportFacts,
  trustedProxies: readonly string[],
  ownAddresses: readonly string[],
): Pick<ProxyFacts, "peerTrusted" | "peerLoopback" | "peerOwnAddress" | "forwarded"> {
  const peer = canonicalIp(transport.peerAddress) ?? transport.peerAddress;
  const peerTrusted = ipInAnyRange(peer, trustedProxies);
  const peerLoopback = isLoopbackIp(peer);
  const peerOwnAddress = ownAddresses.some((a) => canonicalIp(a) === peer);
  let forwarded: ProxyFacts["forwarded"] = "none";
  if (transport.hasProxyHeaders) {
    const client = peerTrusted ? walkForwardedFor(transport.forwardedFor, trustedProxies) : null;
    forwarded = client === null ? "unattributable" : isLoopbackIp(client) ? "loopback" : "non-loopback";
  }
  return { peerTrusted, peerLoopback, peerOwnAddress, forwarded };
}

/** What the proxy facts come to. */
export type ProxyIdentity =
  | { kind: "direct" }
  | { kind: "verified"; user: string; trace: RuleId[] }
  | {
      kind: "refused";
      code: ProxyRefusalCode;
      rule: RuleId;
      trace: RuleId[];
      /** The user the headers named, when they got that far (audit only: not verified). */
      claimed: string | null;
    };

export type ProxyRefusalCode =
  | "AUTH_TRUSTED_PROXY_UNTRUSTED_SOURCE"
  | "AUTH_IDENTITY_HEADER_REQUIRED"
  | "AUTH_TRUSTED_PROXY_ASSERTION_INVALID"
  | "AUTH_TRUSTED_PROXY_USER_NOT_ALLOWED";

const ASSERTION_RULE: Readonly<Record<AssertionFailure, RuleId>> = {
  malformed: "proxy-assertion-malformed",
  signature: "proxy-assertion-signature-invalid",
  "unknown-key": "proxy-assertion-unknown-key",
  algorithm: "proxy-assertion-algorithm-refused",
  expired: "proxy-assertion-expired",
  "not-yet-valid": "proxy-assertion-not-yet-valid",
  issuer: "proxy-assertion-wrong-issuer",
  audience: "proxy-assertion-wrong-audience",
  "claim-missing": "proxy-assertion-claim-missing",
  "keys-unavailable": "proxy-assertion-keys-unavailable",
};

/** Longest user name recorded; the header is the proxy's, but a bad proxy must not flood the log. */
const MAX_USER_LENGTH = 256;

/** A user as the audit log and `explain` show it: control characters removed, length capped. */
export function printableUser(user: string): string {
  return user.replace(/\p{Cc}/gu, "").slice(0, MAX_USER_LENGTH);
}

/** Same user? E-mail addresses compare case-insensitively (IdPs differ in the case they send). */
export function sameUser(a: string, b: string): boolean {
  if (a.includes("@") && b.includes("@")) return a.toLowerCase() === b.toLowerCase();
  return a === b;
}

/** The operator scopes `gateway.auth.identityScopes` gives this user (none when not listed). */
export function identityScopesFor(config: TrustedProxyPolicy, user: string): string[] {
  const scopes = new Set<string>();
  for (const [name, list] of Object.entries(config.identityScopes)) {
    if (sameUser(name, user)) for (const s of list) scopes.add(s);
  }
  return [...scopes].sort();
}

/** Whether this is a proxy attempt, and if so, the verified user or why not. */
export function resolveProxyIdentity(facts: ProxyFacts): ProxyIdentity {
  const attempt = facts.identityHeaders || (facts.peerTrusted && facts.forwarded !== "none");
  if (!attempt) return { kind: "direct" };
  const trace: RuleId[] = [];
  const refuse = (code: ProxyRefusalCode, rule: RuleId, claimed: string | null = null): ProxyIdentity => ({
    kind: "refused",
    code,
    rule,
    trace: [...trace, rule],
    claimed,
  });
  const untrusted = "AUTH_TRUSTED_PROXY_UNTRUSTED_SOURCE";

  // Where the request came from: only a listed proxy, never this host unless opted in (C06).
  if (!facts.peerTrusted) return refuse(untrusted, "proxy-identity-from-untrusted-peer");
  if (facts.peerLoopback && !facts.config.allowLoopback) return refuse(untrusted, "proxy-loopback-source");
  if (!facts.peerLoopback && facts.peerOwnAddress) return refuse(untrusted, "proxy-peer-is-own-address");
  trace.push(facts.peerLoopback ? "proxy-peer-loopback-allowed" : "proxy-peer-trusted");
  if (facts.forwarded !== "non-loopback") {
    return refuse(
      untrusted,
      facts.forwarded === "loopback"
        ? "proxy-forwarded-client-loopback"
        : "proxy-forwarded-client-unattributable",
    );
  }

  // What the proxy must always send.
  const header = "AUTH_IDENTITY_HEADER_REQUIRED";
  if (facts.missingHeaders.length > 0) return refuse(header, "proxy-required-header-missing");
  if (facts.userHeaderConfigured && facts.userHeader === null)
    return refuse(header, "proxy-user-header-missing");

  // The assertion, when configured, is the identity; a user header beside it must agree.
  let user: string;
  const a = facts.assertion;
  const invalid = "AUTH_TRUSTED_PROXY_ASSERTION_INVALID";
  if (a.kind === "missing") return refuse(header, "proxy-assertion-missing", facts.userHeader);
  if (a.kind === "invalid") return refuse(invalid, ASSERTION_RULE[a.why], facts.userHeader);
  if (a.kind === "valid") {
    trace.push("proxy-assertion-verified");
    if (a.claim !== null) {
      if (facts.userHeader !== null && !sameUser(facts.userHeader, a.claim)) {
        return refuse(invalid, "proxy-user-header-disagrees", a.claim);
      }
      user = a.claim;
    } else {
      // Configuration guarantees a user header when no claim names the user.
      if (facts.userHeader === null) return refuse(header, "proxy-user-header-missing");
      user = facts.userHeader;
    }
  } else {
    if (facts.userHeader === null) return refuse(header, "proxy-user-header-missing");
    user = facts.userHeader;
  }
  if (user.trim() === "") return refuse(header, "proxy-user-header-missing");

  const allow = facts.config.allowUsers;
  if (allow.length > 0 && !allow.some((u) => sameUser(u, user))) {
    return refuse("AUTH_TRUSTED_PROXY_USER_NOT_ALLOWED", "proxy-user-not-allowed", user);
  }
  trace.push(allow.length > 0 ? "proxy-user-allowed" : "proxy-any-authenticated-user");
  return { kind: "verified", user, trace };
}
