/**
 * Where a connection comes from, decided only from what the gateway itself observed on the socket
 * and in the upgrade request. Host, Origin and forwarding headers can only ever reduce trust.
 */
import { canonicalIp, ipInAnyRange, isLoopbackIp } from "./ip.js";
import type { RuleId } from "./rules.js";

/** What the gateway saw at the upgrade; header values as received (null when absent). */
export interface TransportFacts {
  peerAddress: string;
  host: string | null;
  origin: string | null;
  /** `X-Forwarded-For` as received (comma-separated hops, client first). */
  forwardedFor: string | null;
  /** Any of `Forwarded`, `X-Forwarded-*`, `X-Real-IP` present. */
  hasProxyHeaders: boolean;
}

export interface Locality {
  /** The client address after trusted-proxy resolution; null when it cannot be attributed. */
  clientIp: string | null;
  /** Loopback client, loopback Host, no proxy in between (or only trusted same-host proxies). */
  directLocal: boolean;
  /** A non-empty Origin header: a browser page opened this socket. */
  browserOrigin: boolean;
  /**
   * That Origin as an approver is shown it (normalized `scheme://host[:port]`, or the header made
   * printable when it is no http(s) origin); null without one.
   */
  origin: string | null;
  /**
   * The page is the gateway's own (its Origin names the very loopback host:port this direct-local
   * connection was made to): the Control UI the gateway serves, not some other site.
   */
  ownOrigin: boolean;
  /** Why, rule by rule (no secrets here; it goes to the audit log). */
  trace: RuleId[];
}

/** Longest Origin kept for display; a browser's real Origin is far shorter. */
const MAX_SHOWN_ORIGIN = 200;
/** Characters that could rewrite a terminal line or reorder what is shown: C0/C1 controls, bidi marks. */
// eslint-disable-next-line no-control-regex
const UNSHOWABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * The Origin header as it may be shown in a terminal or a page: no control or text-direction
 * characters (which could disguise it), bounded.
 */
export function shownOrigin(origin: string | null): string | null {
  if (origin === null || origin.trim() === "") return null;
  const normalized = normalizeOrigin(origin.trim());
  if (normalized) return normalized;
  return origin.trim().slice(0, MAX_SHOWN_ORIGIN).replace(UNSHOWABLE, "?");
}

/** Normalizes `scheme://host[:port]` with default ports dropped; null when not an http(s) origin. */
export function normalizeOrigin(origin: string): string | null {
  try {
    const u = new URL(origin);
    if (u.protocol !== "http:" && u.protocol !== "https:") return null;
    return `${u.protocol}//${u.host}`.toLowerCase();
  } catch {
    return null;
  }
}

/** The Origin's host:port is exactly the (loopback) Host this request was sent to. */
export function isOwnOrigin(origin: string | null, host: string | null): boolean {
  if (!origin || !host || !isLoopbackHostHeader(host)) return false;
  const normalized = normalizeOrigin(origin);
  if (!normalized) return false;
  return new URL(normalized).host === host.trim().toLowerCase();
}

/** Host header without its port; IPv6 brackets removed; lowercase. */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    return end > 0 ? h.slice(1, end) : h;
  }
  const colons = h.split(":").length - 1;
  return colons === 1 ? h.slice(0, h.indexOf(":")) : h;
}

/** `localhost` or a loopback IP literal. Suffixes such as `.ts.net` never count (reference C05). */
export function isLoopbackHostHeader(host: string | null): boolean {
  if (!host) return false;
  const name = hostName(host);
  return name === "localhost" || isLoopbackIp(name);
}

/** Resolves the client address and whether the connection is direct-local. */
export function resolveLocality(facts: TransportFacts, trustedProxies: readonly string[]): Locality {
  const trace: RuleId[] = [];
  const browserOrigin = typeof facts.origin === "string" && facts.origin.trim() !== "";
  const origin = shownOrigin(facts.origin);
  const peer = canonicalIp(facts.peerAddress) ?? facts.peerAddress;
  const peerTrusted = ipInAnyRange(peer, trustedProxies);

  let clientIp: string | null = peer;
  let viaProxy = false;
  if (facts.hasProxyHeaders) {
    if (!peerTrusted) {
      trace.push("proxy-headers-from-untrusted-peer");
      return { clientIp: peer, directLocal: false, browserOrigin, origin, ownOrigin: false, trace };
    }
    viaProxy = true;
    clientIp = walkForwardedFor(facts.forwardedFor, trustedProxies);
    trace.push(clientIp ? "client-ip-from-trusted-proxy" : "client-ip-unattributable");
    if (!clientIp)
      return { clientIp: null, directLocal: false, browserOrigin, origin, ownOrigin: false, trace };
  }

  const clientLoopback = isLoopbackIp(clientIp);
  const hostLoopback = isLoopbackHostHeader(facts.host);
  // A forwarded loopback address only counts when the proxy itself is on this host (reference C04).
  const proxyLocal = !viaProxy || isLoopbackIp(peer);
  trace.push(clientLoopback ? "client-loopback" : "client-not-loopback");
  trace.push(hostLoopback ? "host-loopback" : "host-not-loopback");
  if (!proxyLocal) trace.push("proxy-not-on-this-host");
  const directLocal = clientLoopback && hostLoopback && proxyLocal;
  const ownOrigin = browserOrigin && directLocal && isOwnOrigin(facts.origin, facts.host);
  if (ownOrigin) trace.push("origin-is-gateway-own");
  return { clientIp, directLocal, browserOrigin, origin, ownOrigin, trace };
}

/** Right to left past trusted hops; the first untrusted hop is the client (reference C07). */
export function walkForwardedFor(header: string | null, trustedProxies: readonly string[]): string | null {
  if (!header) return null;
  const hops = header.split(",").map((h) => h.trim());
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = canonicalIp(hops[i] ?? "");
    if (!hop) return null;
    if (!ipInAnyRange(hop, trustedProxies)) return hop;
  }
  return null;
}
