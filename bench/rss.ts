/**
 * A process's resident memory as a user sees it: read at a moment (`rssBytes`), and once it has
 * settled (`settledRss`). V8 sizes its young generation to the allocations it has just seen and
 * leaves old-space garbage until a major GC; when a process goes quiet, V8's memory reducer runs
 * a few memory-reducing GCs — the first one 8 s after the heap last grew (V8's `kLongDelayMs`) —
 * and gives that memory back. A reading 1 s after a start or right after a burst of handshakes
 * sees the transient; `top` a little later sees the settled figure.
 */
import { readFileSync } from "node:fs";

function statusKb(pid: number, field: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** VmRSS of `pid` now, in bytes. */
export const rssBytes = (pid: number): number => statusKb(pid, "VmRSS");

/** VmHWM of `pid` (the highest RSS it has had), in bytes. */
export const peakRssBytes = (pid: number): number => statusKb(pid, "VmHWM");

/** How `settledRss` polls; the defaults are what the benches use. */
export interface SettleOptions {
  /** Poll interval (ms). */
  everyMs?: number;
  /**
   * Settled once RSS has not fallen for this long (ms). Longer than the memory reducer's 8 s
   * delay: a process can sit flat for 8 s and then drop by several MB, so a shorter window would
   * take the transient for the steady figure.
   */
  quietMs?: number;
  /** Give up waiting after this long (ms) and return the last reading. */
  capMs?: number;
}

/** A settled reading: the RSS, how long the wait took, and whether it hit the cap. */
export interface SettledRss {
  rss: number;
  waitedMs: number;
  capped: boolean;
}

/** The method, in words, for a bench's "how" text. */
export function settleMethod(o: SettleOptions = {}): string {
  const { everyMs, quietMs, capMs } = withDefaults(o);
  return `VmRSS polled every ${everyMs} ms until it had not fallen for ${quietMs / 1000} s (cap ${capMs / 1000} s)`;
}

function withDefaults(o: SettleOptions): Required<SettleOptions> {
  return { everyMs: o.everyMs ?? 250, quietMs: o.quietMs ?? 10_000, capMs: o.capMs ?? 30_000 };
}

/** Where `settleReadings` reads and waits: `/proc` and the real clock, or a test's. */
export interface Sampler {
  read(): number;
  now(): number;
  sleep(ms: number): Promise<void>;
}

/**
 * Polls VmRSS of `pid` until it has not fallen (by a page or more) for `quietMs`, or `capMs` has
 * passed; resolves with the last reading. It only reads `/proc`: the process is not signalled or
 * asked to collect garbage, so the figure is what the process does on its own.
 */
export function settledRss(pid: number, options: SettleOptions = {}): Promise<SettledRss> {
  return settleReadings(
    {
      read: () => rssBytes(pid),
      now: Date.now,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    },
    options,
  );
}

/** `settledRss` over any sampler. */
export async function settleReadings(sampler: Sampler, options: SettleOptions = {}): Promise<SettledRss> {
  const { everyMs, quietMs, capMs } = withDefaults(options);
  const t0 = sampler.now();
  let low = sampler.read();
  let lastFall = t0;
  let rss = low;
  for (;;) {
    await sampler.sleep(everyMs);
    rss = sampler.read();
    const now = sampler.now();
    if (rss < low) {
      low = rss;
      lastFall = now;
    }
    if (now - lastFall >= quietMs) return { rss, waitedMs: now - t0, capped: false };
    if (now - t0 >= capMs) return { rss, waitedMs: now - t0, capped: true };
  }
}
