// This browser's device identity: an Ed25519 key pair made with WebCrypto (private key not
// extractable), kept in IndexedDB with the device tokens the gateway issued to it (per role).
// deviceId = lowercase hex SHA-256 of the raw 32-byte public key; the wire carries the raw key
// as base64url without padding (reference §1.6).

const DB_NAME = "gatehouse-control-ui";
const DB_VERSION = 1;
const STORE = "kv";
const IDENTITY_KEY = "identity";

/** Null when this page can hold a device key; otherwise why not, in words a person can act on. */
export function identityUnavailableReason() {
  if (!globalThis.isSecureContext || !globalThis.crypto?.subtle) {
    return (
      "This page is not a secure context, so the browser offers no WebCrypto and cannot hold a device key. " +
      "Open the Control UI on the gateway host at http://127.0.0.1:<port>/ (or localhost), over HTTPS, " +
      "or through an SSH tunnel (ssh -L 18789:127.0.0.1:18789 <gateway host>)."
    );
  }
  if (!globalThis.indexedDB)
    return "This browser has no IndexedDB (private mode?), so it cannot keep a device key.";
  return null;
}

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

let dbPromise = null;

function openDb() {
  if (!dbPromise) {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE);
    };
    dbPromise = request(req);
  }
  return dbPromise;
}

async function get(key) {
  const db = await openDb();
  return request(db.transaction(STORE, "readonly").objectStore(STORE).get(key));
}

async function put(key, value) {
  const db = await openDb();
  return request(db.transaction(STORE, "readwrite").objectStore(STORE).put(value, key));
}

async function del(key) {
  const db = await openDb();
  return request(db.transaction(STORE, "readwrite").objectStore(STORE).delete(key));
}

/** Adds `value` under `key` only if absent; resolves false when another tab got there first. */
async function addIfAbsent(key, value) {
  const db = await openDb();
  try {
    await request(db.transaction(STORE, "readwrite").objectStore(STORE).add(value, key));
    return true;
  } catch (err) {
    if (err && err.name === "ConstraintError") return false;
    throw err;
  }
}

export function toBase64Url(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** deviceId for a raw 32-byte public key. */
export async function deviceIdFromRawKey(raw) {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", raw)));
}

async function describe(stored) {
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", stored.publicKey));
  return {
    deviceId: await deviceIdFromRawKey(raw),
    publicKey: toBase64Url(raw),
    privateKey: stored.privateKey,
    extractable: stored.privateKey.extractable,
    createdAtMs: stored.createdAtMs,
  };
}

/**
 * The identity kept in IndexedDB, made on first use. Two tabs opening at once end up with the
 * same key: the first to store wins and the other re-reads.
 */
export async function loadOrCreateIdentity() {
  const existing = await get(IDENTITY_KEY);
  if (existing?.privateKey && existing?.publicKey) return describe(existing);
  let pair;
  try {
    pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
  } catch (err) {
    throw new Error(`this browser cannot make an Ed25519 key with WebCrypto (${err?.message ?? err})`);
  }
  const record = { publicKey: pair.publicKey, privateKey: pair.privateKey, createdAtMs: Date.now() };
  if (!(await addIfAbsent(IDENTITY_KEY, record))) return describe(await get(IDENTITY_KEY));
  return describe(record);
}

/** Ed25519 signature of the UTF-8 payload, base64url without padding. */
export async function signPayload(identity, payload) {
  const sig = await crypto.subtle.sign(
    { name: "Ed25519" },
    identity.privateKey,
    new TextEncoder().encode(payload),
  );
  return toBase64Url(new Uint8Array(sig));
}

const tokenKey = (deviceId, role) => `device-token:${deviceId}:${role}`;

/** The device token stored for (device, role): `{token, scopes, issuedAtMs}` or null. */
export async function loadDeviceToken(deviceId, role) {
  return (await get(tokenKey(deviceId, role))) ?? null;
}

export async function storeDeviceToken(deviceId, role, entry) {
  await put(tokenKey(deviceId, role), entry);
}

export async function clearDeviceToken(deviceId, role) {
  await del(tokenKey(deviceId, role));
}

/** Forgets this browser's key and tokens: the next load is a new device that must pair again. */
export async function forgetIdentity(deviceId) {
  await del(tokenKey(deviceId, "operator"));
  await del(IDENTITY_KEY);
}
