/** Reads the transport facts of an upgrade request; the policy decides what they mean. */
import type { TransportFacts } from "../policy/locality.js";
import type { UpgradeRequestFacts } from "./upgrade-intake.js";

/** Headers that say a proxy forwarded the request, besides every `x-forwarded-*`. */
const PROXY_HEADERS: ReadonlySet<string> = new Set(["forwarded", "x-real-ip"]);

/** Peer address, Host, Origin and forwarding headers as observed on this request. */
export function transportFacts(req: UpgradeRequestFacts): TransportFacts {
  const headers = req.headers;
  return {
    peerAddress: req.socket.remoteAddress ?? "",
    host: header(headers, "host"),
    origin: header(headers, "origin"),
    forwardedFor: header(headers, "x-forwarded-for"),
    hasProxyHeaders: hasProxyHeader(headers),
  };
}

function header(headers: UpgradeRequestFacts["headers"], name: string): string | null {
  const v = headers[name];
  if (Array.isArray(v)) return v.join(",");
  return typeof v === "string" ? v : null;
}

// One pass over the names the request has (a handful), not a list of names looked up and then
// every name copied into an array to look for the prefix: this runs on every upgrade.
function hasProxyHeader(headers: UpgradeRequestFacts["headers"]): boolean {
  for (const name in headers) {
    if (PROXY_HEADERS.has(name) || name.startsWith("x-forwarded-")) return true;
  }
  return false;
}
