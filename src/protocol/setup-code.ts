/**
 * Setup codes as people and QR codes carry them: ten characters from an alphabet without look-alikes
 * (no 0/O, no 1/I), shown grouped `ABCD-EFGH-JK`, and a `gatehouse://pair?…` link that also carries
 * the gateway URL, its TLS fingerprint and the profile. Presented at connect as
 * `auth.bootstrapToken` (OpenClaw's slot). Pure: generation's randomness is the caller's.
 */

/** 32 symbols: digits 2–9 and A–Z without I and O. 10 of them are 50 bits. */
export const SETUP_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
export const SETUP_CODE_LENGTH = 10;

/** What a setup code pre-approves. */
export const SETUP_CODE_PROFILES = ["operator-limited", "operator-full", "node"] as const;
export type SetupCodeProfile = (typeof SETUP_CODE_PROFILES)[number];

/** How long a setup code lives unless its minter says otherwise: 10 minutes. */
export const DEFAULT_SETUP_CODE_TTL_MS = 10 * 60_000;
/** The shortest life a minter may ask for. */
export const MIN_SETUP_CODE_TTL_MS = 30_000;
/** The longest life a minter may ask for: a day. */
export const MAX_SETUP_CODE_TTL_MS = 24 * 60 * 60_000;

/** The link scheme of the QR code. */
export const SETUP_LINK_PREFIX = "gatehouse://pair";

export function isSetupCodeProfile(value: unknown): value is SetupCodeProfile {
  return typeof value === "string" && (SETUP_CODE_PROFILES as readonly string[]).includes(value);
}

/** A code from `SETUP_CODE_LENGTH` random bytes (each byte's low 5 bits: uniform over 32 symbols). */
export function setupCodeFromBytes(bytes: Uint8Array): string {
  if (bytes.length < SETUP_CODE_LENGTH) throw new RangeError("not enough random bytes for a setup code");
  let out = "";
  for (let i = 0; i < SETUP_CODE_LENGTH; i++) out += SETUP_CODE_ALPHABET[bytes[i]! & 31];
  return out;
}

/**
 * The canonical form of a typed code: separators and spaces dropped, upper case. Null when what
 * remains is not a code (wrong length or a symbol outside the alphabet).
 */
export function normalizeSetupCode(text: string): string | null {
  const code = text.replace(/[\s-]/g, "").toUpperCase();
  if (code.length !== SETUP_CODE_LENGTH) return null;
  for (const ch of code) if (!SETUP_CODE_ALPHABET.includes(ch)) return null;
  return code;
}

/** `ABCD-EFGH-JK` for display. */
export function formatSetupCode(code: string): string {
  return code.replace(/(.{4})(?=.)/g, "$1-");
}

/** Everything a device needs to pair: where, which certificate, which code. */
export interface SetupLink {
  code: string;
  url: string | null;
  fingerprint: string | null;
  profile: SetupCodeProfile | null;
}

/** `gatehouse://pair?url=…&fp=…&code=…&profile=…` */
export function buildSetupLink(link: {
  code: string;
  url: string;
  fingerprint: string | null;
  profile: SetupCodeProfile;
}): string {
  const q = new URLSearchParams();
  q.set("url", link.url);
  if (link.fingerprint) q.set("fp", link.fingerprint);
  q.set("code", formatSetupCode(link.code));
  q.set("profile", link.profile);
  return `${SETUP_LINK_PREFIX}?${q.toString()}`;
}

/**
 * A bare code or a `gatehouse://pair?…` link, as a user pastes it. Null when neither parses (the
 * message never echoes the input: it is a secret).
 */
export function parseSetupInput(text: string): SetupLink | null {
  const input = text.trim();
  if (!input.toLowerCase().startsWith("gatehouse:")) {
    const code = normalizeSetupCode(input);
    return code ? { code, url: null, fingerprint: null, profile: null } : null;
  }
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return null;
  }
  if (url.protocol !== "gatehouse:" || `${url.host}${url.pathname}`.replace(/\/+$/, "") !== "pair")
    return null;
  const code = normalizeSetupCode(url.searchParams.get("code") ?? "");
  if (!code) return null;
  const gatewayUrl = url.searchParams.get("url");
  const fp = url.searchParams.get("fp");
  const profile = url.searchParams.get("profile");
  return {
    code,
    url: gatewayUrl && /^wss?:\/\//i.test(gatewayUrl) ? gatewayUrl : null,
    fingerprint: fp ? normalizeFingerprint(fp) : null,
    profile: isSetupCodeProfile(profile) ? profile : null,
  };
}

/**
 * A SHA-256 certificate fingerprint in the one form pins are compared in (reference §1.1): hex,
 * colons and spaces stripped, lower case. Null when it is not 64 hex digits.
 */
export function normalizeFingerprint(text: string): string | null {
  const hex = text
    .trim()
    .replace(/^sha-?256[:=\s]*/i, "")
    .replace(/[:\s]/g, "")
    .toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : null;
}

/** `AB:CD:…` for display, so it can be compared with what `openssl x509 -fingerprint` prints. */
export function formatFingerprint(hex: string): string {
  return (hex.toUpperCase().match(/.{2}/g) ?? []).join(":");
}
