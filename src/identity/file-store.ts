/**
 * Device identity files (`{version:1, deviceId, publicKeyPem, privateKeyPem, createdAtMs}`, mode
 * 0600, the shape OpenClaw's `identity/device.json` uses). Creation is race-safe across processes:
 * each contender writes a complete temp file and hard-links it into place; link(2) never
 * overwrites, so exactly one wins and everyone reads the winner's file.
 */
import { writeSecretJson } from "../util/secret-file.js";
import { IdentityError } from "./errors.js";
import { generateIdentity, identityFromPrivateKeyPem, type DeviceIdentity } from "./keys.js";
// Built-ins by getBuiltinModule, not `import`: an ES import of one evaluates all its lazy parts
// (fs.promises, crypto.webcrypto, ...), a measurable share of a sub-agent's call-back (bench/README.md).
const { readFileSync } = process.getBuiltinModule("node:fs");

interface IdentityFile {
  version: 1;
  deviceId: string;
  publicKeyPem: string;
  privateKeyPem: string;
  createdAtMs: number;
}

/** Reads an identity file; throws {@link IdentityError} if it is missing, unreadable or malformed. */
export function loadIdentity(path: string): DeviceIdentity {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new IdentityError(
      "IDENTITY_UNREADABLE",
      path,
      `cannot read device identity ${path}: ${errno(cause)}`,
      {
        cause,
      },
    );
  }
  return parseIdentity(path, text);
}

/** Loads the identity at `path`, creating it first if there is none. */
export function loadOrCreateIdentity(path: string): DeviceIdentity {
  try {
    return loadIdentity(path);
  } catch (err) {
    if (!(err instanceof IdentityError) || !isMissing(err.cause)) throw err;
  }
  createIdentityFile(path);
  return loadIdentity(path);
}

function createIdentityFile(path: string): void {
  const identity = generateIdentity();
  const body: IdentityFile = {
    version: 1,
    deviceId: identity.deviceId,
    publicKeyPem: identity.publicKeyPem,
    privateKeyPem: identity.privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    createdAtMs: identity.createdAtMs,
  };
  try {
    // A losing racer's file is discarded: the winner's identity is the identity.
    writeSecretJson(path, body, "create");
  } catch (cause) {
    throw new IdentityError(
      "IDENTITY_WRITE_FAILED",
      path,
      `cannot write device identity ${path}: ${errno(cause)}`,
      {
        cause,
      },
    );
  }
}

function parseIdentity(path: string, text: string): DeviceIdentity {
  const malformed = (why: string) =>
    new IdentityError("IDENTITY_MALFORMED", path, `device identity ${path} is malformed: ${why}`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw malformed("not valid JSON");
  }
  if (typeof data !== "object" || data === null) throw malformed("not a JSON object");
  const file = data as Partial<IdentityFile>;
  if (file.version !== 1) throw malformed(`unsupported version ${JSON.stringify(file.version)}`);
  if (typeof file.privateKeyPem !== "string") throw malformed("privateKeyPem missing");
  const createdAtMs = typeof file.createdAtMs === "number" ? file.createdAtMs : 0;
  try {
    // The id is derived from the key, never taken from the file.
    return identityFromPrivateKeyPem(file.privateKeyPem, createdAtMs);
  } catch {
    throw malformed("privateKeyPem is not an Ed25519 private key");
  }
}

function isMissing(cause: unknown): boolean {
  return (cause as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}

function errno(cause: unknown): string {
  const e = cause as NodeJS.ErrnoException | undefined;
  return e?.code ?? (cause instanceof Error ? cause.message : String(cause));
}
