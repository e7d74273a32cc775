/**
 * Turns a connect request into a session or a refusal: gather the facts (params, protocol, device
 * proof, every presented credential checked, the stored record), decide (the pure policy), apply
 * and record (the pairing service, which settles what applying found), then answer. No rule about
 * who may connect lives here, and no socket I/O.
 */
import type { KeyObject } from "node:crypto";
import { verifyPayload } from "../identity/keys.js";
import type { ConnectParams, HelloNodeSurface } from "../protocol/connect.js";
import { isGatewayRole, type GatewayRole } from "../protocol/client-info.js";
import { GatewayError } from "../protocol/errors.js";
import { normalizeDeviceMetadata } from "../protocol/signature-payload.js";
import { canonicalizeConnectParams, validateConnectParams } from "../protocol/validate.js";
import { negotiateProtocol } from "../protocol/version.js";
import { decide, type Credential, type Decision, type RuntimeTokenCheck } from "../policy/admission.js";
import type { Locality } from "../policy/locality.js";
import { surfaceAdmission } from "../policy/node-surface.js";
import type { ProxyFacts } from "../policy/trusted-proxy.js";
import type { Settled, SettledPend } from "../policy/settle.js";
import { unauthorizedError } from "./auth-errors.js";
import {
  gatherFacts,
  storeFactSources,
  type GatheredConnect,
  type PresentedConnect,
  type ProvenDevice,
} from "./connect-facts.js";
import { checkDeviceProof, type DeviceProofResult } from "./device-proof.js";
import type { AppliedConnect, PairingService } from "./pairing.js";
import type { GatewayAuth } from "./shared-auth.js";
import type { SignatureCheck } from "./signature-lane.js";

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
  /** A node's command surface as its hello-ok tells it (with any wider surface pending). */
  nodeSurface?: HelloNodeSurface;
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

/**
 * Evaluates one connect request against this connection's challenge, in four steps that each do
 * one thing: gather the facts, decide (the pure policy), apply what was decided (and settle what
 * applying found), answer. The signature is checked on the event loop; a gateway that may check it
 * off the loop calls {@link proveConnect} and {@link decideConnect} itself.
 */
export function evaluateConnect(input: ConnectInput, deps: HandshakeDeps): ConnectOutcome {
  return decideConnect(proveConnect(input, verifyPayload), input.nowMs, deps);
}

/** A connect frame read and its device proof checked: what {@link decideConnect} goes on from. */
export type ProvedConnect =
  | { ok: false; refused: ConnectOutcome }
  | { ok: true; frame: ConnectFrame; device: PresentedConnect["device"]; input: ConnectInput };

/**
 * The first part of a connect: the frame checked, then its device proof (if any) with `check`
 * for the signatures. Nothing is read from the store here. The answer is a promise only when
 * `check` answers with one (the signature is checked off the event loop); whoever waits for it
 * must not go on to {@link decideConnect} for a connection closed in the meantime.
 */
export function proveConnect(
  input: ConnectInput,
  check: (key: KeyObject, payload: string, signature: string) => boolean,
): ProvedConnect;
export function proveConnect(
  input: ConnectInput,
  check: SignatureCheck,
): ProvedConnect | Promise<ProvedConnect>;
export function proveConnect(
  input: ConnectInput,
  check: SignatureCheck,
): ProvedConnect | Promise<ProvedConnect> {
  const frame = readFrame(input.params);
  if (!frame.ok) return frame;
  const { params, role } = frame;
  if (!params.device) return { ok: true, frame, device: null, input };
  const proof = checkDeviceProof(params.device, params, role, input.nonce, input.nowMs, check);
  if (proof instanceof Promise)
    return proof.then((p) => ({ ok: true, frame, device: provenDevice(params, p), input }));
  return { ok: true, frame, device: provenDevice(params, proof), input };
}

/**
 * The rest of a connect, synchronously within one turn of the event loop: gather (the store's
 * rows read now, after the signature is known), decide, apply, answer. `nowMs` is the time of
 * this step: a pending request or setup code that expired while the signature was checked counts
 * as expired.
 */
export function decideConnect(proved: ProvedConnect, nowMs: number, deps: HandshakeDeps): ConnectOutcome {
  if (!proved.ok) return proved.refused;
  const { frame, device } = proved;
  const input = { ...proved.input, nowMs };
  const gathered = gather(frame, device, input, deps);
  const decision = decide(gathered.facts);
  const applied = apply(decision, frame, gathered, input, deps.pairing);
  return answer(applied, frame, gathered);
}

/** A connect frame that is well-formed, in a protocol both sides speak, for a known role. */
export interface ConnectFrame {
  ok: true;
  params: ConnectParams;
  client: ConnectParams["client"];
  role: GatewayRole;
  negotiation: Extract<ReturnType<typeof negotiateProtocol>, { ok: true }>;
}

/** Checks the frame itself; anything wrong here is refused before a fact is gathered. */
function readFrame(raw: unknown): ConnectFrame | { ok: false; refused: ConnectOutcome } {
  const fail = (error: GatewayError, client: ConnectParams["client"] | null = null) => ({
    ok: false as const,
    refused: { ok: false as const, error, decision: null, client },
  });
  const checked = validateConnectParams(canonicalizeConnectParams(raw));
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
  return { ok: true, params, client, role, negotiation };
}

/** The gathered facts, and the proven device they were gathered for. */
interface Gathered extends GatheredConnect {
  device: ProvenDevice | null;
}

/** Gather: every presented credential checked, the stored record; the device proof came checked. */
function gather(
  frame: ConnectFrame,
  device: PresentedConnect["device"],
  input: ConnectInput,
  deps: HandshakeDeps,
): Gathered {
  const { params, client, role } = frame;
  const presented: PresentedConnect = {
    locality: input.locality,
    client,
    role,
    scopes: params.scopes ?? [],
    auth: params.auth,
    device,
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
  const proven = device !== null && !("failure" in device) ? device : null;
  return { ...gathered, device: proven };
}

/**
 * Apply and record: the pairing service carries out the decision in one transaction and settles
 * what that found; an admitted node's command surface is then its own decision (pinned, kept, or
 * pending wider), applied the same way.
 */
function apply(
  decision: Decision,
  frame: ConnectFrame,
  gathered: Gathered,
  input: ConnectInput,
  pairing: PairingService,
): AppliedConnect & { nodeSurface?: HelloNodeSurface } {
  const { params, client, role } = frame;
  const { device } = gathered;
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
  const { settled } = applied;
  if (role === "node" && device && (settled.kind === "admit" || settled.kind === "approve-then-admit")) {
    const nodeSurface = pairing.applyNodeSurface({
      device,
      declared: params.commands ?? [],
      admittedBy: surfaceAdmission(settled),
      peer: input.locality.clientIp,
      version: client.version,
    });
    return { ...applied, nodeSurface };
  }
  return applied;
}

/** Answer: the session an admission opens, or the error a refusal is sent as. */
function answer(
  applied: AppliedConnect & { nodeSurface?: HelloNodeSurface },
  frame: ConnectFrame,
  gathered: Gathered,
): ConnectOutcome {
  const { params, client, role, negotiation } = frame;
  const { device } = gathered;
  const settled = applied.settled;
  const refuse = (error: GatewayError) => ({ ok: false, error, decision: settled, client }) as const;
  switch (settled.kind) {
    case "reject":
      return refuse(refusal(settled, client));
    case "pend":
      return refuse(pairingRequired(settled, device, role, params.scopes ?? [], gathered.facts.stored));
    case "admit":
    case "approve-then-admit":
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
          proxyUser: settled.proxyUser?.verified ? settled.proxyUser.user : null,
          ...(applied.deviceToken ? { deviceToken: applied.deviceToken } : {}),
          ...(applied.nodeSurface ? { nodeSurface: applied.nodeSurface } : {}),
        },
      };
  }
}

/** The device block's proof as the facts take it: the device, or why not. */
function provenDevice(params: ConnectParams, proof: DeviceProofResult): PresentedConnect["device"] {
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
