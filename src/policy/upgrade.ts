/**
 * The WebSocket upgrade's verdict, taken before HTTP 101 and before any credential is read: a
 * browser (an Origin header) may only open a socket from an allowed origin (C02) and to one of the
 * gateway's own names (DNS rebinding, C05). A client without an Origin is not a browser page and
 * passes; the connect decision judges it. Host and Origin can only refuse here, never add trust.
 */
import { isLoopbackIp, parseIp } from "./ip.js";
import { isOwnOrigin, normalizeOrigin } from "./locality.js";
import type { RuleId } from "./rules.js";

/** What the verdict is taken from: headers as received, the peer's class, and the gateway's names. */
export interface UpgradeFacts {
  origin: string | null;
  host: string | null;
  /** The socket peer is a loopback address (only then may the Host vouch for an own origin). */
  peerLoopback: boolean;
  /** `gateway.controlUi.allowedOrigins`. */
  allowedOrigins: readonly string[];
  /** `name:port` strings the gateway answers to (see gateway/own-names.ts). */
  ownNames: ReadonlySet<string>;
}

export type UpgradeRefusal = "CONTROL_UI_ORIGIN_NOT_ALLOWED" | "HOST_NOT_ALLOWED";

export type UpgradeVerdict =
  { ok: true; trace: RuleId[] } | { ok: false; status: 403 | 421; code: UpgradeRefusal; trace: RuleId[] };

/** A parsed Host header: normalized host name (IPv6 in brackets) and port (null when absent). */
export interface HostParts {
  name: string;
  port: number | null;
}

const HOST_RE = /^(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::(\d{1,5}))?$/i;

/** Parses a Host header strictly (no userinfo, path or spaces); null when it is not a plain host[:port]. */
export function parseHostHeader(host: string | null | undefined): HostParts | null {
  if (typeof host !== "string") return null;
  const m = HOST_RE.exec(host.trim());
  if (!m) return null;
  let name: string;
  try {
    // The WHATWG parser normalizes case, IPv6 spelling and numeric IPv4 forms the way browsers do.
    name = new URL(`http://${m[1]}`).hostname;
  } catch {
    return null;
  }
  const port = m[2] === undefined ? null : Number(m[2]);
  if (port !== null && (port < 1 || port > 65535)) return null;
  return { name, port };
}

/**
 * True when `host` names this gateway. A Host without a port (browsers omit default ports) matches
 * a name on port 80 or 443.
 */
export function isOwnHost(host: string | null | undefined, names: ReadonlySet<string>): boolean {
  const parsed = parseHostHeader(host);
  if (!parsed) return false;
  if (parsed.port !== null) return names.has(`${parsed.name}:${parsed.port}`);
  return names.has(`${parsed.name}:80`) || names.has(`${parsed.name}:443`);
}

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

/**
 * True when the Origin is one of the gateway's own addresses — an IP literal it listens on, with
 * its port — and the socket is addressed to that same host and port: the page the gateway itself
 * serves there (e.g. its LAN address; loopback has its own rule). Only IP literals count: a name (the host name, a name from
 * allowedOrigins) can be re-pointed by whoever answers for it (DNS rebinding), an address cannot.
 */
export function isGatewayAddressOrigin(
  origin: string,
  host: string | null,
  ownNames: ReadonlySet<string>,
): boolean {
  const normalized = normalizeOrigin(origin);
  const target = parseHostHeader(host);
  if (!normalized || !target) return false;
  const u = new URL(normalized);
  const port = u.port ? Number(u.port) : u.protocol === "https:" ? 443 : 80;
  const name = u.hostname;
  const bare = name.startsWith("[") ? name.slice(1, -1) : name;
  // Loopback origins have their own rule, which also asks for a loopback peer.
  if (parseIp(bare) === null || isLoopbackIp(bare)) return false;
  if (target.name !== name || (target.port ?? (u.protocol === "https:" ? 443 : 80)) !== port) return false;
  return ownNames.has(`${name}:${port}`);
}

/** Whether this upgrade may proceed; pure. */
export function upgradeVerdict(f: UpgradeFacts): UpgradeVerdict {
  if (f.origin === null) return { ok: true, trace: [] };
  if (isGatewayAddressOrigin(f.origin, f.host, f.ownNames)) {
    return { ok: true, trace: ["origin-is-gateway-address"] };
  }
  if (!isOriginAllowed(f.origin, f.host, f.allowedOrigins, f.peerLoopback)) {
    return { ok: false, status: 403, code: "CONTROL_UI_ORIGIN_NOT_ALLOWED", trace: ["origin-not-allowed"] };
  }
  // A browser's socket must also be addressed to one of the gateway's own names (DNS rebinding).
  if (!isOwnHost(f.host, f.ownNames)) {
    return { ok: false, status: 421, code: "HOST_NOT_ALLOWED", trace: ["host-not-gateway-name"] };
  }
  return { ok: true, trace: [] };
}
