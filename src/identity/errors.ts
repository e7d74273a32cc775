/** Errors of the identity layer; messages name the file, never key material. */

export type IdentityErrorCode = "IDENTITY_UNREADABLE" | "IDENTITY_MALFORMED" | "IDENTITY_WRITE_FAILED";

/** A device identity file could not be read, parsed or written. */
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
