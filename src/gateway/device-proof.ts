/**
 * Verifies a connect's device proof, in the order the protocol fixes: id derivation, signature age,
 * nonce present, nonce equal to this connection's challenge, signature (v3, then v2), key format.
 */
import type { KeyObject } from "node:crypto";
import type { GatewayRole } from "../protocol/client-info.js";
import {
  decodePublicKeyBytes,
  deviceIdFromRawKey,
  publicKeyFromRaw,
  toBase64Url,
  verifyPayload,
} from "../identity/keys.js";
import type { SignatureCheck } from "./signature-lane.js";
import type { ConnectParams, DeviceProof } from "../protocol/connect.js";
import type { DeviceProofFailure } from "../policy/admission.js";
import {
  buildSignaturePayloadV2,
  buildSignaturePayloadV3,
  signedToken,
} from "../protocol/signature-payload.js";

/** How far `signedAt` may be from the server clock. */
export const DEVICE_SIGNATURE_SKEW_MS = 2 * 60 * 1000;

/** What a device's public key, as sent, derives to: its id, its canonical spelling, the parsed key. */
interface DerivedKey {
  deviceId: string;
  /** Raw bytes as base64url: the spelling records and pending requests keep. */
  publicKey: string;
  /** Null when the bytes are no Ed25519 public key. */
  key: KeyObject | null;
}

/**
 * Valid keys already derived, by the exact text the client sent: OpenSSL's key decoder costs as
 * much as the signature check itself, and a paired device presents the same key on every
 * connect, so decoding, hashing to its id and parsing it again would be work with a known answer.
 * Everything here is a function of that text alone, so a hit is what deriving again would give.
 * Oldest first out; the bound keeps a flood of fresh keys from growing it. Only short texts are
 * kept: OpenSSL reads a PEM key after any amount of leading text, so a 60 KB connect frame could
 * otherwise park 60 KB per entry here (a key is 43 characters raw, 113 as PEM). That leading text
 * is accepted on purpose: OpenClaw 2026.9.6 reads a key containing "BEGIN" with `createPublicKey`
 * too, so it admits such a key, and the id is derived from the key's bytes, whatever surrounds them.
 * test/gateway/device-key-cache.test.ts pins both bounds and that every spelling is one device.
 */
const derivedKeys = new Map<string, DerivedKey>();
/** Most keys kept (about 0.3 KB each with their strings and `KeyObject`). */
export const DERIVED_KEYS_MAX = 1024;
/** Longest key text kept: 43 characters raw, 113 as PEM, with room for CRLF line ends. */
export const DERIVED_KEY_TEXT_MAX = 128;

/**
 * How many keys the cache holds. Only tests read it: its bounds are a memory guarantee to a
 * gateway that pre-auth clients can reach, and nothing else observes them cheaply.
 */
export function derivedKeyCount(): number {
  return derivedKeys.size;
}

/** The key as sent, derived (from the cache when seen before); null when it does not decode. */
function deriveKey(wire: string): DerivedKey | null {
  const cached = derivedKeys.get(wire);
  if (cached) return cached;
  const bytes = decodePublicKeyBytes(wire);
  if (!bytes) return null;
  const derived = {
    deviceId: deviceIdFromRawKey(bytes),
    publicKey: toBase64Url(bytes),
    key: publicKeyFromRaw(bytes),
  };
  if (derived.key === null || wire.length > DERIVED_KEY_TEXT_MAX) return derived;
  if (derivedKeys.size >= DERIVED_KEYS_MAX) derivedKeys.delete(derivedKeys.keys().next().value!);
  derivedKeys.set(wire, derived);
  return derived;
}

export type DeviceProofResult =
  | { ok: true; deviceId: string; publicKey: string; payloadVersion: "v3" | "v2" }
  | { ok: false; code: DeviceProofFailure };

/**
 * Checks `params.device` against this connection's challenge nonce at time `nowMs`, the signature
 * on the event loop.
 */
export function verifyDeviceProof(
  device: DeviceProof,
  params: ConnectParams,
  role: GatewayRole,
  challengeNonce: string,
  nowMs: number,
): DeviceProofResult {
  return checkDeviceProof(device, params, role, challengeNonce, nowMs, verifyPayload);
}

/**
 * {@link verifyDeviceProof} with the signatures checked by `check`: every check before the
 * signature is made at once, and the answer is a promise only when `check` answers with one.
 */
export function checkDeviceProof(
  device: DeviceProof,
  params: ConnectParams,
  role: GatewayRole,
  challengeNonce: string,
  nowMs: number,
  check: (key: KeyObject, payload: string, signature: string) => boolean,
): DeviceProofResult;
export function checkDeviceProof(
  device: DeviceProof,
  params: ConnectParams,
  role: GatewayRole,
  challengeNonce: string,
  nowMs: number,
  check: SignatureCheck,
): DeviceProofResult | Promise<DeviceProofResult>;
export function checkDeviceProof(
  device: DeviceProof,
  params: ConnectParams,
  role: GatewayRole,
  challengeNonce: string,
  nowMs: number,
  check: SignatureCheck,
): DeviceProofResult | Promise<DeviceProofResult> {
  const derived = deriveKey(device.publicKey);
  if (!derived || derived.deviceId !== device.id) {
    return { ok: false, code: "DEVICE_AUTH_DEVICE_ID_MISMATCH" };
  }
  if (Math.abs(nowMs - device.signedAt) > DEVICE_SIGNATURE_SKEW_MS) {
    return { ok: false, code: "DEVICE_AUTH_SIGNATURE_EXPIRED" };
  }
  if (device.nonce.trim() === "") return { ok: false, code: "DEVICE_AUTH_NONCE_REQUIRED" };
  if (device.nonce !== challengeNonce) return { ok: false, code: "DEVICE_AUTH_NONCE_MISMATCH" };

  const { publicKey, key } = derived;
  if (!key) return { ok: false, code: "DEVICE_AUTH_PUBLIC_KEY_INVALID" };
  const fields = {
    deviceId: device.id,
    clientId: params.client.id,
    clientMode: params.client.mode,
    role,
    scopes: params.scopes ?? [],
    signedAtMs: device.signedAt,
    token: signedToken(params.auth),
    nonce: device.nonce,
  };
  const v3 = buildSignaturePayloadV3({
    ...fields,
    platform: params.client.platform,
    deviceFamily: params.client.deviceFamily,
  });
  const proven = (payloadVersion: "v3" | "v2"): DeviceProofResult => ({
    ok: true,
    deviceId: device.id,
    publicKey,
    payloadVersion,
  });
  // v2 is tried only once v3 has failed, as before the check could run off the event loop.
  return andThen(check(key, v3, device.signature), (v3ok) =>
    v3ok
      ? proven("v3")
      : andThen(check(key, buildSignaturePayloadV2(fields), device.signature), (v2ok) =>
          v2ok ? proven("v2") : { ok: false, code: "DEVICE_AUTH_SIGNATURE_INVALID" },
        ),
  );
}

/** `f` of a value, or of a promised one when it is promised: a synchronous check stays synchronous. */
function andThen<T, U>(value: T | Promise<T>, f: (v: T) => U | Promise<U>): U | Promise<U> {
  return value instanceof Promise ? value.then(f) : f(value);
}
