/**
 * Turns a connect request into a session or a refusal: gather the facts (params, protocol, device
 * proof, every presented credential checked, the stored record), decide (the pure policy), apply
 * and record (the pairing service, which settles what applying found), then answer. No rule about
 * who may connect lives here, and no socket I/O.
 */
import type { ConnectParams } from "../protocol/connect.js";
import { isGatewayRole, type GatewayRole } from "../protocol/client-info.js";
import { GatewayError } from "../protocol/errors.js";
import { normalizeDeviceMetadata } from "../protocol/signature-payload.js";
import { canonicalizeConnectParams, validateConnectParams } from "../protocol/validate.js";
import { negotiateProtocol } from "../protocol/version.js";
import {
  decide,
  type Credential,
  type DeviceProofFailure,
  type RuntimeTokenCheck,
} from "../policy/admission.js";
import type { Locality } from "../policy/locality.js";
import type { ProxyFacts } from "../policy/trusted-proxy.js";
import type { Settled, SettledPend } from "../policy/settle.js";
import { unauthorizedError } from "./auth-errors.js";
import { gatherFacts, storeFactSources, type PresentedConnect, type ProvenDevice } from "./connect-facts.js";
import { verifyDeviceProof } from "./device-proof.js";
import type { PairingService } from "./pairing.js";
import type { GatewayAuth } from "./shared-auth.js";

/** An admitted connection's identity and rights. */
export interface Session {
  role: GatewayRole;
  scopes: string[];
  /** How it proved itself (hello-ok's `auth.method`). */
  authMethod: Credential;
  client: ConnectParams["client"];
  deviceId: string | null;
  protocol: number;
  legacyNode: boolean;
  /** Commands a node host offered at connect. */
  commands: string[];
  /** The gateway job whose runtime token admitted this session (a sub-agent or cron run). */
  runtimeJobId: string | null;
  /** Trusted-proxy mode: the user the proxy vouched for on this connection; null otherwise. */
  proxyUser: string | null;
  deviceToken?: { token: string; issuedAtMs: number; scopes: string[] };
}

export type ConnectOutcome =
  | { ok: true; session: Session; decision: Settled }
  | { ok: false; error: GatewayError; decision: Settled | null; client: ConnectParams["client"] | null };

export interface ConnectInput {
  params: unknown;
  nonce: string;
  locality: Locality;
  auth: GatewayAuth;
  nowMs: number;
  /** Trusted-proxy mode: the proxy facts gathered at the upgrade (null in other modes). */
  proxy?: ProxyFacts | null;
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

const PAIRING_REQUIREMENT: Record<SettledPend["reason"], string> = {
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
  const fail = (error: GatewayError, client: ConnectParams["client"] | null = null) =>
    ({ ok: false, error, decision: null, client }) as const;

  // The frame itself: well-formed params, a protocol both sides speak, a known role.
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

  // Gather.
  const presented: PresentedConnect = {
    locality: input.locality,
    client,
    role,
    scopes: params.scopes ?? [],
    auth: params.auth,
    device: params.device ? proveDevice(params, role, input) : null,
    proxy: input.proxy ?? null,
  };
  const { pairing } = deps;
  const gathered = gatherFacts(
    presented,
    storeFactSources({
      store: pairing.store,
      limiter: pairing.rateLimiter,
      auth: input.auth,
      ownerDeviceId: pairing.ownerDeviceId,
      autoApproveLocal: deps.autoApproveLocal,
      runtimeTokens: deps.runtimeTokens,
      now: input.nowMs,
    }),
  );
  // Decide.
  const decision = decide(gathered.facts);
  // Apply and record.
  const device = presented.device !== null && !("failure" in presented.device) ? presented.device : null;
  const applied = pairing.applyConnect(decision, {
    device,
    role,
    peer: input.locality.clientIp,
    browserOrigin: input.locality.origin,
    client: `${client.id}/${client.mode}`,
    setupCodeHash: gathered.setupCodeHash,
    lastSeenAtMs: gathered.lastSeenAtMs,
    commands: role === "node" ? (params.commands ?? []) : null,
  });
  const proxyUser = decision.proxyUser?.verified ? decision.proxyUser.user : null;

  // Answer.
  const settled = applied.settled;
  const refuse = (error: GatewayError) => ({ ok: false, error, decision: settled, client }) as const;
  switch (settled.kind) {
    case "reject":
      return refuse(refusal(settled, client));
    case "pend":
      return refuse(pairingRequired(settled, device, role, params.scopes ?? [], gathered.facts.stored));
    case "admit":
    case "approve-then-admit":
      // An admitted node's command surface is its own decision: pinned, kept, or pending wider.
      if (role === "node" && device) {
        pairing.applyNodeSurface({
          device,
          declared: params.commands ?? [],
          admittedBy:
            settled.credential === "owner-key"
              ? "owner-key"
              : settled.kind === "approve-then-admit" && settled.credential === "setup-code"
                ? "setup-code"
                : "other",
          peer: input.locality.clientIp,
          version: client.version,
        });
      }
      return {
        ok: true,
        decision: settled,
        session: {
          role,
          scopes: settled.scopes,
          authMethod: settled.credential,
          client,
          deviceId: device?.deviceId ?? null,
          protocol: negotiation.protocol,
          legacyNode: negotiation.legacyNode,
          commands: params.commands ?? [],
          runtimeJobId: settled.kind === "admit" ? settled.runtimeJobId : null,
          proxyUser,
          ...(applied.deviceToken ? { deviceToken: applied.deviceToken } : {}),
        },
      };
  }
}

/** The device block verified against this connection's challenge: the device, or why not. */
function proveDevice(
  params: ConnectParams,
  role: GatewayRole,
  input: ConnectInput,
): ProvenDevice | { failure: DeviceProofFailure } {
  const proof = verifyDeviceProof(params.device!, params, role, input.nonce, input.nowMs);
  if (!proof.ok) return { failure: proof.code };
  const client = params.client;
  return {
    deviceId: proof.deviceId,
    publicKey: proof.publicKey,
    platform: normalizeDeviceMetadata(client.platform),
    deviceFamily: normalizeDeviceMetadata(client.deviceFamily),
    displayName: client.displayName ?? null,
    clientId: client.id,
    clientMode: client.mode,
  };
}

/** The error a refusal is sent as. */
function refusal(
  settled: Extract<Settled, { kind: "reject" }>,
  client: ConnectParams["client"],
): GatewayError {
  if (settled.code === "AUTH_RATE_LIMITED") return rateLimited(settled.retryAfterMs ?? 0, client);
  return settled.code.startsWith("AUTH_")
    ? unauthorizedError(settled.code, client)
    : new GatewayError(settled.code);
}

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
  settled: SettledPend,
  device: ProvenDevice | null,
  role: GatewayRole,
  scopes: readonly string[],
  stored: { publicKey: string; roles: readonly GatewayRole[]; scopes: readonly string[] } | null,
): GatewayError {
  const reason = settled.reason;
  const requirement = PAIRING_REQUIREMENT[reason];
  const requestId = settled.requestId;
  const sameKey = stored !== null && device !== null && stored.publicKey === device.publicKey;
  if (settled.full) {
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
