/**
 * `node:crypto`, loaded at its first use. Loading it costs a process about 7 ms on a machine of this
 * kind (it evaluates every part: ciphers, keys, X.509, ...), and a sub-agent calling back with a
 * runtime token needs none of it: its WebSocket takes random bytes from `random-pool.ts` and the
 * accept check from `websocket/sha1.ts` (bench/README.md, "A call-back without node:crypto").
 */
import type * as crypto from "node:crypto";

let loaded: typeof crypto | undefined;

/** The `node:crypto` module, loaded on the first call. */
export function nodeCrypto(): typeof crypto {
  return (loaded ??= process.getBuiltinModule("node:crypto"));
}
