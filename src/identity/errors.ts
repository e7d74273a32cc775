/**
 * Why a device identity file could not be used: missing or unreadable, malformed, or not writable.
 *
 * @example
 * ```ts
 * import type { IdentityErrorCode } from "gatehouse-gateway/client";
 *
 * const fixable: IdentityErrorCode[] = ["IDENTITY_UNREADABLE", "IDENTITY_WRITE_FAILED"];
 * console.log(fixable.includes("IDENTITY_MALFORMED")); // false
 * ```
 */
export type IdentityErrorCode = "IDENTITY_UNREADABLE" | "IDENTITY_MALFORMED" | "IDENTITY_WRITE_FAILED";

/**
 * A device identity file could not be read, parsed or written; `path` names the file, the message
 * never contains key material.
 *
 * @example
 * ```ts
 * import { mkdtempSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { IdentityError, loadOrCreateDeviceIdentity } from "gatehouse-gateway/client";
 *
 * const dir = mkdtempSync(join(tmpdir(), "device-"));
 * writeFileSync(join(dir, "device.json"), "not json");
 * try {
 *   loadOrCreateDeviceIdentity(dir); // a damaged identity is reported, never replaced
 * } catch (err) {
 *   console.log(err instanceof IdentityError && err.code); // IDENTITY_MALFORMED
 * }
 * ```
 */
export class IdentityError extends Error {
  readonly code: IdentityErrorCode;
  readonly path: string;

  constructor(code: IdentityErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "IdentityError";
    this.code = code;
    this.path = path;
  }
}
