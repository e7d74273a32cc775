/**
 * Gathering what the policy needs to judge an identity-aware proxy's request: the peer (trusted?
 * loopback? one of this host's own addresses?), the headers it must send, the user it names and
 * the outcome of verifying its signed assertion (the only I/O: the JWKS). Nothing is decided here.
 */
import { networkInterfaces } from "node:os";
import { isLoopbackIp } from "../policy/ip.js";
import type { TransportFacts } from "../policy/locality.js";
import { proxyPeerFacts, type AssertionCheck, type ProxyFacts } from "../policy/trusted-proxy.js";
import type { AssertionVerifier } from "./proxy-assertion.js";
import type { GatewayAuth, TrustedProxyAuth } from "./shared-auth.js";
import type { UpgradeRequestFacts } from "./upgrade-intake.js";

/** This host's addresses other than loopback: a "proxy" connecting from one of them is a local process. */
export function ownNonLoopbackAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) if (!isLoopbackIp(entry.address)) out.push(entry.address);
  }
  return out;
}

/** One header's value as received (repeated headers joined), or undefined. */
function headerValue(req: UpgradeRequestFacts, name: string): string | undefined {
  const v = req.headers[name];
  if (Array.isArray(v)) return v.join(",");
  return typeof v === "string" ? v : undefined;
}

const blank = (v: string | undefined) => v === undefined || v.trim() === "";

/** The proxy facts of one upgrade request, for auth settings in trusted-proxy mode. */
export async function gatherProxyFacts(
  req: UpgradeRequestFacts,
  transport: TransportFacts,
  auth: GatewayAuth & { trustedProxy: TrustedProxyAuth },
  trustedProxies: readonly string[],
  verifier: AssertionVerifier,
  ownAddresses: () => readonly string[] = ownNonLoopbackAddresses,
): Promise<ProxyFacts> {
  const tp = auth.trustedProxy;
  const user = tp.userHeader === undefined ? undefined : headerValue(req, tp.userHeader);
  const token = tp.assertion === undefined ? undefined : headerValue(req, tp.assertion.header);
  const identityHeaders = user !== undefined || token !== undefined;
  const peer = proxyPeerFacts(transport, trustedProxies, ownAddresses());
  // The JWKS is only fetched for a request from a trusted peer: anyone else is refused whatever
  // their token says, and must not be able to make the gateway fetch keys.
  let assertion: AssertionCheck = { kind: "not-configured" };
  if (tp.assertion !== undefined) {
    assertion = peer.peerTrusted ? await verifier.verify(token, tp.assertion) : { kind: "missing" };
  }
  return {
    ...peer,
    identityHeaders,
    missingHeaders: tp.requiredHeaders.filter((h) => blank(headerValue(req, h))),
    userHeader: blank(user) ? null : user!.trim(),
    userHeaderConfigured: tp.userHeader !== undefined,
    assertion,
    config: {
      allowLoopback: tp.allowLoopback,
      allowUsers: tp.allowUsers,
      identityScopes: auth.identityScopes ?? {},
      deviceAutoApprove: tp.deviceAutoApprove,
    },
  };
}
