/**
 * Pre-auth frames are capped at 64 KiB by the server's `maxPayload`, which `ws` enforces before
 * buffering a frame. After hello the limit rises for that socket only. `ws` has no public API for
 * that, so this touches its receiver's limit and reports whether it could; the gateway's tests prove
 * both limits hold with the pinned `ws` version.
 */
import type { WebSocket } from "ws";

/** Raises this socket's inbound frame limit; false if `ws` no longer exposes the field. */
export function raisePayloadLimit(ws: WebSocket, bytes: number): boolean {
  // Narrowed field by field: the private shape is checked at run time, not asserted.
  if (!("_receiver" in ws)) return false;
  const receiver = ws._receiver;
  if (typeof receiver !== "object" || receiver === null || !("_maxPayload" in receiver)) return false;
  if (typeof receiver._maxPayload !== "number") return false;
  receiver._maxPayload = bytes;
  return true;
}
