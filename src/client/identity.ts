/**
 * A client's device identity in a directory, as the CLI and OpenClaw keep it: `device.json`
 * (Ed25519 key pair, mode 0600) and, beside it, `device-auth.json` for the device tokens the
 * gateway issues (see {@link FileDeviceTokenStore}).
 */
import { decodePublicKeyBytes, deviceIdFromRawKey, publicKeyFromRaw } from "../identity/keys.js";
import { loadIdentity, loadOrCreateIdentity } from "../identity/file-store.js";
import type { DeviceIdentity } from "../identity/keys.js";
// Built-ins by getBuiltinModule, not `import`: an ES import of one evaluates all its lazy parts
// (fs.promises, crypto.webcrypto, ...), a measurable share of a sub-agent's call-back (bench/README.md).
const { join } = process.getBuiltinModule("node:path");

/** The identity file's name inside its directory. */
const IDENTITY_FILE = "device.json";

/**
 * Loads the device identity kept in `dir`, creating the directory and a new Ed25519 identity in it
 * first if there is none. Safe when several processes race for the same directory: all of them end
 * up with the one identity that was written first. Throws {@link IdentityError} when the file is
 * unreadable or malformed (it is never replaced).
 *
 * @example
 * ```ts
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { loadOrCreateDeviceIdentity } from "gatehouse-gateway/client";
 *
 * const dir = join(mkdtempSync(join(tmpdir(), "device-")), "identity");
 * const first = loadOrCreateDeviceIdentity(dir); // creates dir/device.json
 * const again = loadOrCreateDeviceIdentity(dir); // loads the same identity
 * console.log(first.deviceId === again.deviceId); // true
 * ```
 */
export function loadOrCreateDeviceIdentity(dir: string): DeviceIdentity {
  return loadOrCreateIdentity(join(dir, IDENTITY_FILE));
}

/**
 * Loads the device identity kept in `dir`; throws {@link IdentityError} (`IDENTITY_UNREADABLE`
 * when there is none, `IDENTITY_MALFORMED` when the file is damaged). The gateway's owner identity
 * is the one in `<stateDir>/identity`.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { IdentityError, loadDeviceIdentity, loadOrCreateDeviceIdentity } from "gatehouse-gateway/client";
 *
 * const dir = mkdtempSync(join(tmpdir(), "device-"));
 * try {
 *   loadDeviceIdentity(dir);
 * } catch (err) {
 *   console.log(err instanceof IdentityError && err.code); // IDENTITY_UNREADABLE
 * }
 * const created = loadOrCreateDeviceIdentity(dir);
 * console.log(loadDeviceIdentity(dir).deviceId === created.deviceId); // true
 * ```
 */
export function loadDeviceIdentity(dir: string): DeviceIdentity {
  return loadIdentity(join(dir, IDENTITY_FILE));
}

/**
 * The device id of a public key as the gateway derives it: the lower-case hex SHA-256 of the raw
 * 32-byte Ed25519 key. Takes the key as the wire carries it (base64url, e.g. `publicKey` of a
 * pending request) or as a PEM block; throws a TypeError for anything else.
 *
 * @example
 * ```ts
 * import { deviceIdFromPublicKey, loadOrCreateDeviceIdentity } from "gatehouse-gateway/client";
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const identity = loadOrCreateDeviceIdentity(mkdtempSync(join(tmpdir(), "device-")));
 * console.log(deviceIdFromPublicKey(identity.publicKey) === identity.deviceId); // true
 * console.log(deviceIdFromPublicKey(identity.publicKeyPem) === identity.deviceId); // true
 * ```
 */
export function deviceIdFromPublicKey(publicKey: string): string {
  const raw = decodePublicKeyBytes(publicKey);
  if (!raw || !publicKeyFromRaw(raw)) {
    throw new TypeError("deviceIdFromPublicKey: not an Ed25519 public key (base64url raw key or PEM)");
  }
  return deviceIdFromRawKey(raw);
}
