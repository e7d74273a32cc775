/**
 * Random bytes for the client's WebSocket (upgrade keys, frame masks) and request-id prefixes,
 * handed out from one 4 KiB pool: one fill instead of a call and a Buffer each. The fill comes from
 * the kernel's CSPRNG through /dev/urandom (a character device, checked: a sandbox or chroot could
 * put a plain file there), or from `node:crypto` where that cannot be read; CSPRNG bytes either way,
 * and each handed out once. Reading the device spares a call-back the load of `node:crypto`.
 */
import { nodeCrypto } from "./node-crypto.js";
const { closeSync, fstatSync, openSync, readSync } = process.getBuiltinModule("node:fs");

const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let at = POOL_BYTES;

/**
 * Fills `buf` from the character device at `path` (the kernel's /dev/urandom); false, and nothing
 * in `buf` to rely on, when it cannot be opened, is not a character device, or reads short.
 */
export function fillFromDevice(buf: Buffer, path = "/dev/urandom"): boolean {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return false;
  }
  try {
    if (!fstatSync(fd).isCharacterDevice()) return false;
    for (let filled = 0; filled < buf.length;) {
      const n = readSync(fd, buf, filled, buf.length - filled, null);
      if (n <= 0) return false;
      filled += n;
    }
    return true;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/** `n` (≤ 4096) fresh random bytes: a view of the pool, so use them before the next call. */
export function freshRandom(n: number): Buffer {
  if (at + n > POOL_BYTES) {
    if (!fillFromDevice(pool)) nodeCrypto().randomFillSync(pool);
    at = 0;
  }
  at += n;
  return pool.subarray(at - n, at);
}
