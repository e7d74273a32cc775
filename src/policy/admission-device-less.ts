/**
 * Connects without a device identity: the gateway's own helpers on this host with the shared
 * secret (they keep their declared scopes), work the gateway started with a runtime token, and
 * everyone else with the shared secret (admitted with no scopes, C13).
 */
import { isBrowserUiClient } from "../protocol/client-info.js";
import type { AdmissionFacts, Decision, RuntimeTokenCheck } from "./admission-facts.js";
import type { Proofs } from "./credentials.js";
import type { RuleId } from "./rules.js";
import { scopeSatisfied } from "./scopes.js";
import { identityScopesFor } from "./trusted-proxy.js";
import type { Verdicts } from "./verdicts.js";

/** Clients that run on the gateway host as its own helpers and keep their declared scopes there. */
function localLane(client: { id: string; mode: string }): RuleId | null {
  if (client.id === "cli" && client.mode === "cli") return "device-less-local-cli-keeps-scopes";
  if (client.id === "gateway-client" && client.mode === "backend")
    return "device-less-local-backend-keeps-scopes";
  return null;
}

const SHARED_RULE = {
  token: "credential-token",
  password: "credential-password",
  none: "credential-none",
  "trusted-proxy": "credential-trusted-proxy",
} as const satisfies Record<string, RuleId>;

/** Decides a connect that carries no (verified) device identity. */
export function decideDeviceLess(facts: AdmissionFacts, proofs: Proofs, v: Verdicts): Decision {
  const { locality } = facts;
  if (proofs.runtime.kind !== "none") return decideRuntimeToken(facts, proofs.runtime, v);
  const shared = proofs.shared;
  if (!shared.ok && proofs.sharedProof !== "trusted-proxy") {
    if (proofs.deviceToken.kind !== "none" && !shared.provided) {
      return v.noProof("AUTH_DEVICE_TOKEN_MISMATCH", "device-token-without-device");
    }
    if (facts.proxy && !facts.locality.directLocal) {
      return v.noProof("AUTH_REQUIRED", "trusted-proxy-needs-proxy-or-local-proof");
    }
    return v.noProof(shared.code, "shared-auth-failed");
  }
  const credential = proofs.sharedProof;
  if (!credential) {
    if (facts.proxy) return v.noProof("AUTH_REQUIRED", "trusted-proxy-needs-proxy-or-local-proof");
    return v.noProof("AUTH_UNAUTHORIZED", "auth-none-requires-direct-local");
  }
  v.trace.push(SHARED_RULE[credential]);
  if (facts.role !== "operator")
    return v.reject("DEVICE_IDENTITY_REQUIRED", "device-less-needs-operator-role");
  const proxy = proofs.proxy;
  if (credential === "trusted-proxy" && proxy?.kind === "verified" && facts.proxy) {
    // The user's identity scopes are the whole grant: connection-only, never a pairing record.
    const held = identityScopesFor(facts.proxy.config, proxy.user);
    return {
      kind: "admit",
      scopes: facts.requestedScopes.filter((s) => scopeSatisfied(held, s)),
      credential,
      token: { action: "none" },
      runtimeJobId: null,
      ...v.common(["trusted-proxy-identity-scopes"], credential),
    };
  }
  if (isBrowserUiClient(facts.client.id, facts.client.mode)) {
    return v.reject("CONTROL_UI_DEVICE_IDENTITY_REQUIRED", "browser-ui-needs-device");
  }
  const lane = localLane(facts.client);
  const keeps = locality.directLocal && !locality.browserOrigin && lane !== null;
  return {
    kind: "admit",
    // Scopes a client declares without a device are not bound to anything: clear them (C13).
    scopes: keeps ? [...facts.requestedScopes] : [],
    credential,
    token: { action: "none" },
    runtimeJobId: null,
    ...v.common([keeps ? lane : "device-less-no-scopes"], credential),
  };
}

/**
 * A runtime token is the whole proof for work the gateway started: no pairing, no device, and never
 * more than the token carries (which was never more than its creator held). Browsers cannot use one.
 */
function decideRuntimeToken(
  facts: AdmissionFacts,
  runtime: Exclude<RuntimeTokenCheck, { kind: "none" }>,
  v: Verdicts,
): Decision {
  if (runtime.kind === "invalid") return v.reject("AUTH_RUNTIME_TOKEN_INVALID", "runtime-token-invalid");
  if (facts.locality.browserOrigin)
    return v.reject("AUTH_RUNTIME_TOKEN_INVALID", "runtime-token-from-browser");
  if (facts.role !== "operator")
    return v.reject("AUTH_RUNTIME_TOKEN_INVALID", "runtime-token-is-operator-only");
  if (!facts.requestedScopes.every((s) => scopeSatisfied(runtime.scopes, s))) {
    return v.reject("AUTH_SCOPE_MISMATCH", "request-exceeds-runtime-token");
  }
  v.trace.push("credential-runtime-token");
  return {
    kind: "admit",
    scopes: [...facts.requestedScopes],
    credential: "runtime-token",
    token: { action: "none" },
    runtimeJobId: runtime.jobId,
    ...v.common(["runtime-token-within-scopes"], "runtime-token"),
  };
}
