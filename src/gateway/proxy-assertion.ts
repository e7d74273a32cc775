/**
 * Verifies the identity-aware proxy's signed assertion (a JWT in a header: Cloudflare Access's
 * `Cf-Access-Jwt-Assertion`, Pomerium's `X-Pomerium-Jwt-Assertion`, ...) against its JWKS with
 * `jose`: RS256, ES256 or EdDSA, the key picked by `kid`, the configured issuer and audience, a
 * small clock skew. A remote JWKS is cached and fetched again on an unknown `kid` at most once per
 * cooldown (key rotation without letting every forged `kid` trigger a fetch); a JWKS file is read
 * again when it changes. The outcome is a fact for the policy; the token never leaves this file.
 */
import { statSync, readFileSync } from "node:fs";
import type * as Jose from "jose";
import type { JSONWebKeySet, JWTVerifyGetKey } from "jose";
import type { AssertionCheck, AssertionFailure } from "../policy/trusted-proxy.js";

/** `gateway.auth.trustedProxy.assertion` as the gateway takes it. */
export interface AssertionSettings {
  header: string;
  jwksUrl?: string;
  jwksFile?: string;
  issuer: string;
  audience: readonly string[];
  userClaim?: string;
}

/** Tuning (tests shorten the cooldown; production keeps the defaults). */
export interface AssertionVerifierOptions {
  /** Least time between two fetches caused by an unknown `kid` (default 30 s). */
  cooldownMs?: number;
  /** A fetched JWKS is used this long before it is fetched again (default 10 min). */
  cacheMaxAgeMs?: number;
  /** A JWKS fetch that takes longer fails closed (default 5 s). */
  timeoutMs?: number;
  /** Allowed clock difference for exp/nbf/iat (default 30 s). */
  clockToleranceSec?: number;
}

/** The algorithms a proxy's assertion may use; anything else (and `none`) is refused. */
export const ASSERTION_ALGORITHMS = ["RS256", "ES256", "EdDSA"];

let joseLibrary: Promise<typeof Jose> | undefined;
/** jose, loaded on the first assertion to check: a gateway not behind such a proxy never needs it. */
function jose(): Promise<typeof Jose> {
  joseLibrary ??= import("jose");
  return joseLibrary;
}

/** Verifies assertions; one per gateway, so JWKS caches outlive connections. */
export class AssertionVerifier {
  private readonly remote = new Map<string, JWTVerifyGetKey>();
  private readonly files = new Map<string, { signature: string; keys: JWTVerifyGetKey }>();

  constructor(private readonly options: AssertionVerifierOptions = {}) {}

  /** Checks `token` (the header's value; undefined or blank = missing) against `settings`. */
  async verify(token: string | undefined, settings: AssertionSettings): Promise<AssertionCheck> {
    if (token === undefined || token.trim() === "") return { kind: "missing" };
    const lib = await jose();
    let keys: JWTVerifyGetKey;
    try {
      keys = this.keysFor(settings, lib);
    } catch {
      return { kind: "invalid", why: "keys-unavailable" };
    }
    try {
      const { payload } = await lib.jwtVerify(token.trim(), keys, {
        issuer: settings.issuer,
        audience: [...settings.audience],
        algorithms: ASSERTION_ALGORITHMS,
        clockTolerance: this.options.clockToleranceSec ?? 30,
        requiredClaims: ["exp"],
      });
      if (settings.userClaim === undefined) return { kind: "valid", claim: null };
      const claim = payload[settings.userClaim];
      if (typeof claim !== "string" || claim.trim() === "") return { kind: "invalid", why: "claim-missing" };
      return { kind: "valid", claim: claim.trim() };
    } catch (err) {
      return { kind: "invalid", why: failureOf(err, lib.errors) };
    }
  }

  private keysFor(settings: AssertionSettings, lib: typeof Jose): JWTVerifyGetKey {
    if (settings.jwksUrl !== undefined) {
      let keys = this.remote.get(settings.jwksUrl);
      if (!keys) {
        keys = lib.createRemoteJWKSet(new URL(settings.jwksUrl), {
          cooldownDuration: this.options.cooldownMs ?? 30_000,
          cacheMaxAge: this.options.cacheMaxAgeMs ?? 600_000,
          timeoutDuration: this.options.timeoutMs ?? 5_000,
        });
        this.remote.set(settings.jwksUrl, keys);
      }
      return keys;
    }
    const path = settings.jwksFile!;
    const st = statSync(path, { bigint: true });
    const signature = `${st.ino}:${st.size}:${st.mtimeNs}`;
    const cached = this.files.get(path);
    if (cached?.signature === signature) return cached.keys;
    const keys = lib.createLocalJWKSet(JSON.parse(readFileSync(path, "utf8")) as JSONWebKeySet);
    this.files.set(path, { signature, keys });
    return keys;
  }
}

/** Which check failed, from jose's error codes; anything unrecognised fails closed as unavailable keys. */
function failureOf(err: unknown, errors: typeof Jose.errors): AssertionFailure {
  if (err instanceof errors.JWTExpired) return "expired";
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "iss") return "issuer";
    if (err.claim === "aud") return "audience";
    if (err.claim === "nbf" || err.claim === "iat") return "not-yet-valid";
    return "malformed";
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return "signature";
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return "unknown-key";
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return "algorithm";
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return "malformed";
  return "keys-unavailable";
}
