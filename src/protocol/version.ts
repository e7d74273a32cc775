/**
 * The protocol version Gatehouse speaks (OpenClaw gateway protocol 4), offered as both
 * `minProtocol` and `maxProtocol` by its clients.
 *
 * @example
 * ```ts
 * import { PROTOCOL_VERSION } from "gatehouse-gateway/protocol";
 *
 * console.log(PROTOCOL_VERSION); // 4
 * ```
 */
export const PROTOCOL_VERSION = 4;
export const MIN_CLIENT_PROTOCOL_VERSION = 4;
/** Node hosts may still speak protocol 3 ("legacy node protocol"). */
export const MIN_NODE_PROTOCOL_VERSION = 3;
/** Probes only need to understand the handshake, which 3 and 4 share. */
export const MIN_PROBE_PROTOCOL_VERSION = 3;

export interface ProtocolOffer {
  minProtocol: number;
  maxProtocol: number;
  role: string;
  mode: string;
}

export type Negotiation =
  | { ok: true; protocol: number; legacyNode: boolean }
  | {
      ok: false;
      details: {
        clientMinProtocol: number;
        clientMaxProtocol: number;
        expectedProtocol: number;
        minimumProbeProtocol: number;
      };
    };

/** Decides whether a client's [min, max] protocol range can talk to this server. */
export function negotiateProtocol(offer: ProtocolOffer): Negotiation {
  const { minProtocol, maxProtocol, role, mode } = offer;
  if (minProtocol <= PROTOCOL_VERSION && PROTOCOL_VERSION <= maxProtocol) {
    return { ok: true, protocol: PROTOCOL_VERSION, legacyNode: false };
  }
  if (mode === "probe" && maxProtocol >= MIN_PROBE_PROTOCOL_VERSION && minProtocol <= PROTOCOL_VERSION) {
    return { ok: true, protocol: PROTOCOL_VERSION, legacyNode: false };
  }
  if (
    role === "node" &&
    mode === "node" &&
    maxProtocol >= MIN_NODE_PROTOCOL_VERSION &&
    minProtocol <= MIN_NODE_PROTOCOL_VERSION
  ) {
    return { ok: true, protocol: PROTOCOL_VERSION, legacyNode: true };
  }
  return {
    ok: false,
    details: {
      clientMinProtocol: minProtocol,
      clientMaxProtocol: maxProtocol,
      expectedProtocol: PROTOCOL_VERSION,
      minimumProbeProtocol: MIN_PROBE_PROTOCOL_VERSION,
    },
  };
}
