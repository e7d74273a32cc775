/**
 * OpenClaw's legacy paired-device records (`devices/paired.json` values, reference §4.2) turned
 * into Gatehouse rows. Every field gets explicit semantics; an entry that does not make sense is
 * refused whole with a reason, never half-imported (S05, S13).
 */
import { decodePublicKeyBytes, deviceIdFromRawKey, publicKeyFromRaw, toBase64Url } from "../identity/keys.js";
import { isGatewayRole } from "../protocol/client-info.js";
import { normalizeDeviceMetadata } from "../protocol/signature-payload.js";
import { normalizeSet } from "./codec.js";
import type { Store } from "./db.js";
import type { DeviceRecord } from "./devices.js";
import type { ImportedToken } from "./tokens.js";

/** A legacy record as Gatehouse rows, tokens still in cleartext until they are stored hashed. */
export type LegacyNormalized =
  { ok: true; device: DeviceRecord; tokens: ImportedToken[] } | { ok: false; error: string };

/** Outcome of {@link importLegacyPaired}; `imported` is false when the store already had the device. */
export type LegacyImport = { ok: true; deviceId: string; imported: boolean } | { ok: false; error: string };

type Json = Record<string, unknown>;

class Malformed extends Error {}

/**
 * Normalizes one legacy paired-device record. Roles are `role` ∪ `roles` (falling back to the
 * roles of live tokens only when neither is set); the scope baseline is `approvedScopes ?? scopes`;
 * an empty `tokens` map means no tokens; revoked tokens stay revoked; tokens bound to a shared-secret
 * generation (`issuer`) are dropped, since Gatehouse cannot tell whether that generation is current.
 */
export function normalizeLegacyPaired(raw: unknown, nowMs: number = Date.now()): LegacyNormalized {
  try {
    return { ok: true, ...normalize(raw, nowMs) };
  } catch (err) {
    if (err instanceof Malformed) return { ok: false, error: err.message };
    throw err;
  }
}

/**
 * Imports one legacy record (device and hashed tokens) in one transaction. A device already in the
 * store wins and is left alone; a malformed record writes nothing.
 */
export function importLegacyPaired(store: Store, raw: unknown, nowMs: number): LegacyImport {
  const normalized = normalizeLegacyPaired(raw, nowMs);
  if (!normalized.ok) return normalized;
  const { device, tokens } = normalized;
  return store.transaction((): LegacyImport => {
    if (store.devices.get(device.deviceId)) return { ok: true, deviceId: device.deviceId, imported: false };
    store.devices.upsert(device);
    for (const token of tokens) store.tokens.importToken(device.deviceId, token);
    return { ok: true, deviceId: device.deviceId, imported: true };
  });
}

function normalize(raw: unknown, nowMs: number): { device: DeviceRecord; tokens: ImportedToken[] } {
  if (!isObject(raw)) throw new Malformed("legacy paired device: entry is not a JSON object");
  const claimedId = raw.deviceId;
  if (typeof claimedId !== "string" || claimedId.trim() === "") {
    throw new Malformed("legacy paired device: deviceId is missing");
  }
  const where = `legacy paired device ${claimedId}`;
  // Typed as a `never` function so each failed check narrows what follows it.
  const fail: (why: string) => never = (why) => {
    throw new Malformed(`${where}: ${why}`);
  };

  if (typeof raw.publicKey !== "string") fail("publicKey is missing");
  const bytes = decodePublicKeyBytes(raw.publicKey);
  if (!bytes || !publicKeyFromRaw(bytes)) fail("publicKey is not an Ed25519 public key");
  const deviceId = deviceIdFromRawKey(bytes);
  if (deviceId !== claimedId.trim().toLowerCase()) {
    fail("deviceId does not match its publicKey (a deviceId is the SHA-256 of the raw key)");
  }

  const text = (field: string): string | null => {
    const v = raw[field];
    if (v === undefined || v === null) return null;
    if (typeof v !== "string") fail(`${field} must be a string`);
    return v;
  };
  const list = (obj: Json, field: string, label = field): string[] | null => {
    const v = obj[field];
    if (v === undefined || v === null) return null;
    if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) fail(`${label} must be a list of strings`);
    return v as string[];
  };
  const time = (obj: Json, field: string, label = field): number | null => {
    const v = obj[field];
    if (v === undefined || v === null) return null;
    if (typeof v !== "number" || !Number.isFinite(v)) fail(`${label} must be a number (epoch milliseconds)`);
    return Math.floor(v);
  };
  const pinned = (field: string): string | null => {
    const v = normalizeDeviceMetadata(text(field));
    return v === "" ? null : v;
  };

  const single = text("role");
  // Only roles this gateway knows carry rights; any other name grants nothing and is not imported.
  const declaredRoles = normalizeSet(
    [...(single ? [single] : []), ...(list(raw, "roles") ?? [])].filter(isGatewayRole),
  );
  const scopes = normalizeSet(list(raw, "approvedScopes") ?? list(raw, "scopes") ?? []);
  const createdAtMs = time(raw, "createdAtMs") ?? time(raw, "approvedAtMs") ?? nowMs;
  const approvedAtMs = time(raw, "approvedAtMs") ?? createdAtMs;
  const tokens = legacyTokens(raw.tokens, createdAtMs, { fail, list, time });

  // Tokens were only ever issued for approved roles, so a record that names no roles keeps the
  // roles it still holds live tokens for; otherwise the named roles are the approval.
  const roles =
    declaredRoles.length > 0
      ? declaredRoles
      : normalizeSet(tokens.filter((t) => t.revokedAtMs === null).map((t) => t.role));

  const device: DeviceRecord = {
    deviceId,
    publicKey: toBase64Url(bytes),
    displayName: text("displayName"),
    label: text("operatorLabel"),
    clientId: text("clientId"),
    clientMode: text("clientMode"),
    platform: pinned("platform"),
    deviceFamily: pinned("deviceFamily"),
    roles,
    scopes,
    approvedVia: "imported",
    createdAtMs,
    approvedAtMs,
    lastSeenAtMs: time(raw, "lastSeenAtMs"),
    lastSeenIp: text("remoteIp"),
  };
  return { device, tokens: tokens.filter((t) => roles.includes(t.role)) };
}

function legacyTokens(
  value: unknown,
  defaultCreatedAtMs: number,
  check: {
    fail: (why: string) => never;
    list: (obj: Json, field: string, label?: string) => string[] | null;
    time: (obj: Json, field: string, label?: string) => number | null;
  },
): ImportedToken[] {
  // `{}` is "no tokens", exactly like an absent map: not "has tokens, none for any role" (S05).
  if (value === undefined || value === null) return [];
  if (!isObject(value)) check.fail("tokens must be an object keyed by role");
  const out: ImportedToken[] = [];
  for (const [key, entry] of Object.entries(value)) {
    const label = `tokens.${key}`;
    if (!isObject(entry)) check.fail(`${label} is not an object`);
    const token = entry.token;
    if (typeof token !== "string" || token === "") check.fail(`${label} has no token`);
    if (entry.role !== undefined && entry.role !== null && entry.role !== key)
      check.fail(`${label} names a different role`);
    if (entry.issuer !== undefined && entry.issuer !== null) continue;
    if (!isGatewayRole(key)) continue;
    out.push({
      role: key,
      token,
      scopes: normalizeSet(check.list(entry, "scopes", `${label}.scopes`) ?? []),
      createdAtMs: check.time(entry, "createdAtMs", `${label}.createdAtMs`) ?? defaultCreatedAtMs,
      rotatedAtMs: check.time(entry, "rotatedAtMs", `${label}.rotatedAtMs`),
      revokedAtMs: check.time(entry, "revokedAtMs", `${label}.revokedAtMs`),
      lastUsedAtMs: check.time(entry, "lastUsedAtMs", `${label}.lastUsedAtMs`),
    });
  }
  return out;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
