/**
 * The names this gateway answers to, for the Host check on Control UI requests and on browser
 * WebSocket upgrades (DNS-rebinding defence, reference C05): the loopback names with the listening
 * port, every bind address with the port (all interface addresses and the host name for a wildcard
 * bind), and the hosts of `gateway.controlUi.allowedOrigins`. A Host header never adds trust; the
 * policy (src/policy/upgrade.ts) only refuses requests that were meant for some other name.
 */
import { hostname, networkInterfaces } from "node:os";
import { parseHostHeader } from "../policy/upgrade.js";

export interface OwnNameSources {
  /** Addresses listened on (`127.0.0.1`, `::1`, `0.0.0.0`, a custom address). */
  listenHosts: readonly string[];
  /** The bound port. */
  port: number;
  /** `gateway.controlUi.allowedOrigins` (`*` adds no name). */
  allowedOrigins: readonly string[];
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
