/** Who the gateway believes: trusted proxies and browser origins. */
import { ipInRange, parseIp } from "../policy/ip.js";
import type { Check, Finding } from "./types.js";

/** Private ranges that must never be trusted whole: any host in them could then forge its address. */
const PRIVATE_BLOCKS: ReadonlyArray<{ base: string; prefix: number; label: string }> = [
  { base: "10.0.0.0", prefix: 8, label: "10.0.0.0/8" },
  { base: "172.16.0.0", prefix: 12, label: "172.16.0.0/12" },
  { base: "192.168.0.0", prefix: 16, label: "192.168.0.0/16" },
  { base: "fc00::", prefix: 7, label: "fc00::/7" },
];

/** Narrowest prefix still counted as "one proxy or a small proxy subnet". */
const MAX_PREFIX = { 4: 24, 6: 64 } as const;
/** Ranges wider than this are a large part of the address space. */
const HUGE_PREFIX = { 4: 8, 6: 16 } as const;

/** How broad one `trustedProxies` entry is, or null when it is narrow enough (or not a range). */
export function proxyRangeProblem(entry: string): { severity: "error" | "warn"; why: string } | null {
  const [base = "", prefixText] = entry.trim().split("/");
  const ip = parseIp(base);
  if (!ip) return null;
  const bits = ip.family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (!Number.isInteger(prefix)) return null;
  for (const block of PRIVATE_BLOCKS) {
    const blockIp = parseIp(block.base)!;
    if (blockIp.family === ip.family && prefix <= block.prefix && ipInRange(block.base, entry)) {
      return {
        severity: "error",
        why: `it covers all of ${block.label}, so any host there can claim any client address, loopback included`,
      };
    }
  }
  if (prefix < HUGE_PREFIX[ip.family]) {
    return { severity: "error", why: `/${prefix} covers a large part of the address space` };
  }
  if (prefix < MAX_PREFIX[ip.family]) {
    const count = ip.family === 4 ? `${2 ** (32 - prefix)} addresses` : `a /${prefix} network`;
    return {
      severity: "warn",
      why: `it covers ${count}, broader than a /${MAX_PREFIX[ip.family]}: every host in it is believed when it forwards`,
    };
  }
  return null;
}

export const trustedProxiesCheck: Check = {
  id: "trusted-proxies",
  title: "gateway.trustedProxies lists exact proxies, not whole networks",
  run(facts) {
    if (!facts.config.ok) return { skipped: "the config file is invalid" };
    const { gateway, configPath } = facts.config.config;
    const out: Finding[] = [];
    for (const entry of gateway.trustedProxies) {
      const problem = proxyRangeProblem(entry);
      if (!problem) continue;
      out.push({
        id: "trusted-proxies-broad",
        severity: problem.severity,
        subject: entry,
        message: `gateway.trustedProxies entry ${entry} is too broad: ${problem.why}.`,
        fix: `replace ${entry} in ${configPath} with the exact address of each reverse proxy (or its /32, a container network's /24 at most)`,
      });
    }
    return out;
  },
};

export const originsCheck: Check = {
  id: "browser-origins",
  title: "browser origins allowed to open a socket",
  run(facts) {
    if (!facts.config.ok) return { skipped: "the config file is invalid" };
    const { gateway, configPath } = facts.config.config;
    const origins = gateway.controlUi.allowedOrigins;
    if (origins.length === 0) return [];
    if (origins.includes("*")) {
      return [
        {
          id: "origins-wildcard",
          severity: "error",
          subject: "gateway.controlUi.allowedOrigins",
          message:
            'gateway.controlUi.allowedOrigins contains "*": any web page the owner visits can open a socket to the gateway and try the shared secret.',
          fix: `replace "*" in ${configPath} with the exact origin of your Control UI (e.g. https://gateway.example.com)`,
        },
      ];
    }
    return [
      {
        id: "origins-allowed",
        severity: "info",
        subject: "gateway.controlUi.allowedOrigins",
        message: `browser pages from ${origins.join(", ")} may open a socket to the gateway (they still need the shared secret or a paired device).`,
        fix: "keep this list to origins you serve the Control UI from; remove any you do not recognize",
      },
    ];
  },
};
