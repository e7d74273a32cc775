/** The failed-credential limiter: lockout, window, IPv4-mapped folding, bounded memory (C17). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_RATE_LIMIT, RateLimiter } from "../../src/gateway/rate-limit.js";

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("RateLimiter", () => {
  it("defaults to OpenClaw's: 10 failures a minute lock out for 5 minutes, 10,000 keys", () => {
    assert.deepEqual(
      { ...DEFAULT_RATE_LIMIT },
      { maxFailures: 10, windowMs: 60_000, lockoutMs: 300_000, maxKeys: 10_000 },
    );
  });

  it("locks out after N failures in the window, says when to come back, and lets go after the lockout", () => {
    const c = clock();
    const rl = new RateLimiter({ maxFailures: 3, windowMs: 60_000, lockoutMs: 120_000 }, c.now);
    assert.deepEqual(rl.fail("203.0.113.7", "setup-code"), { ok: true });
    assert.deepEqual(rl.fail("203.0.113.7", "setup-code"), { ok: true });
    assert.deepEqual(rl.check("203.0.113.7", "setup-code"), { ok: true });
    assert.deepEqual(rl.fail("203.0.113.7", "setup-code"), { ok: false, retryAfterMs: 120_000 });
    c.advance(30_000);
    assert.deepEqual(rl.check("203.0.113.7", "setup-code"), { ok: false, retryAfterMs: 90_000 });
    // More failures while locked do not extend the lockout.
    rl.fail("203.0.113.7", "setup-code");
    assert.deepEqual(rl.check("203.0.113.7", "setup-code"), { ok: false, retryAfterMs: 90_000 });
    c.advance(90_000);
    assert.deepEqual(rl.check("203.0.113.7", "setup-code"), { ok: true });
    // A fresh budget afterwards.
    assert.deepEqual(rl.fail("203.0.113.7", "setup-code"), { ok: true });
  });

  it("failures spread wider than the window never lock out", () => {
    const c = clock();
    const rl = new RateLimiter({ maxFailures: 3, windowMs: 10_000, lockoutMs: 60_000 }, c.now);
    for (let i = 0; i < 20; i++) {
      assert.deepEqual(rl.fail("198.51.100.1", "setup-code"), { ok: true }, `failure ${i}`);
      c.advance(i % 2 === 0 ? 4_000 : 7_000);
    }
    assert.deepEqual(rl.check("198.51.100.1", "setup-code"), { ok: true });
  });

  it("an IPv4 client and its IPv4-mapped IPv6 spelling share one budget (GHSA-5847-rm3g-23mw)", () => {
    const rl = new RateLimiter({ maxFailures: 4, windowMs: 60_000, lockoutMs: 60_000 }, clock().now);
    rl.fail("1.2.3.4", "setup-code");
    rl.fail("::ffff:1.2.3.4", "setup-code");
    rl.fail("::FFFF:0102:0304", "setup-code");
    assert.equal(rl.fail("[::ffff:1.2.3.4]", "setup-code").ok, false);
    assert.equal(rl.check("1.2.3.4", "setup-code").ok, false);
    assert.equal(rl.size, 1);
  });

  it("budgets are per address and per credential kind; a success clears only its own", () => {
    const rl = new RateLimiter({ maxFailures: 2, windowMs: 60_000, lockoutMs: 60_000 }, clock().now);
    rl.fail("10.0.0.1", "setup-code");
    rl.fail("10.0.0.1", "setup-code");
    assert.equal(rl.check("10.0.0.1", "setup-code").ok, false);
    assert.equal(rl.check("10.0.0.2", "setup-code").ok, true);
    assert.equal(rl.check("10.0.0.1", "device-token").ok, true);
    rl.fail("10.0.0.2", "setup-code");
    rl.succeed("10.0.0.2", "setup-code");
    assert.equal(rl.fail("10.0.0.2", "setup-code").ok, true, "the success reset the count");
    // No loopback exemption.
    rl.fail("127.0.0.1", "setup-code");
    assert.equal(rl.fail("127.0.0.1", "setup-code").ok, false);
  });

  it("memory is bounded: at most maxKeys entries, the least recently touched evicted", () => {
    const rl = new RateLimiter(
      { maxFailures: 2, windowMs: 60_000, lockoutMs: 60_000, maxKeys: 100 },
      clock().now,
    );
    rl.fail("192.0.2.1", "setup-code");
    rl.fail("192.0.2.1", "setup-code");
    for (let i = 0; i < 99; i++) rl.fail(`10.1.${i >> 8}.${i & 255}`, "setup-code");
    // The first key was touched longest ago, but re-touching it keeps it.
    assert.equal(rl.size, 100);
    rl.fail("192.0.2.1", "setup-code");
    for (let i = 0; i < 5000; i++) rl.fail(`10.2.${i >> 8}.${i & 255}`, "setup-code");
    assert.equal(rl.size, 100);
    assert.equal(rl.check("192.0.2.1", "setup-code").ok, true, "evicted after 5000 newer keys");
  });

  it("a default limiter stays at 10,000 keys under a flood of distinct addresses", () => {
    const rl = new RateLimiter({}, clock().now);
    for (let i = 0; i < 12_000; i++) rl.fail(`fd00::${i.toString(16)}`, "setup-code");
    assert.equal(rl.size, 10_000);
  });
});
