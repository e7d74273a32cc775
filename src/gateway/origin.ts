/** Browser Origin check, done before the WebSocket upgrade (reference C02). */
import { isOwnOrigin, normalizeOrigin } from "../policy/locality.js";

export { normalizeOrigin };

/**
 * An Origin passes when it is listed in `allowedOrigins` (or `*` is), or when it is the gateway's
 * own origin: same host and port as the Host header, that host a loopback name, the peer on loopback.
 */
export function isOriginAllowed(
  origin: string,
  host: string | null,
  allowedOrigins: readonly string[],
  peerLoopback: boolean,
): boolean {
  const normalized = normalizeOrigin(origin);
  if (!normalized) return false;
  if (allowedOrigins.includes("*")) return true;
  if (allowedOrigins.some((o) => normalizeOrigin(o) === normalized)) return true;
  // The own-origin exemption trusts Host, so it only holds for a peer that really is on this host.
  return peerLoopback && isOwnOrigin(origin, host);
}
