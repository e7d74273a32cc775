/** Frame size limits, the handshake timer, ticks, shutdown and the Origin check at upgrade. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startTestGateway, TEST_TOKEN } from "../helpers/gateway.js";
import { call, openPeer, sendConnect, upgradeStatus } from "../helpers/raw-client.js";

const auth = { token: TEST_TOKEN };

describe("payload limits", () => {
  it("closes 1009 on a pre-auth frame over 64 KiB", async () => {
    const gw = await startTestGateway();
    try {
      const peer = await openPeer(gw.url);
      peer.send("x".repeat(64 * 1024 + 1));
      assert.equal((await peer.closed).code, 1009);
    } finally {
      await gw.stop();
    }
  });

  it("a pre-auth frame of exactly 64 KiB is read (and refused for its content, not its size)", async () => {
    const gw = await startTestGateway();
    try {
      const peer = await openPeer(gw.url);
      peer.send("x".repeat(64 * 1024));
      assert.deepEqual(await peer.closed, { code: 1008, reason: "invalid request frame" });
    } finally {
      await gw.stop();
    }
  });

  it("after hello a 1 MiB request is served (limit raised to hello-ok.policy.maxPayload)", async () => {
    const gw = await startTestGateway();
    try {
      const peer = await openPeer(gw.url);
      await sendConnect(peer, { auth, scopes: ["operator.read"] });
      const res = await call(peer, "health", { padding: "y".repeat(1024 * 1024) });
      assert.equal(res.ok, true);
      peer.ws.close();
    } finally {
      await gw.stop();
    }
  });
});

describe("handshake timer", () => {
  it("S50: a silent client is closed with 1000 and no reason when the handshake timeout passes", async () => {
    const gw = await startTestGateway({ handshakeTimeoutMs: 300 });
    try {
      const peer = await openPeer(gw.url);
      const started = Date.now();
      assert.deepEqual(await peer.closed, { code: 1000, reason: "" });
      assert.ok(Date.now() - started >= 250, "not before the timeout");
    } finally {
      await gw.stop();
    }
  });

  it("an admitted connection is not closed by the handshake timer", async () => {
    // Long enough to connect on a loaded machine; the wait below outlasts it.
    const gw = await startTestGateway({ handshakeTimeoutMs: 1000 });
    try {
      const peer = await openPeer(gw.url);
      await sendConnect(peer, { auth, scopes: ["operator.read"] });
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal((await call(peer, "health")).ok, true);
      peer.ws.close();
    } finally {
      await gw.stop();
    }
  });
});

describe("events and shutdown", () => {
  it("sends tick events with increasing seq to admitted clients", async () => {
    const gw = await startTestGateway({ tickIntervalMs: 50 });
    try {
      const peer = await openPeer(gw.url);
      await sendConnect(peer, { auth, scopes: ["operator.read"] });
      const a = await peer.next();
      const b = await peer.next();
      assert.equal(a.event, "tick");
      assert.equal(b.event, "tick");
      assert.equal(b.seq, (a.seq ?? -1) + 1);
      peer.ws.close();
    } finally {
      await gw.stop();
    }
  });

  it("on stop, admitted clients get a shutdown event then close 1012; pre-auth clients close 1012", async () => {
    const gw = await startTestGateway();
    const admitted = await openPeer(gw.url);
    await sendConnect(admitted, { auth, scopes: ["operator.read"] });
    const waiting = await openPeer(gw.url);
    await gw.server.stop({ reason: "restart", restartExpectedMs: 1500 });
    const ev = await admitted.next();
    assert.equal(ev.event, "shutdown");
    assert.deepEqual(ev.payload, { reason: "restart", restartExpectedMs: 1500 });
    assert.equal((await admitted.closed).code, 1012);
    assert.equal((await waiting.closed).code, 1012);
  });
});

describe("Origin check before the upgrade", () => {
  it("C02: a page on another origin cannot open the WebSocket (HTTP 403, no 101)", async () => {
    const gw = await startTestGateway();
    try {
      const r = await upgradeStatus(gw.url, { Origin: "https://evil.example" });
      assert.equal(r.status, 403);
      assert.match(r.body, /origin not allowed/);
    } finally {
      await gw.stop();
    }
  });

  it("C02: another local origin (a dev server on another port) is refused too", async () => {
    const gw = await startTestGateway();
    try {
      assert.equal((await upgradeStatus(gw.url, { Origin: "http://localhost:3000" })).status, 403);
    } finally {
      await gw.stop();
    }
  });

  it("the gateway's own origin and listed origins are accepted", async () => {
    const gw = await startTestGateway({ allowedOrigins: ["https://ui.example.com"] });
    try {
      const own = `http://127.0.0.1:${gw.server.port}`;
      assert.equal((await upgradeStatus(gw.url, { Origin: own })).status, 101);
      assert.equal((await upgradeStatus(gw.url, { Origin: "https://ui.example.com" })).status, 101);
      assert.equal((await upgradeStatus(gw.url, { Origin: "https://ui.example.com.evil.net" })).status, 403);
    } finally {
      await gw.stop();
    }
  });

  it("the own-origin rule needs a loopback Host: a rebinding page with Host evil.example is refused", async () => {
    const gw = await startTestGateway();
    try {
      const r = await upgradeStatus(gw.url, {
        Origin: `http://evil.example:${gw.server.port}`,
        Host: `evil.example:${gw.server.port}`,
      });
      assert.equal(r.status, 403);
    } finally {
      await gw.stop();
    }
  });
});

describe("HTTP", () => {
  it("GET /healthz answers JSON", async () => {
    const gw = await startTestGateway();
    try {
      const res = await fetch(`http://127.0.0.1:${gw.server.port}/healthz`);
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { ok: boolean }).ok, true);
    } finally {
      await gw.stop();
    }
  });
});
