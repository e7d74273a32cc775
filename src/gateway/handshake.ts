/**
 * Turns a connect request into a session or a refusal: params validation, protocol negotiation,
 * role, shared secret, device proof, then the policy's decision. No socket I/O here.
 */
import type { ConnectParams } from "../protocol/connect.js";
import { isGatewayRole, type GatewayRole } from "../protocol/client-info.js";
import { GatewayError } from "../protocol/errors.js";
import { canonicalizeConnectParams, validateConnectParams } from "../protocol/validate.js";
import { negotiateProtocol } from "../protocol/version.js";
import { decide, type Decision } from "../policy/admission.js";
import type { Locality } from "../policy/locality.js";
import { unauthorizedError } from "./auth-errors.js";
import { verifyDeviceProof } from "./device-proof.js";
import { checkSharedAuth, type GatewayAuth } from "./shared-auth.js";

/** An admitted connection's identity and rights. */
export interface Session {
  role: GatewayRole;
  scopes: string[];
  authMethod: string;
  client: ConnectParams["client"];
  deviceId: string | null;
  protocol: number;
  legacyNode: boolean;
}

export type ConnectOutcome =
  | { ok: true; session: Session; decision: Decision }
  | { ok: false; error: GatewayError; decision: Decision | null; client: ConnectParams["client"] | null };

export interface ConnectInput {
  params: unknown;
  nonce: string;
  locality: Locality;
  auth: GatewayAuth;
  nowMs: number;
}

const PAIRING_REQUIREMENT: Record<string, string> = {
  "not-paired": "device is not approved yet",
  "role-upgrade": "device is asking for a higher role than currently approved",
  "scope-upgrade": "device is asking for more scopes than currently approved",
  "metadata-upgrade": "device identity changed and must be re-approved",
  "key-changed": "device identity changed and must be re-approved",
};

/** Evaluates one connect request against this connection's challenge. */
export function evaluateConnect(input: ConnectInput): ConnectOutcome {
  const fail = (
    error: GatewayError,
    client: ConnectParams["client"] | null = null,
    decision: Decision | null = null,
  ) => ({ ok: false, error, decision, client }) as const;

  const checked = validateConnectParams(canonicalizeConnectParams(input.params));
  if (!checked.ok) {
    return fail(
      new GatewayError("INVALID_CONNECT_PARAMS", {
        message: `invalid connect params: ${checked.errors.join("; ")}`,
      }),
    );
  }
  const params = checked.value;
  const client = params.client;
  const role = params.role ?? "operator";

  const negotiation = negotiateProtocol({
    minProtocol: params.minProtocol,
    maxProtocol: params.maxProtocol,
    role,
    mode: client.mode,
  });
  if (!negotiation.ok)
    return fail(new GatewayError("PROTOCOL_MISMATCH", { details: negotiation.details }), client);
  if (!isGatewayRole(role)) return fail(new GatewayError("INVALID_ROLE"), client);

  let device: { deviceId: string } | null = null;
  if (params.device) {
    const proof = verifyDeviceProof(params.device, params, role, input.nonce, input.nowMs);
    if (!proof.ok) return fail(new GatewayError(proof.code), client);
    device = { deviceId: proof.deviceId };
  }

  const decision = decide({
    locality: input.locality,
    client,
    role,
    requestedScopes: params.scopes ?? [],
    sharedAuth: checkSharedAuth(input.auth, params.auth),
    device,
    deviceTokenPresented: typeof params.auth?.deviceToken === "string" && params.auth.deviceToken !== "",
  });

  switch (decision.kind) {
    case "admit":
      return {
        ok: true,
        decision,
        session: {
          role,
          scopes: decision.scopes,
          authMethod: decision.authMethod,
          client,
          deviceId: device?.deviceId ?? null,
          protocol: negotiation.protocol,
          legacyNode: negotiation.legacyNode,
        },
      };
    case "pend": {
      const requirement = PAIRING_REQUIREMENT[decision.reason] ?? "device is not approved yet";
      const error = new GatewayError("PAIRING_REQUIRED", {
        message: `pairing required: ${requirement}`,
        details: {
          reason: decision.reason,
          deviceId: device?.deviceId,
          requestedRole: role,
          requestedScopes: params.scopes ?? [],
          remediationHint:
            "this gateway does not pair devices yet: connect without a device identity using the shared token",
          recommendedNextStep: "review_auth_configuration",
        },
      });
      return fail(error, client, decision);
    }
    case "reject":
      return fail(
        decision.code.startsWith("AUTH_")
          ? unauthorizedError(decision.code, client)
          : new GatewayError(decision.code),
        client,
        decision,
      );
  }
}
