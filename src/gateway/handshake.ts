/**
 * Turns a connect request into a session or a refusal: params validation, protocol negotiation,
 * role, shared secret, device proof, store facts, then the policy's decision, applied by the
 * pairing service in one transaction. No socket I/O here.
 */
import type { ConnectParams } from "../protocol/connect.js";
import { isGatewayRole, type GatewayRole } from "../protocol/client-info.js";
import { GatewayError } from "../protocol/errors.js";
import { normalizeDeviceMetadata } from "../protocol/signature-payload.js";
import { canonicalizeConnectParams, validateConnectParams } from "../protocol/validate.js";
import { negotiateProtocol } from "../protocol/version.js";
import {
  decide,
  type Decision,
  type DeviceTokenCheck,
  type RuntimeTokenCheck,
  type SetupCodeCheck,
} from "../policy/admission.js";
import type { Locality } from "../policy/locality.js";
import { unauthorizedError } from "./auth-errors.js";
import { verifyDeviceProof } from "./device-proof.js";
import type { PairingService, ProvenDevice } from "./pairing.js";
import type { CredentialKind } from "./rate-limit.js";
import { checkSharedAuth, type GatewayAuth } from "./shared-auth.js";

/** An admitted connection's identity and rights. */
export interface Session {
  role: GatewayRole;
  scopes: string[];
  /** How it proved itself: owner-key, setup-code, device-token, token, password or none. */
  authMethod: string;
  client: ConnectParams["client"];
  deviceId: string | null;
  protocol: number;
  legacyNode: boolean;
  /** Commands a node host offered at connect. */
  commands: string[];
  /** The gateway job whose runtime token admitted this session (a sub-agent or cron run). */
  runtimeJobId: string | null;
  deviceToken?: { token: string; issuedAtMs: number; scopes: string[] };
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

/** Checks gateway-minted runtime tokens (implemented by the runtime layer). */
export interface RuntimeTokenVerifier {
  verify(token: string): RuntimeTokenCheck;
}

export interface HandshakeDeps {
  pairing: PairingService;
  autoApproveLocal: boolean;
  runtimeTokens?: RuntimeTokenVerifier;
}

const PAIRING_REQUIREMENT: Record<string, string> = {
  "not-paired": "device is not approved yet",
  "role-upgrade": "device is asking for a higher role than currently approved",
  "scope-upgrade": "device is asking for more scopes than currently approved",
  "metadata-upgrade": "device identity changed and must be re-approved",
  "key-changed": "device identity changed and must be re-approved",
};

/** Close reasons carry a requestId only when it looks like one (reference §1.9). */
const REQUEST_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Evaluates one connect request against this connection's challenge. */
export function evaluateConnect(input: ConnectInput, deps: HandshakeDeps): ConnectOutcome {
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
  const scopes = params.scopes ?? [];

  const negotiation = negotiateProtocol({
    minProtocol: params.minProtocol,
    maxProtocol: params.maxProtocol,
    role,
    mode: client.mode,
  });
  if (!negotiation.ok)
    return fail(new GatewayError("PROTOCOL_MISMATCH", { details: negotiation.details }), client);
  if (!isGatewayRole(role)) return fail(new GatewayError("INVALID_ROLE"), client);

  // Every presented credential kind is checked against its failure budget first, whatever else the
  // connect carries: an extra or bogus field never switches the limiter off (C17).
  const limiter = deps.pairing.rateLimiter;
  const peerAddress = input.locality.clientIp;
  const presentedKinds: CredentialKind[] = [];
  if (params.auth?.token || params.auth?.password) presentedKinds.push("shared-secret");
  if (params.auth?.deviceToken) presentedKinds.push("device-token");
  if (params.auth?.agentRuntimeIdentityToken) presentedKinds.push("runtime-token");
  for (const kind of presentedKinds) {
    const verdict = limiter.check(peerAddress, kind);
    if (!verdict.ok) {
      deps.pairing.auditRefusal("AUTH_RATE_LIMITED", {
        role,
        peer: peerAddress,
        client: `${client.id}/${client.mode}`,
      });
      return fail(rateLimited(verdict.retryAfterMs, client), client);
    }
  }

  const sharedAuth = checkSharedAuth(input.auth, params.auth);
  let device: ProvenDevice | null = null;
  if (params.device) {
    const proof = verifyDeviceProof(params.device, params, role, input.nonce, input.nowMs);
    if (!proof.ok) {
      deps.pairing.auditRefusal(proof.code, {
        role,
        peer: input.locality.clientIp,
        client: `${client.id}/${client.mode}`,
      });
      return fail(new GatewayError(proof.code), client);
    }
    device = {
      deviceId: proof.deviceId,
      publicKey: proof.publicKey,
      platform: normalizeDeviceMetadata(client.platform),
      deviceFamily: normalizeDeviceMetadata(client.deviceFamily),
      displayName: client.displayName ?? null,
      clientId: client.id,
      clientMode: client.mode,
    };
  }

  // A device token may also arrive in auth.token (older clients); then a miss keeps the shared-secret reason.
  const explicitToken = params.auth?.deviceToken || null;
  const fallbackToken = !explicitToken && !sharedAuth.ok ? params.auth?.token || null : null;
  const gathered = device ? deps.pairing.gather(device.deviceId, role, explicitToken ?? fallbackToken) : null;
  let deviceToken: DeviceTokenCheck = gathered?.deviceToken ?? { kind: explicitToken ? "mismatch" : "none" };
  if (fallbackToken && deviceToken.kind !== "valid") deviceToken = { kind: "none" };

  // Runtime tokens travel in auth.agentRuntimeIdentityToken, OpenClaw's slot for gateway-minted job tokens.
  const runtimePresented = params.auth?.agentRuntimeIdentityToken;
  const runtimeToken: RuntimeTokenCheck = runtimePresented
    ? (deps.runtimeTokens?.verify(runtimePresented) ?? { kind: "invalid" })
    : { kind: "none" };

  // Setup codes travel in auth.bootstrapToken (OpenClaw's slot), rate-limited per client address.
  const peer = input.locality.clientIp;
  const presentedCode = params.auth?.bootstrapToken;
  let setupCode: SetupCodeCheck = { kind: "none" };
  let setupCodeHash: string | null = null;
  if (presentedCode !== undefined && presentedCode !== "") {
    const allowed = limiter.check(peer, "setup-code");
    if (!allowed.ok) {
      deps.pairing.auditRefusal("AUTH_RATE_LIMITED", {
        deviceId: device?.deviceId,
        role,
        peer,
        client: `${client.id}/${client.mode}`,
      });
      return fail(rateLimited(allowed.retryAfterMs, client), client);
    }
    const { lookup, codeHash } = deps.pairing.lookupSetupCode(presentedCode);
    if (lookup.kind === "valid") {
      setupCode = { kind: "valid", roles: lookup.record.roles, scopes: lookup.record.scopes };
      setupCodeHash = codeHash;
    } else if (
      lookup.why === "used" &&
      device !== null &&
      lookup.record.usedByDevice === device.deviceId &&
      (deviceToken.kind === "valid" || sharedAuth.ok)
    ) {
      // This device's own spent code, sent again beside a credential that works (a node host
      // restarted with --pair still on its command line): it adds nothing, so it is ignored.
      setupCode = { kind: "none" };
    } else {
      setupCode = { kind: "invalid" };
      limiter.fail(peer, "setup-code");
    }
  }

  const decision = decide({
    locality: input.locality,
    client,
    role,
    requestedScopes: scopes,
    sharedAuth,
    device: device && { ...device, ownerKey: device.deviceId === deps.pairing.ownerDeviceId },
    stored: gathered?.stored ?? null,
    deviceToken,
    runtimeToken,
    setupCode,
    pending: gathered?.pending ?? null,
    config: { autoApproveLocal: deps.autoApproveLocal },
  });

  const applied = device
    ? deps.pairing.apply(decision, {
        device,
        role,
        peer,
        client: `${client.id}/${client.mode}`,
        setupCodeHash,
      })
    : deps.pairing.auditDeviceLess(decision, { role, peer, client: `${client.id}/${client.mode}` });

  // Failures are charged once the whole handshake has decided (fallback paths included).
  if (decision.kind === "reject") {
    // Every presented credential that was wrong is charged, not only the one the refusal names.
    const wrong = new Set<CredentialKind>();
    const charged = FAILURE_KIND[decision.code];
    if (charged && presentedKinds.includes(charged)) wrong.add(charged);
    if (!sharedAuth.ok && sharedAuth.provided && presentedKinds.includes("shared-secret"))
      wrong.add("shared-secret");
    if (deviceToken.kind === "mismatch" || deviceToken.kind === "revoked") wrong.add("device-token");
    for (const kind of wrong) limiter.fail(peerAddress, kind);
  } else if (decision.credential === "token" || decision.credential === "password") {
    limiter.succeed(peerAddress, "shared-secret");
  } else if (decision.credential === "device-token") {
    limiter.succeed(peerAddress, "device-token");
  }
  if (decision.kind === "reject") {
    return fail(
      decision.code.startsWith("AUTH_")
        ? unauthorizedError(decision.code, client)
        : new GatewayError(decision.code),
      client,
      decision,
    );
  }
  if (!applied.ok && applied.code) return fail(unauthorizedError(applied.code, client), client, decision);
  if (decision.credential === "setup-code") deps.pairing.rateLimiter.succeed(peer, "setup-code");
  if (decision.kind === "pend" || !applied.ok) {
    const reason = decision.kind === "pend" ? decision.reason : "not-paired";
    return fail(
      pairingRequired(reason, applied.ok ? null : applied, device, role, scopes, gathered?.stored ?? null),
      client,
      decision,
    );
  }
  return {
    ok: true,
    decision,
    session: {
      role,
      scopes: applied.scopes,
      authMethod: decision.credential,
      client,
      deviceId: device?.deviceId ?? null,
      protocol: negotiation.protocol,
      legacyNode: negotiation.legacyNode,
      commands: params.commands ?? [],
      runtimeJobId:
        decision.credential === "runtime-token" && runtimeToken.kind === "valid" ? runtimeToken.jobId : null,
      ...(applied.deviceToken ? { deviceToken: applied.deviceToken } : {}),
    },
  };
}

/** Which credential a refusal charges to the client's failure budget. */
const FAILURE_KIND: Partial<Record<string, CredentialKind>> = {
  AUTH_TOKEN_MISMATCH: "shared-secret",
  AUTH_PASSWORD_MISMATCH: "shared-secret",
  AUTH_DEVICE_TOKEN_MISMATCH: "device-token",
  AUTH_RUNTIME_TOKEN_INVALID: "runtime-token",
};

/** AUTH_RATE_LIMITED with when to come back (reference §1.9: `wait_then_retry`). */
function rateLimited(retryAfterMs: number, client: ConnectParams["client"]): GatewayError {
  const base = unauthorizedError("AUTH_RATE_LIMITED", client);
  const seconds = Math.ceil(retryAfterMs / 1000);
  return new GatewayError("AUTH_RATE_LIMITED", {
    message: `${base.message}; try again in ${seconds}s`,
    retryable: true,
    retryAfterMs,
    details: { ...base.details, retryAfterMs },
  });
}

function pairingRequired(
  reason: string,
  applied: { requestId: string | null; full: boolean } | null,
  device: ProvenDevice | null,
  role: string,
  scopes: readonly string[],
  stored: { publicKey: string; roles: readonly string[]; scopes: readonly string[] } | null,
): GatewayError {
  const requirement = PAIRING_REQUIREMENT[reason] ?? PAIRING_REQUIREMENT["not-paired"]!;
  const requestId = applied?.requestId ?? null;
  const sameKey = stored !== null && device !== null && stored.publicKey === device.publicKey;
  if (applied?.full) {
    return new GatewayError("PAIRING_REQUIRED", {
      message: `pairing required: ${requirement}; too many pending requests right now, try again later`,
      retryable: true,
      retryAfterMs: 60_000,
      details: {
        reason,
        deviceId: device?.deviceId,
        recommendedNextStep: "wait_then_retry",
        pauseReconnect: false,
      },
    });
  }
  const message = `pairing required: ${requirement}`;
  return new GatewayError("PAIRING_REQUIRED", {
    message,
    retryable: true,
    closeReason:
      requestId && REQUEST_ID_RE.test(requestId) ? `${message} (requestId: ${requestId})` : message,
    details: {
      reason,
      ...(requestId ? { requestId } : {}),
      deviceId: device?.deviceId,
      requestedRole: role,
      requestedScopes: [...scopes],
      ...(sameKey ? { approvedRoles: [...stored.roles], approvedScopes: [...stored.scopes] } : {}),
      remediationHint: requestId
        ? `approve it on the gateway host: gatehouse devices approve ${requestId}`
        : "approve this device on the gateway host (gatehouse devices list)",
      recommendedNextStep: "wait_then_retry",
      pauseReconnect: false,
      waitForResolution: true,
    },
  });
}
