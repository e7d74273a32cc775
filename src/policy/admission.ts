/**
 * The admission decision: one pure function from explicit facts to admit / pend / reject, with the
 * trace of rules that produced it. The gateway applies the decision; it never re-decides.
 */
import { isBrowserUiClient } from "../protocol/client-info.js";
import type { GatewayErrorCode } from "../protocol/errors.js";
import type { Locality } from "./locality.js";

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

export interface AdmissionFacts {
  locality: Locality;
  client: { id: string; mode: string };
  role: "operator" | "node";
  requestedScopes: readonly string[];
  sharedAuth: SharedAuthResult;
  /** Present only when the device proof (id, age, nonce, signature) already verified. */
  device: { deviceId: string } | null;
  /** The client sent `auth.deviceToken`. */
  deviceTokenPresented: boolean;
}

export type Decision =
  | { kind: "admit"; scopes: string[]; authMethod: string; trace: string[] }
  | { kind: "pend"; reason: PendingReason; trace: string[] }
  | { kind: "reject"; code: GatewayErrorCode; trace: string[] };

/** Clients that run on the gateway host as its own helpers and keep their declared scopes there. */
function isLocalLane(client: { id: string; mode: string }): "cli" | "backend" | null {
  if (client.id === "cli" && client.mode === "cli") return "cli";
  if (client.id === "gateway-client" && client.mode === "backend") return "backend";
  return null;
}

/** Decides one connect. Pure: same facts, same decision. */
export function decide(facts: AdmissionFacts): Decision {
  const trace: string[] = [...facts.locality.trace];
  const { sharedAuth, locality } = facts;
  const reject = (code: GatewayErrorCode, rule: string): Decision => ({
    kind: "reject",
    code,
    trace: [...trace, rule],
  });

  if (!sharedAuth.ok) {
    if (facts.deviceTokenPresented && !sharedAuth.provided) {
      return reject("AUTH_DEVICE_TOKEN_MISMATCH", "device-token-unknown");
    }
    return reject(sharedAuth.code, "shared-auth-failed");
  }
  // `auth.mode: none` proves nothing unless the connection is direct-local.
  if (sharedAuth.method === "none" && !locality.directLocal) {
    return reject("AUTH_UNAUTHORIZED", "auth-none-requires-direct-local");
  }
  trace.push(`shared-auth-${sharedAuth.method}`);

  const localNoBrowser = locality.directLocal && !locality.browserOrigin;
  const lane = isLocalLane(facts.client);

  if (!facts.device) {
    if (facts.role !== "operator")
      return reject("DEVICE_IDENTITY_REQUIRED", "device-less-needs-operator-role");
    if (isBrowserUiClient(facts.client.id, facts.client.mode)) {
      return reject("CONTROL_UI_DEVICE_IDENTITY_REQUIRED", "browser-ui-needs-device");
    }
    if (localNoBrowser && lane) {
      return {
        kind: "admit",
        scopes: [...facts.requestedScopes],
        authMethod: sharedAuth.method,
        trace: [...trace, `device-less-local-${lane}-keeps-scopes`],
      };
    }
    // Scopes a client declares without a device are not bound to anything: clear them (C13).
    return {
      kind: "admit",
      scopes: [],
      authMethod: sharedAuth.method,
      trace: [...trace, "device-less-no-scopes"],
    };
  }

  trace.push("device-proof-ok");
  if (localNoBrowser && lane === "backend" && facts.role === "operator") {
    return {
      kind: "admit",
      scopes: [...facts.requestedScopes],
      authMethod: sharedAuth.method,
      trace: [...trace, "local-backend-self"],
    };
  }
  return { kind: "pend", reason: "not-paired", trace: [...trace, "device-not-paired"] };
}
