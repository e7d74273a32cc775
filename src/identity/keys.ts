/** Ed25519 keys as the protocol encodes them: raw 32-byte public keys in base64url, hex SHA-256 ids. */
import type { KeyObject } from "node:crypto";
// node:crypto at first use: a call-back with a runtime token loads this module but signs nothing.
import { nodeCrypto } from "../util/node-crypto.js";

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw key follows it. */
const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
/** DER prefix of an Ed25519 PKCS#8 private key (RFC 8410 §7, version 0); the 32-byte seed follows. */
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const BASE64_RE = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * An Ed25519 device identity with its derived id (lower-case hex SHA-256 of the raw public key).
 * The private key is a non-exportable-by-default `KeyObject` that never leaves this object; a
 * {@link GatewayClient} signs its connect with it.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { loadOrCreateDeviceIdentity, type DeviceIdentity } from "gatehouse-gateway/client";
 *
 * const identity: DeviceIdentity = loadOrCreateDeviceIdentity(mkdtempSync(join(tmpdir(), "device-")));
 * console.log(identity.deviceId.length, identity.privateKey.asymmetricKeyType); // 64 ed25519
 * ```
 */
export interface DeviceIdentity {
  deviceId: string;
  /** Raw public key, base64url without padding (the wire form). */
  publicKey: string;
  publicKeyPem: string;
  privateKey: KeyObject;
  createdAtMs: number;
}

/** `deviceId` = lowercase hex SHA-256 of the raw public key bytes. */
export function deviceIdFromRawKey(raw: Uint8Array): string {
  // One-shot, like the handshake's other digests: no Hash object per key the gateway first sees.
  return nodeCrypto().hash("sha256", raw, "hex");
}

/** Raw 32-byte public key of an Ed25519 KeyObject (public or private). */
export function rawPublicKey(key: KeyObject): Buffer {
  // DER, not JWK, though the JWK export is ~100 µs cheaper: Node 20 exports a JWK while holding the
  // key's lock and allocating, and a garbage collection then can run the destructor of the
  // generateKeyPairSync job that made the key, which takes the same lock: the process hangs for
  // good (bench/README.md, "A hang in Node's JWK export"). The DER export holds no lock while it
  // allocates.
  if (key.asymmetricKeyType !== "ed25519") throw new TypeError("not an Ed25519 key");
  const pub = key.type === "private" ? nodeCrypto().createPublicKey(key) : key;
  return pub.export({ format: "der", type: "spki" }).subarray(SPKI_ED25519_PREFIX.length);
}

/** The SPKI PEM of a raw Ed25519 public key, as OpenSSL writes it (one line: 60 base64 chars). */
export function publicKeyPemFromRaw(raw: Uint8Array): string {
  const der = Buffer.concat([SPKI_ED25519_PREFIX, raw]).toString("base64");
  return `-----BEGIN PUBLIC KEY-----\n${der}\n-----END PUBLIC KEY-----\n`;
}

/**
 * Bytes of a public key as sent on the wire: base64url (or standard base64) raw bytes, or a PEM
 * SPKI block. Returns null when the text is neither. The length is not checked here; see
 * {@link publicKeyFromRaw}.
 */
export function decodePublicKeyBytes(wire: string): Buffer | null {
  const text = wire.trim();
  if (text.includes("BEGIN")) {
    // Only an Ed25519 public key PEM; a private key or another algorithm is not a device key.
    if (!text.includes("BEGIN PUBLIC KEY")) return null;
    try {
      const key = nodeCrypto().createPublicKey({ key: text, format: "pem" });
      return key.asymmetricKeyType === "ed25519" ? rawPublicKey(key) : null;
    } catch {
      return null;
    }
  }
  if (text.length === 0 || !BASE64_RE.test(text)) return null;
  const bytes = Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64");
  return bytes.length > 0 ? bytes : null;
}

/** An Ed25519 public KeyObject from 32 raw bytes, or null if the bytes are not a valid key. */
export function publicKeyFromRaw(raw: Uint8Array): KeyObject | null {
  if (raw.length !== 32) return null;
  try {
    // JWK, not DER SPKI: the same raw key for OpenSSL, without its decoder (about 110 µs a key
    // against 10; the gateway pays it for every device its key cache has not seen).
    return nodeCrypto().createPublicKey({
      key: { kty: "OKP", crv: "Ed25519", x: toBase64Url(raw) },
      format: "jwk",
    });
  } catch {
    return null;
  }
}

/** Base64url without padding. */
export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}

/** Decodes base64url or standard base64 (the server tolerates both for signatures). */
export function fromBase64Any(text: string): Buffer | null {
  if (!BASE64_RE.test(text)) return null;
  return Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64");
}

/** A fresh identity (in memory; see `file-store.ts` to persist it). */
export function generateIdentity(nowMs = Date.now()): DeviceIdentity {
  const { privateKey } = nodeCrypto().generateKeyPairSync("ed25519");
  return identityFromPrivateKey(privateKey, nowMs);
}

/** The identity for an existing private key; the id is always re-derived, never trusted. */
export function identityFromPrivateKey(privateKey: KeyObject, createdAtMs: number): DeviceIdentity {
  return identityOf(privateKey, rawPublicKey(privateKey), createdAtMs);
}

/** An identity from its private key and the raw public key derived from it. */
function identityOf(privateKey: KeyObject, raw: Buffer, createdAtMs: number): DeviceIdentity {
  return {
    deviceId: deviceIdFromRawKey(raw),
    publicKey: toBase64Url(raw),
    publicKeyPem: publicKeyPemFromRaw(raw),
    privateKey,
    createdAtMs,
  };
}

/** Parses a PKCS#8 PEM private key; throws on anything that is not Ed25519. */
export function parsePrivateKeyPem(pem: string): KeyObject {
  // Every CLI command and sub-agent reads its key: the seed imported as a JWK costs about 0.8 ms
  // the first time in a process against 1.45 ms for OpenSSL's PEM decoder.
  const seed = ed25519SeedOfPem(pem);
  const key = seed && privateKeyFromSeed(seed);
  if (key) return key;
  const parsed = nodeCrypto().createPrivateKey({ key: pem, format: "pem" });
  if (parsed.asymmetricKeyType !== "ed25519") throw new TypeError("not an Ed25519 private key");
  return parsed;
}

/**
 * The identity stored as a PKCS#8 PEM private key (an identity file's form); throws on anything
 * that is not an Ed25519 private key. The id is derived from the key, as always.
 */
export function identityFromPrivateKeyPem(pem: string, createdAtMs: number): DeviceIdentity {
  const key = parsePrivateKeyPem(pem);
  // The JWK export (the first in a process 0.06 ms, against 0.6 ms for the DER export of
  // rawPublicKey) is safe for a parsed key, as it is not for a generated one: only a key
  // generation job's destructor takes a key's lock.
  return identityOf(key, Buffer.from(key.export({ format: "jwk" }).x!, "base64url"), createdAtMs);
}

const PEM_PRIVATE_KEY_RE = /^-----BEGIN PRIVATE KEY-----\s+([A-Za-z0-9+/=\s]+?)\s*-----END PRIVATE KEY-----$/;

/**
 * The 32-byte seed of an Ed25519 private key in the one PKCS#8 form OpenSSL and Node write for it
 * (RFC 8410 §7: version 0, the algorithm, the seed; no attributes, no public key), or null for
 * any other text, which then goes to OpenSSL's decoder.
 */
function ed25519SeedOfPem(pem: string): Buffer | null {
  const body = PEM_PRIVATE_KEY_RE.exec(pem.trim())?.[1];
  if (body === undefined) return null;
  const der = Buffer.from(body.replace(/\s+/g, ""), "base64");
  if (der.length !== PKCS8_ED25519_PREFIX.length + 32) return null;
  if (!der.subarray(0, PKCS8_ED25519_PREFIX.length).equals(PKCS8_ED25519_PREFIX)) return null;
  return der.subarray(PKCS8_ED25519_PREFIX.length);
}

/**
 * An Ed25519 private KeyObject from its seed, as a JWK: OpenSSL derives the public key from `d`.
 * Node wants `x` to be a string and does not read it for a private key; should a later Node
 * check it, the import fails and the caller falls back to OpenSSL's PEM decoder.
 */
function privateKeyFromSeed(seed: Buffer): KeyObject | null {
  try {
    return nodeCrypto().createPrivateKey({
      key: { kty: "OKP", crv: "Ed25519", d: toBase64Url(seed), x: "" },
      format: "jwk",
    });
  } catch {
    return null;
  }
}

/** Signs a UTF-8 payload; returns the signature in base64url. */
export function signPayload(identity: Pick<DeviceIdentity, "privateKey">, payload: string): string {
  return nodeCrypto().sign(null, Buffer.from(payload, "utf8"), identity.privateKey).toString("base64url");
}

/** Verifies an Ed25519 signature (base64url or base64) over a UTF-8 payload. */
export function verifyPayload(publicKey: KeyObject, payload: string, signature: string): boolean {
  const sig = fromBase64Any(signature);
  if (!sig || sig.length !== 64) return false;
  try {
    return nodeCrypto().verify(null, Buffer.from(payload, "utf8"), publicKey, sig);
  } catch {
    return false;
  }
}

/**
 * {@link verifyPayload} on libuv's thread pool: the same answer, with OpenSSL's work done off the
 * event loop (on another core when there is one), for the price of a hop to a pool thread and
 * back. A signature that is not 64 bytes is refused at once, as there.
 */
export function verifyPayloadOffLoop(
  publicKey: KeyObject,
  payload: string,
  signature: string,
): Promise<boolean> {
  const sig = fromBase64Any(signature);
  if (!sig || sig.length !== 64) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      nodeCrypto().verify(null, Buffer.from(payload, "utf8"), publicKey, sig, (err, ok) =>
        resolve(!err && ok),
      );
    } catch {
      resolve(false);
    }
  });
}
