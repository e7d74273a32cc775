/**
 * Refuses plaintext WebSocket URLs to anything but this host (reference C21): a `ws://` connect
 * sends the shared secret and device token in the clear, so it is only safe over loopback.
 */
import { isLoopbackIp } from "../policy/ip.js";
import { GatewayClientError } from "./errors.js";

/** Host part of a URL, safe to put in messages (no path, query or credentials). */
export function describeHost(url: URL): string {
  return url.host;
}

/**
 * True when the URL's host is a loopback IP literal (127.0.0.0/8, ::1, IPv4-mapped 127.x) or
 * `localhost`. Parses the address; a name such as `127.evil.com` is not loopback. Plain `ws://` is
 * allowed only to such URLs unless `allowInsecure` is set.
 *
 * @example
 * ```ts
 * import { isLoopbackUrl } from "gatehouse-gateway/client";
 *
 * console.log(isLoopbackUrl("ws://127.0.0.1:18789"), isLoopbackUrl("ws://127.evil.com:18789")); // true false
 * ```
 */
export function isLoopbackUrl(url: string | URL): boolean {
  let parsed: URL;
  try {
    parsed = typeof url === "string" ? new URL(url) : url;
  } catch {
    return false;
  }
  // WHATWG URL already canonicalizes IPv4 forms (127.1, 0x7f.0.0.1) and brackets IPv6.
  const host = parsed.hostname.toLowerCase();
  return host === "localhost" || isLoopbackIp(host);
}

/** Parses and vets a gateway URL before any network I/O; throws a client error saying why not. */
export function checkGatewayUrl(url: string, allowInsecure: boolean): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new GatewayClientError("INVALID_OPTIONS", "gateway url is not a valid URL");
  }
  if (parsed.protocol === "wss:") return parsed;
  if (parsed.protocol !== "ws:") {
    throw new GatewayClientError(
      "INVALID_OPTIONS",
      `gateway url must use ws:// or wss://, not ${parsed.protocol}//`,
    );
  }
  if (allowInsecure || isLoopbackUrl(parsed)) return parsed;
  throw new GatewayClientError(
    "INSECURE_URL",
    `refusing plaintext ws:// to non-loopback host ${describeHost(parsed)}: credentials would be sent ` +
      "unencrypted; use wss://, connect via loopback, or set allowInsecure: true",
  );
}
