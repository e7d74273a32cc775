/**
 * Writes small secret-bearing JSON files (config with the token, identities, device tokens):
 * mode 0600 in a 0700 directory, fully written and fsynced before they become visible, so a reader
 * never sees half a file and a crash never leaves one.
 */
import { nodeCrypto } from "./node-crypto.js";
// Built-ins by getBuiltinModule, not `import`: an ES import of one evaluates all its lazy parts
// (fs.promises, crypto.webcrypto, ...), a measurable share of a sub-agent's call-back (bench/README.md).
const { closeSync, fsyncSync, linkSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } =
  process.getBuiltinModule("node:fs");
const { dirname } = process.getBuiltinModule("node:path");

export type PublishMode =
  /** Replace whatever is there (rename(2)). */
  | "replace"
  /** Only if nothing is there yet (link(2) never overwrites); returns false when another file won. */
  | "create";

/** Writes `data` as JSON to `path`; throws the underlying fs error (callers wrap it in their own). */
export function writeSecretJson(path: string, data: unknown, mode: PublishMode = "replace"): boolean {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${nodeCrypto().randomBytes(6).toString("hex")}.tmp`;
  try {
    const fd = openSync(tmp, "wx", 0o600);
    try {
      writeSync(fd, JSON.stringify(data, null, 2) + "\n");
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (mode === "replace") {
      renameSync(tmp, path);
      return true;
    }
    try {
      linkSync(tmp, path);
      return true;
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw cause;
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // renamed away, or never created
    }
  }
}
