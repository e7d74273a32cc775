/** Reads the transport facts of an upgrade request; the policy decides what they mean. */
import type { IncomingMessage } from "node:http";
import type { TransportFacts } from "../policy/locality.js";

const PROXY_HEADERS = ["forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip"];

/** Peer address, Host, Origin and forwarding headers as observed on this request. */
export function transportFacts(req: IncomingMessage): TransportFacts {
  const header = (name: string): string | null => {
    const v = req.headers[name];
    if (Array.isArray(v)) return v.join(",");
    return typeof v === "string" ? v : null;
  };
  return {
    peerAddress: req.socket.remoteAddress ?? "",
    host: header("host"),
    origin: header("origin"),
    forwardedFor: header("x-forwarded-for"),
    hasProxyHeaders:
      PROXY_HEADERS.some((h) => req.headers[h] !== undefined) ||
      Object.keys(req.headers).some((h) => h.startsWith("x-forwarded-")),
  };
}
