/**
 * Errors of the store layer. Every message names the file and what the user can do about it; none
 * carries a token, a hash or a row's content.
 */

export type StoreErrorCode =
  "STORE_CORRUPT" | "STORE_UNREADABLE" | "STORE_LOCKED" | "STORE_NEWER_SCHEMA" | "STORE_WRITE_FAILED";

/** The pairing store (or the gateway lock beside it) cannot be used as asked. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  /** The database file, or the lock file for STORE_LOCKED from the gateway lock. */
  readonly path: string;
  /** The process holding the gateway lock, when that is why. */
  readonly holderPid?: number;

  constructor(
    code: StoreErrorCode,
    path: string,
    message: string,
    options?: { cause?: unknown; holderPid?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "StoreError";
    this.code = code;
    this.path = path;
    if (options?.holderPid !== undefined) this.holderPid = options.holderPid;
  }
}

/** The store file is damaged or belongs to something else. */
export function corruptStore(path: string, detail: string, cause?: unknown): StoreError {
  return new StoreError(
    "STORE_CORRUPT",
    path,
    `state store ${path} is corrupt or not a Gatehouse database (${detail}); refusing to start. ` +
      "Move it aside to start fresh (every device must pair again) or restore a backup.",
    { cause },
  );
}

/** The store (or its directory) exists but this user may not read and write it. */
export function unreadableStore(path: string, detail: string, cause?: unknown): StoreError {
  return new StoreError(
    "STORE_UNREADABLE",
    path,
    `cannot open state store ${path} for reading and writing (${detail}); refusing to start. ` +
      "Make the file and its directory readable and writable by the user running gatehouse (check owner and mode), then try again.",
    { cause },
  );
}

/** The store was written by a newer Gatehouse; touching it could lose what that version stored. */
export function newerSchema(path: string, found: number, known: number): StoreError {
  return new StoreError(
    "STORE_NEWER_SCHEMA",
    path,
    `state store ${path} has schema version ${found}, newer than this Gatehouse understands (${known}); ` +
      "refusing to open it so nothing is lost. Upgrade Gatehouse, or restore a backup made by this version.",
  );
}

/** Another process held the database lock past the busy timeout. */
export function busyStore(path: string, cause?: unknown): StoreError {
  return new StoreError(
    "STORE_LOCKED",
    path,
    `state store ${path} stayed locked by another process for more than 5 s (SQLITE_BUSY); ` +
      "try again, or stop the other gatehouse process that is writing to it.",
    { cause },
  );
}

/** A write did not happen; the transaction was rolled back. */
export function writeFailed(path: string, detail: string, cause?: unknown): StoreError {
  return new StoreError(
    "STORE_WRITE_FAILED",
    path,
    `cannot write state store ${path} (${detail}); nothing was changed. ` +
      "Check free disk space and that the file is writable.",
    { cause },
  );
}

const CORRUPT_CODES = new Set([
  "SQLITE_NOTADB",
  "SQLITE_CORRUPT",
  "SQLITE_CORRUPT_VTAB",
  "SQLITE_CORRUPT_SEQUENCE",
]);
const UNREADABLE_CODES = new Set(["SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH", "SQLITE_READONLY"]);

/**
 * Maps an error thrown while using the database to a StoreError; anything that is not a SQLite or
 * file-system error (a bug in a caller's callback, say) is returned unchanged.
 */
export function toStoreError(err: unknown, path: string, during: "open" | "write" | "read"): unknown {
  if (err instanceof StoreError) return err;
  const code = errorCode(err);
  if (code === undefined) return err;
  // SQLite messages name tables and columns, never bound values, so they are safe to show.
  const detail = `${code}: ${(err as Error).message}`;
  if (CORRUPT_CODES.has(code) || code.startsWith("SQLITE_CORRUPT")) return corruptStore(path, detail, err);
  if (code === "SQLITE_BUSY" || code.startsWith("SQLITE_BUSY_") || code === "SQLITE_LOCKED") {
    return busyStore(path, err);
  }
  if ((code === "EACCES" || code === "EPERM" || code === "EROFS") && during !== "write") {
    return unreadableStore(path, code, err);
  }
  if (!code.startsWith("SQLITE_") && !/^E[A-Z]+$/.test(code)) return err;
  if (during === "read") return unreadableStore(path, detail, err);
  if (during === "open" && (UNREADABLE_CODES.has(code) || code.startsWith("SQLITE_READONLY"))) {
    return unreadableStore(path, detail, err);
  }
  return writeFailed(path, detail, err);
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}
