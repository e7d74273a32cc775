// The v3 device signature payload, exactly as src/protocol/signature-payload.ts builds it on the
// gateway (reference §1.5). Plain ES so the browser and the tests run this very file.

/** Trims and lowercases ASCII A–Z only; non-ASCII letters are left alone, as OpenClaw does. */
export function normalizeDeviceMetadata(value) {
  if (typeof value !== "string") return "";
  return value.trim().replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** The token slot of the payload: `auth.token ?? auth.deviceToken ?? auth.bootstrapToken ?? ""`. */
export function signedToken(auth) {
  return auth?.token ?? auth?.deviceToken ?? auth?.bootstrapToken ?? "";
}

/**
 * `v3|deviceId|clientId|clientMode|role|scopesCsv|signedAtMs|token|nonce|platform|deviceFamily`;
 * scopes in the order sent (never sorted), empty metadata slots kept.
 */
export function buildSignaturePayloadV3(f) {
  return [
    "v3",
    f.deviceId,
    f.clientId,
    f.clientMode,
    f.role,
    f.scopes.join(","),
    String(f.signedAtMs),
    f.token,
    f.nonce,
    normalizeDeviceMetadata(f.platform),
    normalizeDeviceMetadata(f.deviceFamily),
  ].join("|");
}
