/**
 * The verdict builder both admission paths (device and device-less) share: one trace, and the
 * limiter charges the presented credentials earned. Its own module so the two paths import it
 * rather than each other.
 */
import type { GatewayErrorCode } from "../protocol/errors.js";
import type { Credential, Decision, DecisionCommon } from "./admission-facts.js";
import { credentialKind, type Proofs } from "./credentials.js";
import type { RuleId } from "./rules.js";
import { printableUser } from "./trusted-proxy.js";

/** Builds decisions that share one trace and the charges the presented credentials earned. */
export class Verdicts {
  constructor(
    readonly trace: RuleId[],
    private readonly proofs: Proofs,
  ) {}

  /** A refusal: nothing is cleared. */
  reject(code: GatewayErrorCode, rule: RuleId): Decision {
    return { kind: "reject", code, ...this.common([rule], null) };
  }

  /**
   * The refusal when no usable proof was presented: a wait while some presented credential is
   * locked out (it counts as absent, so nothing was learned about it), else the given one.
   */
  noProof(code: GatewayErrorCode, rule: RuleId): Decision {
    const after = this.proofs.lockedRetryAfterMs;
    if (after === null) return this.reject(code, rule);
    return {
      kind: "reject",
      code: "AUTH_RATE_LIMITED",
      retryAfterMs: after,
      ...this.common(["locked-out-without-other-proof"], null),
    };
  }

  /** Trace so far plus `rules`; the credential that proved the connect is forgiven its failures. */
  common(rules: RuleId[], credential: Credential | null): DecisionCommon {
    const kind = credential === null ? null : credentialKind(credential);
    const proxy = this.proofs.proxy;
    return {
      trace: [...this.trace, ...rules],
      charge: [...this.proofs.charge],
      clear: kind === null ? [] : [kind],
      // Trusted-proxy mode: the user the proxy vouched for goes with every decision (audit, explain).
      ...(proxy?.kind === "verified"
        ? { proxyUser: { user: printableUser(proxy.user), verified: true } }
        : {}),
    };
  }
}
