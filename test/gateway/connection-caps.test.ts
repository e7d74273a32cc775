/** C17/C18: socket caps per address and in total; IPv4-mapped IPv6 counts as the same client. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConnectionCaps } from "../../src/gateway/connection-caps.js";

describe("connection caps", () => {
  it("refuses past the per-address cap, and a mapped IPv6 spelling of the same address does not get a second share", () => {
    const caps = new ConnectionCaps({ maxConnections: 100, maxConnectionsPerIp: 2 });
    assert.ok(caps.acquire("203.0.113.5").ok);
    assert.ok(caps.acquire("::ffff:203.0.113.5").ok);
    assert.deepEqual(caps.acquire("203.0.113.5"), { ok: false, reason: "per-ip" });
    assert.deepEqual(caps.acquire("::ffff:203.0.113.5"), { ok: false, reason: "per-ip" });
    assert.ok(caps.acquire("203.0.113.6").ok, "another address is unaffected");
  });

  it("refuses past the total cap; releasing frees the slot exactly once", () => {
    const caps = new ConnectionCaps({ maxConnections: 2, maxConnectionsPerIp: 10 });
    const a = caps.acquire("198.51.100.1");
    const b = caps.acquire("198.51.100.2");
    assert.ok(a.ok && b.ok);
    assert.deepEqual(caps.acquire("198.51.100.3"), { ok: false, reason: "total" });
    a.release();
    a.release();
    assert.deepEqual(caps.counts(), { total: 1, addresses: 1 });
    assert.ok(caps.acquire("198.51.100.3").ok);
    assert.deepEqual(
      caps.acquire("198.51.100.4"),
      { ok: false, reason: "total" },
      "a double release freed nothing extra",
    );
  });

  it("forgets addresses with no open socket (memory bounded by open sockets)", () => {
    const caps = new ConnectionCaps({ maxConnections: 10_000, maxConnectionsPerIp: 1 });
    for (let i = 0; i < 1000; i++) {
      const r = caps.acquire(`10.0.${i >> 8}.${i & 255}`);
      assert.ok(r.ok);
      r.release();
    }
    assert.deepEqual(caps.counts(), { total: 0, addresses: 0 });
  });
});

describe("connection caps at the upgrade", () => {
  it("C17: a third socket from one address is refused with HTTP 429 before the upgrade; closing one frees a slot", async () => {
    const { startTestGateway } = await import("../helpers/gateway.js");
    const { openPeer } = await import("../helpers/raw-client.js");
    const gw = await startTestGateway({ limits: { maxConnectionsPerIp: 2 } });
    try {
      const a = await openPeer(gw.url);
      const b = await openPeer(gw.url);
      await assert.rejects(openPeer(gw.url), /upgrade refused: HTTP 429/);
      a.ws.close();
      await a.closed;
      const c = await openPeer(gw.url);
      b.ws.close();
      c.ws.close();
    } finally {
      await gw.stop();
    }
  });
});
