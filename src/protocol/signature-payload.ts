/** The `|`-joined strings a device signs at connect (reference §1.5). */

export interface SignatureFields {
  deviceId: string;
  clientId: string;
  clientMode: string;
  role: string;
  /** In the order sent; never sorted. */
  scopes: readonly string[];
  signedAtMs: number;
  /** The credential actually presented (see {@link signedToken}); "" when none. */
  token: string;
  nonce: string;
}

export interface SignatureFieldsV3 extends SignatureFields {
  platform?: string | undefined;
  deviceFamily?: string | undefined;
}

/** Trims and lowercases ASCII A–Z only; non-ASCII letters are left alone, as OpenClaw does. */
export function normalizeDeviceMetadata(value: string | undefined | null): string {
  if (typeof value !== "string") return "";
  return value.trim().replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** The token slot of the payload: `auth.token ?? auth.deviceToken ?? auth.bootstrapToken ?? ""`. */
export function signedToken(
  auth: { token?: string; deviceToken?: string; bootstrapToken?: string } | undefined,
) {
  return auth?.token ?? auth?.deviceToken ?? auth?.bootstrapToken ?? "";
}

function commonFields(version: "v2" | "v3", f: SignatureFields): string[] {
  return [
    version,
    f.deviceId,
    f.clientId,
    f.clientMode,
    f.role,
    f.scopes.join(","),
    String(f.signedAtMs),
    f.token,
    f.nonce,
  ];
}

/** v2 payload: `v2|deviceId|clientId|clientMode|role|scopesCsv|signedAtMs|token|nonce`. */
export function buildSignaturePayloadV2(f: SignatureFields): string {
  return commonFields("v2", f).join("|");
}

/** v3 payload: the v2 fields plus normalized `platform` and `deviceFamily` (empty slots kept). */
export function buildSignaturePayloadV3(f: SignatureFieldsV3): string {
  return [
    ...commonFields("v3", f),
    normalizeDeviceMetadata(f.platform),
    normalizeDeviceMetadata(f.deviceFamily),
  ].join("|");
}
