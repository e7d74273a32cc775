/**
 * Verifies a connect's device proof, in the order the protocol fixes: id derivation, signature age,
 * nonce present, nonce equal to this connection's challenge, signature (v3, then v2), key format.
 */
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

export type DeviceProofResult =
  | { ok: true; deviceId: string; publicKey: string; payloadVersion: "v3" | "v2" }
  | { ok: false; code: DeviceProofFailure };

/** Checks `params.device` against this connection's challenge nonce at time `nowMs`. */
export function verifyDeviceProof(
  device: DeviceProof,
  params: ConnectParams,
  role: string,
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

  const key = publicKeyFromRaw(keyBytes);
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
    return { ok: true, deviceId: device.id, publicKey: toBase64Url(keyBytes), payloadVersion: "v3" };
  }
  if (verifyPayload(key, buildSignaturePayloadV2(fields), device.signature)) {
    return { ok: true, deviceId: device.id, publicKey: toBase64Url(keyBytes), payloadVersion: "v2" };
  }
  return { ok: false, code: "DEVICE_AUTH_SIGNATURE_INVALID" };
}
