/** The warning a person must see when the gateway listens beyond loopback without TLS. */
import { isLoopbackIp } from "../../policy/ip.js";

/** The fix, as a command. */
export const ENABLE_TLS_COMMAND =
  "gatehouse config set gateway.tls.enabled true && gatehouse gateway restart";

/**
 * A warning when a gateway listening on `hosts` serves plain ws:// beyond loopback (`secure`:
 * it serves wss://); null when it does not.
 */
export function plaintextExposureWarning(hosts: readonly string[], secure: boolean): string | null {
  if (secure) return null;
  const exposed = hosts.filter((h) => h !== "localhost" && !isLoopbackIp(h.replace(/^\[|\]$/g, "")));
  if (exposed.length === 0) return null;
  return (
    `WARNING: the gateway listens on ${exposed.join(", ")} without TLS: the shared token and device tokens ` +
    `cross the network in the clear, and browsers there get no WebCrypto (no secure context). Turn TLS on: ${ENABLE_TLS_COMMAND}`
  );
}
