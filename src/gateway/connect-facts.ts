/**
 * Gathering the facts of one connect: every presented credential checked against where it lives
 * (shared secret, store, runtime tokens, limiter), the device's record and pending request read.
 * Nothing is decided here; the facts go to the pure `decide()`. The same function serves the
 * handshake and `gatehouse explain` (with sources that read the local store), so the two cannot
 * build different facts from the same connection.
 */
import type { GatewayRole } from "../protocol/client-info.js";
import { normalizeSetupCode } from "../protocol/setup-code.js";
import type { ConnectAuth } from "../protocol/connect.js";
import type {
  AdmissionFacts,
  CredentialKind,
  DeviceProofFailure,
  DeviceTokenCheck,
  Lockouts,
  PendingFacts,
  ProvenDeviceFacts,
  RuntimeTokenCheck,
  SetupCodeCheck,
  StoredDeviceFacts,
} from "../policy/admission.js";
import type { Locality } from "../policy/locality.js";
import type { ProxyFacts } from "../policy/trusted-proxy.js";
import type { Store } from "../store/db.js";
import { hashSetupCode } from "../store/setup-codes.js";
import { checkToken, slotStates, type TokenSlots } from "../store/tokens.js";
import type { RateLimiter } from "./rate-limit.js";
import { checkSharedAuth, type GatewayAuth } from "./shared-auth.js";

/** The device a connect proved, with the metadata it claims (as a pairing record keeps it). */
export interface ProvenDevice {
  deviceId: string;
  publicKey: string;
  platform: string;
  deviceFamily: string;
  displayName: string | null;
  clientId: string;
  clientMode: string;
}

/** A connect as presented, after frame validation and the device-proof check. */
export interface PresentedConnect {
  locality: Pick<Locality, "clientIp" | "directLocal" | "browserOrigin" | "ownOrigin" | "trace">;
  client: { id: string; mode: string };
  role: "operator" | "node";
  scopes: readonly string[];
  auth: ConnectAuth | undefined;
  /** The verified device, the reason its proof failed, or null when none was sent. */
  device: ProvenDevice | { failure: DeviceProofFailure } | null;
  /** Trusted-proxy mode: what the upgrade request showed about the proxy (gathered at the upgrade). */
  proxy?: ProxyFacts | null;
}

/** A device's stored state as the decision needs it. */
export interface DeviceState {
  stored: StoredDeviceFacts | null;
  pending: PendingFacts | null;
  /** When it was last seen (for throttling last-seen writes); null when never, or unknown. */
  lastSeenAtMs: number | null;
}

/** Where the facts come from: the gateway's store and limiter, or explain's local read of them. */
export interface FactSources {
  /** The shared-secret settings in force for this connect. */
  auth: GatewayAuth;
  ownerDeviceId: string;
  autoApproveLocal: boolean;
  /** The limiter's state for this client address. */
  lockouts(clientIp: string | null): Lockouts;
  device(deviceId: string): DeviceState;
  /** A presented device token for (device, role); called only for a device with a record. */
  verifyDeviceToken(deviceId: string, role: GatewayRole, presented: string): DeviceTokenCheck;
  /** A presented setup code (normalized); `usedByDevice` when it was redeemed already. */
  lookupSetupCode(code: string): SetupCodeFinding;
  verifyRuntimeToken(token: string): RuntimeTokenCheck;
}

export type SetupCodeFinding =
  | { kind: "valid"; roles: readonly GatewayRole[]; scopes: readonly string[] }
  | { kind: "used"; usedByDevice: string | null }
  | { kind: "unknown-or-expired" };

/** The facts, and what applying the decision needs beyond them. */
export interface GatheredConnect {
  facts: AdmissionFacts;
  /** Hash of the live setup code presented, to spend when the decision rests on it. */
  setupCodeHash: string | null;
  lastSeenAtMs: number | null;
}

const filled = (s: string | undefined): s is string => s !== undefined && s !== "";

/** Every fact `decide()` needs about this connect. */
export function gatherFacts(connect: PresentedConnect, sources: FactSources): GatheredConnect {
  const auth = connect.auth;
  const sharedAuth = checkSharedAuth(sources.auth, auth);
  const proven = connect.device !== null && !("failure" in connect.device) ? connect.device : null;
  const state = proven ? sources.device(proven.deviceId) : null;
  const tokenCheck = (presented: string): DeviceTokenCheck =>
    proven && state?.stored
      ? sources.verifyDeviceToken(proven.deviceId, connect.role, presented)
      : { kind: "mismatch" };

  const deviceToken: DeviceTokenCheck = filled(auth?.deviceToken)
    ? tokenCheck(auth.deviceToken)
    : { kind: "none" };
  // Older clients put their device token in auth.token; only what is not the shared secret can be one.
  const tokenSlot: DeviceTokenCheck | undefined =
    proven && !filled(auth?.deviceToken) && filled(auth?.token) && !sharedAuth.ok
      ? tokenCheck(auth.token)
      : undefined;

  let setupCode: SetupCodeCheck | undefined;
  let setupCodeHash: string | null = null;
  if (filled(auth?.bootstrapToken)) {
    const code = normalizeSetupCode(auth.bootstrapToken);
    const found: SetupCodeFinding = code ? sources.lookupSetupCode(code) : { kind: "unknown-or-expired" };
    if (found.kind === "valid") {
      setupCode = { kind: "valid", roles: found.roles, scopes: found.scopes };
      setupCodeHash = hashSetupCode(code!);
    } else if (found.kind === "used" && proven !== null && found.usedByDevice === proven.deviceId) {
      setupCode = { kind: "spent-by-this-device" };
    } else {
      setupCode = { kind: "invalid" };
    }
  }

  const device: ProvenDeviceFacts | null = proven && {
    deviceId: proven.deviceId,
    publicKey: proven.publicKey,
    platform: proven.platform,
    deviceFamily: proven.deviceFamily,
    ownerKey: proven.deviceId === sources.ownerDeviceId,
  };
  const facts: AdmissionFacts = {
    locality: connect.locality,
    client: { id: connect.client.id, mode: connect.client.mode },
    role: connect.role,
    requestedScopes: [...connect.scopes],
    sharedAuth,
    device,
    ...(connect.device !== null && "failure" in connect.device
      ? { proofFailure: connect.device.failure }
      : {}),
    stored: state?.stored ?? null,
    deviceToken,
    ...(tokenSlot ? { tokenSlot } : {}),
    ...(filled(auth?.agentRuntimeIdentityToken)
      ? { runtimeToken: sources.verifyRuntimeToken(auth.agentRuntimeIdentityToken) }
      : {}),
    ...(setupCode ? { setupCode } : {}),
    lockouts: sources.lockouts(connect.locality.clientIp),
    pending: state?.pending ?? null,
    config: { autoApproveLocal: sources.autoApproveLocal },
    ...(connect.proxy ? { proxy: connect.proxy } : {}),
  };
  return { facts, setupCodeHash, lastSeenAtMs: state?.lastSeenAtMs ?? null };
}

const KINDS: readonly CredentialKind[] = ["shared-secret", "device-token", "setup-code", "runtime-token"];

/** The limiter's locked kinds for an address (in memory; no store read). */
export function limiterLockouts(limiter: RateLimiter, clientIp: string | null): Lockouts {
  const out: Partial<Record<CredentialKind, number>> = {};
  // Nothing failed lately (the usual case): no address to canonicalise for each credential kind.
  if (limiter.size === 0) return out;
  for (const kind of KINDS) {
    const verdict = limiter.check(clientIp, kind);
    if (!verdict.ok) out[kind] = verdict.retryAfterMs;
  }
  return out;
}

/** A device's record, token states and live pending request, as the store holds them. */
export function readDeviceState(store: Store, deviceId: string, nowMs: number): DeviceState {
  return readDeviceRows(store, deviceId, nowMs).state;
}

/** The device's state and its token slots (hashes included), from one read of the store. */
function readDeviceRows(
  store: Store,
  deviceId: string,
  nowMs: number,
): { state: DeviceState; slots: TokenSlots } {
  const { record, slots, pending } = store.deviceState.read(deviceId, nowMs);
  const state: DeviceState = {
    stored: record && {
      publicKey: record.publicKey,
      roles: record.roles,
      scopes: record.scopes,
      platform: record.platform,
      deviceFamily: record.deviceFamily,
      tokens: slotStates(slots),
    },
    pending,
    lastSeenAtMs: record?.lastSeenAtMs ?? null,
  };
  return { state, slots };
}

/** Sources backed by the gateway's own store, limiter and runtime-token registry. */
export function storeFactSources(options: {
  store: Store;
  limiter: RateLimiter;
  auth: GatewayAuth;
  ownerDeviceId: string;
  autoApproveLocal: boolean;
  runtimeTokens: { verify(token: string): RuntimeTokenCheck } | undefined;
  now: number;
}): FactSources {
  const { store, now } = options;
  // The token rows read for the device's state also answer its token check: one read per connect.
  let read: { deviceId: string; slots: TokenSlots } | null = null;
  return {
    auth: options.auth,
    ownerDeviceId: options.ownerDeviceId,
    autoApproveLocal: options.autoApproveLocal,
    lockouts: (clientIp) => limiterLockouts(options.limiter, clientIp),
    device(deviceId) {
      const rows = readDeviceRows(store, deviceId, now);
      read = { deviceId, slots: rows.slots };
      return rows.state;
    },
    verifyDeviceToken: (deviceId, role, presented) =>
      read?.deviceId === deviceId
        ? checkToken(read.slots[role], presented)
        : store.tokens.verify(deviceId, role, presented),
    lookupSetupCode(code) {
      const found = store.setupCodes.lookup(code, now);
      if (found.kind === "valid")
        return { kind: "valid", roles: found.record.roles, scopes: found.record.scopes };
      if (found.why === "used") return { kind: "used", usedByDevice: found.record.usedByDevice };
      return { kind: "unknown-or-expired" };
    },
    verifyRuntimeToken: (token) => options.runtimeTokens?.verify(token) ?? { kind: "invalid" },
  };
}
