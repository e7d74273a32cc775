/**
 * Failed-credential rate limiting (C17): per canonical client address and credential kind, N
 * failures within a window lock that pair out for a while. IPv4-mapped IPv6 (`::ffff:1.2.3.4`)
 * folds to its IPv4 form, so one client cannot double its budget by switching spellings. Memory is
 * bounded: at most `maxKeys` entries, the least recently touched evicted first.
 *
 * No loopback exemption: a tunnel or a co-resident process looks like loopback too (S29).
 */
import { canonicalIp } from "../policy/ip.js";

export interface RateLimitOptions {
  /** Failures within `windowMs` that trigger a lockout. */
  maxFailures: number;
  /** The window failures are counted in, from the first one. */
  windowMs: number;
  /** How long a locked-out key is refused. */
  lockoutMs: number;
  /** Most keys kept at once (least recently used evicted). */
  maxKeys: number;
}

/** OpenClaw's `gateway.auth.rateLimit` defaults: 10 failures a minute lock out for 5 minutes. */
export const DEFAULT_RATE_LIMIT: Readonly<RateLimitOptions> = Object.freeze({
  maxFailures: 10,
  windowMs: 60_000,
  lockoutMs: 300_000,
  maxKeys: 10_000,
});

/** The credential a failure was about; each has its own budget. */
export type CredentialKind = "setup-code" | "shared-secret" | "device-token" | "runtime-token";

export type RateLimitVerdict = { ok: true } | { ok: false; retryAfterMs: number };

interface Entry {
  failures: number;
  windowStartMs: number;
  lockedUntilMs: number;
}

/** One limiter; keep one per gateway and share it across connections. */
export class RateLimiter {
  readonly #options: RateLimitOptions;
  readonly #now: () => number;
  /** Insertion order is recency order: a touched key is re-inserted at the end. */
  readonly #entries = new Map<string, Entry>();

  constructor(options: Partial<RateLimitOptions> = {}, now: () => number = Date.now) {
    this.#options = { ...DEFAULT_RATE_LIMIT, ...options };
    if (this.#options.maxFailures < 1 || this.#options.maxKeys < 1) {
      throw new RangeError("maxFailures and maxKeys must be at least 1");
    }
    this.#now = now;
  }

  /** The key a client address and credential kind count under. */
  static key(address: string | null, kind: CredentialKind): string {
    const ip = address === null || address === "" ? "unknown" : (canonicalIp(address) ?? address.trim());
    return `${kind}|${ip}`;
  }

  /** Whether this address may try this credential now; locked out: when it may again. */
  check(address: string | null, kind: CredentialKind): RateLimitVerdict {
    const entry = this.#entries.get(RateLimiter.key(address, kind));
    if (!entry) return { ok: true };
    const now = this.#now();
    if (entry.lockedUntilMs > now) return { ok: false, retryAfterMs: entry.lockedUntilMs - now };
    return { ok: true };
  }

  /**
   * Records one failure; returns the verdict for the next try (locked once the budget is spent).
   */
  fail(address: string | null, kind: CredentialKind): RateLimitVerdict {
    const key = RateLimiter.key(address, kind);
    const now = this.#now();
    const { windowMs, lockoutMs, maxFailures } = this.#options;
    let entry = this.#entries.get(key);
    if (entry) this.#entries.delete(key);
    if (!entry || (entry.lockedUntilMs <= now && now - entry.windowStartMs >= windowMs)) {
      entry = { failures: 0, windowStartMs: now, lockedUntilMs: 0 };
    }
    entry.failures += 1;
    if (entry.failures >= maxFailures && entry.lockedUntilMs <= now) {
      entry.lockedUntilMs = now + lockoutMs;
    }
    this.#entries.set(key, entry);
    this.#evict();
    return entry.lockedUntilMs > now ? { ok: false, retryAfterMs: entry.lockedUntilMs - now } : { ok: true };
  }

  /** A success clears the address's failures for that credential. */
  succeed(address: string | null, kind: CredentialKind): void {
    this.#entries.delete(RateLimiter.key(address, kind));
  }

  /** Keys currently tracked. */
  get size(): number {
    return this.#entries.size;
  }

  /** Least recently touched first; an attacker needs that many distinct addresses to push one out. */
  #evict(): void {
    for (const key of this.#entries.keys()) {
      if (this.#entries.size <= this.#options.maxKeys) return;
      this.#entries.delete(key);
    }
  }
}
