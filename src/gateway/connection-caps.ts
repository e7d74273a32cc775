/**
 * Caps on open sockets, in total and per client address, counted from the upgrade (pre-auth
 * sockets included) so a flood of silent clients cannot crowd out the owner. IPv4-mapped IPv6 is
 * folded so one client cannot double its share (C17).
 */
import { canonicalIp } from "../policy/ip.js";

export interface CapLimits {
  maxConnections: number;
  maxConnectionsPerIp: number;
}

export type CapDecision = { ok: true; release: () => void } | { ok: false; reason: "total" | "per-ip" };

/** Counts sockets by address; memory is bounded by the number of open sockets. */
export class ConnectionCaps {
  private total = 0;
  private readonly byIp = new Map<string, number>();

  constructor(private readonly limits: CapLimits) {}

  /** Reserves a slot for a socket from `address`; call `release` exactly once when it closes. */
  acquire(address: string): CapDecision {
    const key = canonicalIp(address) ?? address;
    const mine = this.byIp.get(key) ?? 0;
    if (this.total >= this.limits.maxConnections) return { ok: false, reason: "total" };
    if (mine >= this.limits.maxConnectionsPerIp) return { ok: false, reason: "per-ip" };
    this.total++;
    this.byIp.set(key, mine + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.total--;
        const n = (this.byIp.get(key) ?? 1) - 1;
        if (n <= 0) this.byIp.delete(key);
        else this.byIp.set(key, n);
      },
    };
  }

  /** Open sockets now: in total and for how many distinct addresses. */
  counts(): { total: number; addresses: number } {
    return { total: this.total, addresses: this.byIp.size };
  }
}
