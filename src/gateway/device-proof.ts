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
import type { ConnectParams, DeviceProof } from "../protocol/connect.js";
import type { DeviceProofFailure } from "../policy/admission.js";
import {
  buildSignaturePayloadV2,
  buildSignaturePayloadV3,
  signedToken,
} from "../protocol/signature-payload.js";

/** How far `signedAt` may be from the server clock. */
export const DEVICE_SIGNATURE_SKEW_MS = 2 * 60 * 1000;

/**
 * Public keys already parsed, by their raw bytes (base64url): OpenSSL's key decoder costs as much
 * as the signature check itself, and a paired device presents the same key on every connect. Keys
 * are immutable and the entry is found only by the exact bytes, so a hit is the key a parse would
 * give. Oldest first out; the bound keeps a flood of fresh keys from growing it.
 */
const parsedKeys = new Map<string, KeyObject>();
const PARSED_KEYS_MAX = 1024;

function parsedKey(raw64: string, raw: Buffer): KeyObject | null {
  const cached = parsedKeys.get(raw64);
  if (cached) return cached;
  const key = publicKeyFromRaw(raw);
  if (!key) return null;
  if (parsedKeys.size >= PARSED_KEYS_MAX) parsedKeys.delete(parsedKeys.keys().next().value!);
  parsedKeys.set(raw64, key);
  return key;
}

export type DeviceProofResult =
  | { ok: true; deviceId: string; publicKey: string; payloadVersion: "v3" | "v2" }
  | { ok: false; code: DeviceProofFailure };

/** Checks `params.device` against this connection's challenge nonce at time `nowMs`. */
export function verifyDeviceProof(
  device: DeviceProof,
  params: ConnectParams,
  role: GatewayRole,
  challengeNonce: string,
  nowMs: number,
): DeviceProofResult {
  const keyBytes = decodePublicKeyBytes(device.publicKey);
  if (!keyBytes || deviceIdFromRawKey(keyBytes) !== device.id) {
    return { ok: false, code: "DEVICE_AUTH_DEVICE_ID_MISMATCH" };
  }
  if (Math.abs(nowMs - device.signedAt) > DEVICE_SIGNATURE_SKEW_MS) {
    return { ok: false, code: "DEVICE_AUTH_SIGNATURE_EXPIRED" };
  }
  if (device.nonce.trim() === "") return { ok: false, code: "DEVICE_AUTH_NONCE_REQUIRED" };
  if (device.nonce !== challengeNonce) return { ok: false, code: "DEVICE_AUTH_NONCE_MISMATCH" };

  const publicKey = toBase64Url(keyBytes);
  const key = parsedKey(publicKey, keyBytes);
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
  if (verifyPayload(key, v3, device.signature)) {
    return { ok: true, deviceId: device.id, publicKey, payloadVersion: "v3" };
  }
  if (verifyPayload(key, buildSignaturePayloadV2(fields), device.signature)) {
    return { ok: true, deviceId: device.id, publicKey, payloadVersion: "v2" };
  }
  return { ok: false, code: "DEVICE_AUTH_SIGNATURE_INVALID" };
}
