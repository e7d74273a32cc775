/**
 * The names this gateway answers to, for the Host check on Control UI requests and on browser
 * WebSocket upgrades (DNS-rebinding defence, reference C05): the loopback names with the listening
 * port, every bind address with the port (all interface addresses and the host name for a wildcard
 * bind), and the hosts of `gateway.controlUi.allowedOrigins`. A Host header never adds trust; this
 * only refuses requests that were meant for some other name.
 */
import { hostname, networkInterfaces } from "node:os";

export interface OwnNameSources {
  /** Addresses listened on (`127.0.0.1`, `::1`, `0.0.0.0`, a custom address). */
  listenHosts: readonly string[];
  /** The bound port. */
  port: number;
  /** `gateway.controlUi.allowedOrigins` (`*` adds no name). */
  allowedOrigins: readonly string[];
}

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

function bracket(address: string): string {
  return address.includes(":") && !address.startsWith("[") ? `[${address}]` : address;
}

/** `name:port` strings this gateway answers to right now. */
export function ownHostNames(sources: OwnNameSources): Set<string> {
  const names = new Set<string>();
  const add = (name: string, port: number) => {
    const parsed = parseHostHeader(`${bracket(name)}:${port}`);
    if (parsed) names.add(`${parsed.name}:${port}`);
  };
  for (const loopback of ["localhost", "127.0.0.1", "::1"]) add(loopback, sources.port);
  for (const host of sources.listenHosts) {
    if (host === "0.0.0.0" || host === "::") {
      for (const list of Object.values(networkInterfaces())) {
        for (const info of list ?? []) add(info.address.split("%")[0]!, sources.port);
      }
      add(hostname(), sources.port);
    } else {
      add(host, sources.port);
    }
  }
  for (const origin of sources.allowedOrigins) {
    if (origin === "*") continue;
    try {
      const u = new URL(origin);
      add(u.hostname, u.port ? Number(u.port) : u.protocol === "https:" ? 443 : 80);
    } catch {
      // Config validation reports bad origins; here they simply add no name.
    }
  }
  return names;
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
